// bench/storeIndex: the RocksDB side of storage. Apply rate (dispatch records per second) for
// batches of 32 and 512 over 1000 topics x 8 queues and 1 topic x 8 queues, and the
// consume-queue rebuild rate when replaying 1M dispatches into an empty store (batches of
// 4096), from ready dispatch records and from stored-message records (decode included).
// Apply messages carry a UNIQ_KEY (as producers set it) and --keys KEYS words (default 0);
// rebuilds run three mixes: no index keys, UNIQ_KEY, UNIQ_KEY + one KEYS word. UNIQ_KEYs
// follow Java's layout (one producer: they increase); KEYS words come in --key-order random
// (default, the worst case for RocksDB's memtable) or sequential order. Each figure is the
// median of --runs bounded runs (rebuilds: at most 3), each into a fresh database.
// Usage: node dist/bench/storeIndex.js [--runs 5] [--apply 100000] [--rebuild 1000000] [--keys 0]
//        [--key-order random|sequential] [--dir /tmp] [--json]
// bench/store imports applyRate (and the message helpers) to print the apply rate in its own run;
// main() runs only when this file is the program.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeStoredMessage, javaStringHash, setPhysicalOffset, setQueueOffset, setStoreTimestamp } from '../protocol/message/index.js';
import { dispatchFromMessageRecord, type MessageDispatch } from '../storage/index/DispatchRequest.js';
import { IndexStore } from '../storage/index/IndexStore.js';
import { intOption } from './args.js';

export interface Args {
  runs: number;
  apply: number;
  rebuild: number;
  keys: number;
  sequentialKeys: boolean;
  dir: string;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 5, apply: 100_000, rebuild: 1_000_000, keys: 0, sequentialKeys: false, dir: os.tmpdir(), json: false };
  const num = intOption;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--runs') args.runs = num(argv[++i], 1, 50, '--runs');
    else if (a === '--apply') args.apply = num(argv[++i], 1000, 10_000_000, '--apply');
    else if (a === '--rebuild') args.rebuild = num(argv[++i], 1000, 20_000_000, '--rebuild');
    else if (a === '--keys') args.keys = num(argv[++i], 0, 8, '--keys');
    else if (a === '--key-order') {
      const order = argv[++i];
      if (order !== 'random' && order !== 'sequential') throw new Error('--key-order is random or sequential');
      args.sequentialKeys = order === 'sequential';
    } else if (a === '--dir') args.dir = argv[++i] ?? args.dir;
    else throw new Error(`unknown option ${a}; use --runs N --apply N --rebuild N --keys N --key-order random|sequential --dir DIR --json`);
  }
  return args;
}

const HEADER = 48;
const RECORD_BODY = Buffer.alloc(256, 0x61);
export const T0 = 1_700_000_000_000;

export interface Layout {
  topics: string[];
  queues: number;
}

/** Message i of a layout: round robin over topics, then queues, so a batch spreads as wide as it can. */
class MessageSource {
  private readonly next: Int32Array;
  private readonly tags: number[];
  private i = 0;
  private pos = 0;

  constructor(
    private readonly layout: Layout,
    private readonly keys: number,
    private readonly uniq: boolean,
    private readonly sequentialKeys: boolean,
  ) {
    this.next = new Int32Array(layout.topics.length * layout.queues);
    this.tags = ['TagA', 'TagB', 'TagC'].map(javaStringHash);
  }

  dispatch(): MessageDispatch {
    const { topics, queues } = this.layout;
    const i = this.i++;
    const t = i % topics.length;
    const queueId = Math.floor(i / topics.length) % queues;
    const slot = t * queues + queueId;
    const queueOffset = this.next[slot] as number;
    this.next[slot] = queueOffset + 1;
    const pos = this.pos;
    const size = 420;
    this.pos += HEADER + size;
    const keys: string[] = [];
    for (let k = 0; k < this.keys; k++) keys.push(keyWord(this.sequentialKeys ? i * this.keys + k : ((i * this.keys + k) * 7919) % 100_000_007));
    return {
      kind: 'message',
      index: i + 1,
      pos,
      topic: topics[t] as string,
      queueId,
      queueOffset,
      physicalOffset: pos + HEADER,
      size,
      tagsCode: this.tags[i % 3] as number,
      storeTimestamp: T0 + Math.floor(i / 50),
      keys,
      uniqKey: this.uniq ? uniqKeyOf(i) : undefined,
    };
  }
}

/** Java's layout: client ip, pid, class loader, ms in month, counter; increasing for one producer. 32 chars. */
export function uniqKeyOf(i: number): string {
  return `0A0000010F2C12345678${(i >>> 16).toString(16).toUpperCase().padStart(8, '0')}${(i & 0xffff).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A business key of fixed width (15 chars), so stored-record templates can be patched in place. */
export function keyWord(n: number): string {
  return `order-${String(n).padStart(9, '0')}`;
}

export function layoutOf(topicCount: number, queues: number): Layout {
  return { topics: Array.from({ length: topicCount }, (_, i) => (topicCount === 1 ? 'BenchmarkTest' : `BenchTopic-${String(i).padStart(4, '0')}`)), queues };
}

function freshDir(root: string): string {
  return fs.mkdtempSync(path.join(root, 'raftmq-bench-index-'));
}

interface Rate {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

function summarize(rates: number[]): Rate {
  const sorted = [...rates].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] as number, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, runs: rates };
}

/** Dispatch records per second applied in batches of `batch`, into a store already warm with a first slice. */
export async function applyRate(args: Pick<Args, 'dir' | 'apply' | 'keys' | 'sequentialKeys'>, layout: Layout, batch: number): Promise<number> {
  const dir = freshDir(args.dir);
  const store = await IndexStore.open(path.join(dir, 'index-db'));
  try {
    const source = new MessageSource(layout, args.keys, true, args.sequentialKeys);
    const warm = Math.min(20_000, Math.floor(args.apply / 5));
    const make = (n: number): MessageDispatch[][] => {
      const batches: MessageDispatch[][] = [];
      for (let done = 0; done < n; done += batch) {
        const b: MessageDispatch[] = [];
        for (let i = 0; i < batch && done + i < n; i++) b.push(source.dispatch());
        batches.push(b);
      }
      return batches;
    };
    for (const b of make(warm)) await store.apply(b);
    const batches = make(args.apply);
    const start = process.hrtime.bigint();
    for (const b of batches) await store.apply(b);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return args.apply / seconds;
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const REPLAY_BATCH = 4096;

interface Mix {
  uniq: boolean;
  keys: number;
}

/** Consume-queue entries per second replaying `args.rebuild` messages into an empty store. */
async function rebuildRate(args: Args, mix: Mix, fromRecords: boolean): Promise<number> {
  const layout = layoutOf(1, 8);
  const dir = freshDir(args.dir);
  const store = await IndexStore.open(path.join(dir, 'index-db'));
  try {
    const source = new MessageSource(layout, mix.keys, mix.uniq, args.sequentialKeys);
    // Records are built once per slot and patched per message (offsets, time, UNIQ_KEY and
    // KEYS text in place), so they index the same keys as the dispatch-record runs.
    const templates: Buffer[] = [];
    let uniqAt = -1;
    let keysAt = -1;
    if (fromRecords) {
      for (let i = 0; i < REPLAY_BATCH; i++) {
        const props: Record<string, string> = { TAGS: 'TagA', WAIT: 'true' };
        if (mix.uniq) props.UNIQ_KEY = uniqKeyOf(0);
        if (mix.keys > 0) props.KEYS = Array.from({ length: mix.keys }, () => keyWord(0)).join(' ');
        templates.push(
          encodeStoredMessage({
            topic: 'BenchmarkTest', queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: T0,
            bornHost: { address: '10.0.0.2', port: 50000 }, storeHost: { address: '10.0.0.1', port: 10911 },
            body: RECORD_BODY, properties: props,
          }),
        );
      }
      const first = templates[0] as Buffer;
      if (mix.uniq) uniqAt = first.indexOf(`UNIQ_KEY\u0001${uniqKeyOf(0)}`) + 9;
      if (mix.keys > 0) keysAt = first.indexOf(`KEYS\u0001${keyWord(0)}`) + 5;
    }
    let elapsed = 0n;
    const batch: MessageDispatch[] = [];
    for (let done = 0; done < args.rebuild; done += REPLAY_BATCH) {
      const n = Math.min(REPLAY_BATCH, args.rebuild - done);
      batch.length = 0;
      const made: MessageDispatch[] = [];
      for (let i = 0; i < n; i++) made.push(source.dispatch());
      if (fromRecords) {
        // Patch the templates outside the clock; decode them inside it.
        for (let i = 0; i < n; i++) {
          const d = made[i] as MessageDispatch;
          const record = templates[i] as Buffer;
          record.writeInt32BE(d.queueId, 12);
          setQueueOffset(record, 0, d.queueOffset);
          setPhysicalOffset(record, 0, d.physicalOffset);
          setStoreTimestamp(record, 0, d.storeTimestamp);
          if (uniqAt > 0) record.write(d.uniqKey as string, uniqAt, 'latin1');
          if (keysAt > 0) record.write(d.keys.join(' '), keysAt, 'latin1');
        }
      }
      const start = process.hrtime.bigint();
      if (fromRecords) {
        for (let i = 0; i < n; i++) {
          const d = made[i] as MessageDispatch;
          batch.push(dispatchFromMessageRecord(d.index, d.pos, templates[i] as Buffer));
        }
        await store.apply(batch);
      } else await store.apply(made);
      elapsed += process.hrtime.bigint() - start;
      if (fromRecords && done === 0) {
        for (let i = 0; i < n; i++) {
          const [a, b] = [batch[i] as MessageDispatch, made[i] as MessageDispatch];
          if (a.uniqKey !== b.uniqKey || a.keys.join(' ') !== b.keys.join(' ') || a.queueOffset !== b.queueOffset || a.storeTimestamp !== b.storeTimestamp) {
            throw new Error(`patched record ${i} decodes to ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
          }
        }
      }
    }
    let entries = 0;
    for (const q of store.queues()) entries += q.max - q.min;
    if (entries !== args.rebuild) throw new Error(`rebuild left ${entries} consume-queue entries, expected ${args.rebuild}`);
    return args.rebuild / (Number(elapsed) / 1e9);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function repeat(runs: number, one: () => Promise<number>): Promise<Rate> {
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) rates.push(await one());
  return summarize(rates);
}

function fmt(n: number): string {
  return `${Math.round(n / 1000)}k`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const results: Record<string, Rate> = {};
  const report = (name: string, rate: Rate, unit: string): void => {
    results[name] = rate;
    if (!args.json) console.log(`${name.padEnd(52)} ${fmt(rate.median).padStart(6)} ${unit}  (min ${fmt(rate.min)}, max ${fmt(rate.max)}, ${rate.runs.length} runs)`);
  };
  if (!args.json) {
    console.log(`index store: apply runs of ${args.apply} dispatches (UNIQ_KEY + ${args.keys} KEYS words each), rebuilds of ${args.rebuild}, KEYS in ${args.sequentialKeys ? 'sequential' : 'random'} order`);
  }
  for (const [topics, queues] of [[1000, 8], [1, 8]] as const) {
    for (const batch of [32, 512]) {
      const layout = layoutOf(topics, queues);
      report(`apply, batch ${batch}, ${topics} topic(s) x ${queues} queues`, await repeat(args.runs, () => applyRate(args, layout, batch)), 'dispatches/s');
    }
  }
  const rebuildRuns = Math.max(1, Math.min(args.runs, 3));
  const mixes: [string, Mix][] = [
    ['no keys', { uniq: false, keys: 0 }],
    ['UNIQ_KEY', { uniq: true, keys: 0 }],
    ['UNIQ_KEY + 1 KEYS', { uniq: true, keys: 1 }],
  ];
  for (const [label, mix] of mixes) {
    report(`rebuild ${fmt(args.rebuild)}, ${label}, from dispatch records`, await repeat(rebuildRuns, () => rebuildRate(args, mix, false)), 'entries/s');
    report(`rebuild ${fmt(args.rebuild)}, ${label}, from stored records`, await repeat(rebuildRuns, () => rebuildRate(args, mix, true)), 'entries/s');
  }
  if (args.json) console.log(JSON.stringify({ keys: args.keys, apply: args.apply, rebuild: args.rebuild, results }, null, 2));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
