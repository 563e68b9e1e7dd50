// RegisterBrokerBody: the broker's topic configs sent with REGISTER_BROKER, as JSON or in the
// compressed form (zlib of length-prefixed parts; spec §4.12.2).
import zlib from 'node:zlib';
import { parseLenientJson, stringifySorted, JsonSyntaxError } from '../json/lenientJson.js';
import { dataVersionFromJson, type DataVersion } from './DataVersion.js';
import { topicConfigFromJson, type TopicConfig, type TopicFilterType } from './TopicConfig.js';

export interface RegisterBrokerBody {
  dataVersion: DataVersion;
  topicConfigTable: Map<string, TopicConfig>;
  filterServerList: string[];
}

export class BodyError extends Error {
  override readonly name = 'BodyError';
}

/** Limits for a hostile body: an inflated body or a topic count beyond these is refused. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;
const MAX_TOPICS = 1_000_000;

export function decodeRegisterBrokerBody(body: Buffer | undefined, compressed: boolean): RegisterBrokerBody {
  if (!body || body.length === 0) {
    return { dataVersion: { timestamp: 0, counter: 0 }, topicConfigTable: new Map(), filterServerList: [] };
  }
  return compressed ? decodeCompressed(body) : decodeJson(body);
}

function decodeJson(body: Buffer): RegisterBrokerBody {
  let doc: unknown;
  try {
    doc = parseLenientJson(body.toString('utf8'));
  } catch (e) {
    throw new BodyError(`register body is not JSON: ${(e as JsonSyntaxError).message}`);
  }
  const o = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const wrapper = (o.topicConfigSerializeWrapper ?? {}) as Record<string, unknown>;
  const table = new Map<string, TopicConfig>();
  const rawTable = wrapper.topicConfigTable;
  if (rawTable && typeof rawTable === 'object') {
    for (const [name, cfg] of Object.entries(rawTable)) table.set(name, topicConfigFromJson(name, cfg));
  }
  const filters = Array.isArray(o.filterServerList) ? o.filterServerList.map(String) : [];
  return { dataVersion: dataVersionFromJson(wrapper.dataVersion), topicConfigTable: table, filterServerList: filters };
}

function decodeCompressed(body: Buffer): RegisterBrokerBody {
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(body, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (e) {
    throw new BodyError(`compressed register body does not inflate: ${(e as Error).message}`);
  }
  let p = 0;
  const need = (n: number, what: string): void => {
    if (n < 0 || p + n > raw.length) throw new BodyError(`compressed register body is truncated in ${what}`);
  };
  const readInt = (what: string): number => {
    need(4, what);
    const v = raw.readInt32BE(p);
    p += 4;
    return v;
  };
  const readText = (what: string): string => {
    const len = readInt(what);
    need(len, what);
    const s = raw.toString('utf8', p, p + len);
    p += len;
    return s;
  };
  const dataVersion = dataVersionFromJson(parseLenientJson(readText('dataVersion')));
  const count = readInt('topic count');
  if (count < 0 || count > MAX_TOPICS) throw new BodyError(`compressed register body has a bad topic count ${count}`);
  const table = new Map<string, TopicConfig>();
  for (let i = 0; i < count; i++) {
    const cfg = topicConfigFromText(readText('topic config'));
    table.set(cfg.topicName, cfg);
  }
  let filterServerList: string[] = [];
  if (p < raw.length) {
    const list = parseLenientJson(readText('filter server list'));
    filterServerList = Array.isArray(list) ? list.map(String) : [];
  }
  // A 5.x broker appends static-topic mappings here; we do not serve static topics and skip them.
  return { dataVersion, topicConfigTable: table, filterServerList };
}

/** TopicConfig's text form: "name read write perm filterType [attributesJson]". */
function topicConfigFromText(text: string): TopicConfig {
  const parts = text.split(' ');
  if (parts.length < 5) throw new BodyError(`topic config text has ${parts.length} fields, expected 5: "${text}"`);
  const [name, read, write, perm, filter] = parts as [string, string, string, string, string];
  const ints = [read, write, perm].map(Number);
  if (!ints.every((n) => Number.isInteger(n))) throw new BodyError(`topic config text has a bad number: "${text}"`);
  const cfg: TopicConfig = {
    topicName: name,
    readQueueNums: ints[0] as number,
    writeQueueNums: ints[1] as number,
    perm: ints[2] as number,
    topicFilterType: (filter === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG') as TopicFilterType,
    topicSysFlag: 0,
    order: false,
  };
  if (parts.length > 5) {
    const attrs = parseLenientJson(parts.slice(5).join(' '));
    if (attrs && typeof attrs === 'object') {
      cfg.attributes = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, String(v)]));
    }
  }
  return cfg;
}

export function encodeRegisterBrokerBody(b: RegisterBrokerBody, compressed: boolean): Buffer {
  if (!compressed) {
    return Buffer.from(
      stringifySorted({
        filterServerList: b.filterServerList,
        topicConfigSerializeWrapper: { dataVersion: b.dataVersion, topicConfigTable: Object.fromEntries(b.topicConfigTable) },
      }),
      'utf8',
    );
  }
  const parts: Buffer[] = [];
  const text = (s: string): void => {
    const bytes = Buffer.from(s, 'utf8');
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(bytes.length, 0);
    parts.push(len, bytes);
  };
  const int = (n: number): void => {
    const b4 = Buffer.allocUnsafe(4);
    b4.writeInt32BE(n, 0);
    parts.push(b4);
  };
  text(stringifySorted(b.dataVersion));
  int(b.topicConfigTable.size);
  for (const c of b.topicConfigTable.values()) {
    const base = `${c.topicName} ${c.readQueueNums} ${c.writeQueueNums} ${c.perm} ${c.topicFilterType}`;
    text(c.attributes && Object.keys(c.attributes).length > 0 ? `${base} ${stringifySorted(c.attributes)}` : base);
  }
  text(JSON.stringify(b.filterServerList));
  return zlib.deflateSync(Buffer.concat(parts), { level: 9 });
}
