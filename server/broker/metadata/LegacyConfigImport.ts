// Taking over a Java broker's store folder: its config/*.json (topics, subscription groups,
// consumer and delay offsets, in fastjson's dialect with unquoted integer keys) become
// metadata entries of our log, once, on the node that takes writes. What the log already holds
// wins: a topic or group that exists is kept, an offset only moves forward.
import fs from 'node:fs';
import path from 'node:path';
import { subscriptionGroupConfigFromJson, type SubscriptionGroupConfig } from '../../../protocol/body/SubscriptionGroupConfig.js';
import { topicConfigFromJson, type TopicConfig } from '../../../protocol/body/TopicConfig.js';
import { parseLenientJson } from '../../../protocol/json/lenientJson.js';
import type { AppendRecord } from '../commitlog/CommitLog.js';
import { consumerOffsetsRecord, delayOffsetsRecord, subscriptionGroupRecord, topicRecord, type OffsetCommit } from './BrokerMetadata.js';

export interface LegacyConfig {
  topics: TopicConfig[];
  groups: SubscriptionGroupConfig[];
  offsets: OffsetCommit[];
  delayOffsets: Array<[number, number]>;
}

/** Marker written next to the Java files once they were taken over. */
export const IMPORTED_MARKER = 'raftmq-imported';

export class LegacyConfigError extends Error {
  override readonly name = 'LegacyConfigError';
}

function readJson(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (text.trim() === '') return undefined;
  try {
    const v = parseLenientJson(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch (e) {
    throw new LegacyConfigError(`${file}: not fastjson/JSON: ${(e as Error).message}`);
  }
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

function pairs(v: unknown, file: string, what: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [k, off] of Object.entries(obj(v))) {
    const id = Number(k);
    const n = typeof off === 'string' ? Number(off) : off;
    if (!Number.isSafeInteger(id) || id < 0 || typeof n !== 'number' || !Number.isSafeInteger(n)) {
      throw new LegacyConfigError(`${file}: ${what} ${k}: ${JSON.stringify(off)} is not an offset`);
    }
    if (n >= 0) out.push([id, n]);
  }
  return out;
}

/** The Java broker's config folder (<storePathRootDir>/config), or undefined when there is none or it was taken over already. */
export function readLegacyConfig(configDir: string): LegacyConfig | undefined {
  if (!fs.existsSync(configDir) || fs.existsSync(path.join(configDir, IMPORTED_MARKER))) return undefined;
  const topicsFile = path.join(configDir, 'topics.json');
  const groupsFile = path.join(configDir, 'subscriptionGroup.json');
  const offsetsFile = path.join(configDir, 'consumerOffset.json');
  const delayFile = path.join(configDir, 'delayOffset.json');
  const topics = readJson(topicsFile);
  const groups = readJson(groupsFile);
  const offsets = readJson(offsetsFile);
  const delay = readJson(delayFile);
  if (!topics && !groups && !offsets && !delay) return undefined;
  const out: LegacyConfig = { topics: [], groups: [], offsets: [], delayOffsets: [] };
  for (const [name, v] of Object.entries(obj(topics?.topicConfigTable))) out.topics.push(topicConfigFromJson(name, v));
  for (const [name, v] of Object.entries(obj(groups?.subscriptionGroupTable))) {
    const g = subscriptionGroupConfigFromJson(v);
    out.groups.push(g.groupName === '' ? { ...g, groupName: name } : g);
  }
  for (const [key, v] of Object.entries(obj(offsets?.offsetTable))) {
    const at = key.lastIndexOf('@');
    if (at <= 0 || at === key.length - 1) throw new LegacyConfigError(`${offsetsFile}: key ${key} is not topic@group`);
    out.offsets.push({ topic: key.slice(0, at), group: key.slice(at + 1), queues: pairs(v, offsetsFile, key) });
  }
  out.delayOffsets = pairs(delay?.offsetTable, delayFile, 'delay level');
  return out;
}

export interface ImportTarget {
  topicExists(name: string): boolean;
  groupExists(name: string): boolean;
  consumerOffset(group: string, topic: string, queueId: number): number | undefined;
  delayOffset(level: number): number;
}

/** The records that bring what the Java files say into our metadata, leaving newer state alone. */
export function legacyImportRecords(c: LegacyConfig, target: ImportTarget): AppendRecord[] {
  const records: AppendRecord[] = [];
  for (const tc of c.topics) if (!target.topicExists(tc.topicName)) records.push(topicRecord(tc.topicName, tc));
  for (const g of c.groups) if (!target.groupExists(g.groupName)) records.push(subscriptionGroupRecord(g.groupName, g));
  const commits: OffsetCommit[] = [];
  for (const o of c.offsets) {
    const queues = o.queues.filter(([q, off]) => off > (target.consumerOffset(o.group, o.topic, q) ?? -1));
    if (queues.length > 0) commits.push({ ...o, queues });
  }
  for (let i = 0; i < commits.length; i += 1000) records.push(consumerOffsetsRecord(commits.slice(i, i + 1000)));
  const delay = c.delayOffsets.filter(([level, off]) => off > target.delayOffset(level));
  if (delay.length > 0) records.push(delayOffsetsRecord(delay));
  return records;
}

export function markImported(configDir: string): void {
  fs.writeFileSync(path.join(configDir, IMPORTED_MARKER), `taken over by raftmq at ${new Date().toISOString()}\n`);
}
