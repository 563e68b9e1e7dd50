// bench/store: everything issue 3 asks of the store, in one run, on a temp folder of one disk.
//   Appends of 1 KiB entries in groups of 1, 16 and 128: a plain writev + fdatasync loop on the
//   main thread (the baseline), the raw WorkerLogWriter (SYNC_FLUSH with one group in flight and
//   several, ASYNC_FLUSH, both staging modes), and the whole append path of SegmentedLog +
//   WorkerLogWriter (entry headers, chain and body CRCs, index entries, written/durable promises),
//   plus the raw fdatasync rate of the disk and the ratios to the plain loop.
//   Single figures: the RocksDB apply rate (bench/storeIndex's applyRate), the consume-queue
//   rebuild rate (LogIndexer.catchUp over a log of stored-message records, read from the log's
//   files), the pull path's reads (messages per CPU second of EntryReader.copyMessageBodies, 8
//   queues written in batches or interleaved, drifting apart), and recovery time per GiB (SegmentedLog.open of a closed log without a checkpoint,
//   with the page cache warm and, where GNU dd can drop a file's cache, cold).
// Every loop is bounded by a count and a time. Figures are medians of several interleaved runs.
// Usage: node dist/bench/store.js [--quick] [--runs 5] [--ms 300] [--apply 100000]
//        [--rebuild 300000] [--recovery-mib 256] [--dir /path/on/the/disk] [--only TEXT] [--json]
// --quick: 3 runs of 150 ms, 30k apply records, 100k rebuild messages, 64 MiB recovery log.
// --only: just the rows whose name contains TEXT (to profile one, e.g. with node --cpu-prof).
//
// To add a measurement, append a Bench to `benches` below: a name, a unit, the group sizes it
// runs for (none: a single figure) and a Run that gets a fresh folder and returns its figure;
// medians, the tables and --json come for free. Runs that need a large input build it once
// through `fixtures` (outside the clock).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeStoredMessage, setPhysicalOffset } from '../protocol/message/index.js';
import { IndexStore } from '../storage/index/IndexStore.js';
import { LogIndexer } from '../storage/LogIndexer.js';
import { EntryMagic } from '../storage/log/entryCodec.js';
import type { WriteGroup } from '../storage/log/LogWriter.js';
import { SegmentedLog, type AppendEntry } from '../storage/log/SegmentedLog.js';
import { ReadFiles } from '../storage/log/segmentFiles.js';
import { CHECKPOINT_FILE } from '../storage/log/termFiles.js';
import { WorkerLogWriter, type FlushDiskType, type WorkerLogWriterOptions } from '../storage/log/WorkerLogWriter.js';
import { T0, applyRate, keyWord, layoutOf, uniqKeyOf } from './storeIndex.js';
import { intOption } from './args.js';

interface Args {
  runs: number;
  ms: number;
  dir: string;
  json: boolean;
  quick: boolean;
  /** dispatch records per apply-rate run */
  apply: number;
  /** message entries in each rebuild log */
  rebuild: number;
  /** size of the recovery log */
  recoveryMiB: number;
  /** run only the benches whose name contains this (for profiling one row) */
  only: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const args: Args = quick
    ? { runs: 3, ms: 150, dir: os.tmpdir(), json: false, quick, apply: 30_000, rebuild: 100_000, recoveryMiB: 64, only: undefined }
    : { runs: 5, ms: 300, dir: os.tmpdir(), json: false, quick, apply: 100_000, rebuild: 300_000, recoveryMiB: 256, only: undefined };
  const num = intOption;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--quick') continue;
    else if (a === '--runs') args.runs = num(argv[++i], 1, 50, '--runs');
    else if (a === '--ms') args.ms = num(argv[++i], 50, 10_000, '--ms');
    else if (a === '--apply') args.apply = num(argv[++i], 1000, 2_000_000, '--apply');
    else if (a === '--rebuild') args.rebuild = num(argv[++i], 1000, 2_000_000, '--rebuild');
    else if (a === '--recovery-mib') args.recoveryMiB = num(argv[++i], 8, 1024, '--recovery-mib');
    else if (a === '--dir') args.dir = String(argv[++i]);
    else if (a === '--only') args.only = String(argv[++i]).toLowerCase();
    else throw new Error(`unknown option ${a}; use --quick --runs N --ms N --apply N --rebuild N --recovery-mib N --dir PATH --only TEXT --json`);
  }
  return args;
}

const ENTRY = 1024;
const GROUPS = [1, 16, 128] as const;
/** No run appends more than this many entries (1 GiB), however fast the disk. */
const MAX_ENTRIES = 1024 * 1024;
/** Bytes a writer run keeps submitted ahead of the position it waits for. */
const MAX_WINDOW_BYTES = 32 * 1024 * 1024;
/** The log's entry header; a log entry of 1 KiB in the data file has a body of 1024 - 48 bytes. */
const ENTRY_HEADER = 48;
const GIB = 1024 * 1024 * 1024;
/** Heavy single figures (rebuild, recovery) run at most this many times. */
const HEAVY_RUNS = 3;
const quiet = (): void => undefined;

interface Context {
  args: Args;
  /** a fresh, empty folder for one run; removed after it */
  dir: string;
  entry: Buffer;
  /** body of a 1 KiB log entry (1024 bytes with its header) */
  logBody: Buffer;
}

/** One run: its figure in the bench's unit (entries/s, fsync/s, s/GiB, ...). */
type Run = (ctx: Context, group: number) => Promise<number>;

interface Bench {
  name: string;
  /** what the figure counts */
  unit: string;
  /** group sizes to run it for (the append table); a single figure when omitted */
  groups?: readonly number[];
  /** at most this many runs (default --runs) */
  maxRuns?: number;
  run: Run;
}

// ---- the runs ----

/** Raw fdatasync rate: rewrite 4 KiB in place and fdatasync (no size change, so no metadata). */
const rawFsyncOverwrite: Run = async (ctx) => {
  const fd = fs.openSync(path.join(ctx.dir, 'f'), 'w+');
  const block = Buffer.alloc(4096, 1);
  fs.writeSync(fd, block, 0, block.length, 0);
  fs.fdatasyncSync(fd);
  const rate = timed(ctx.args.ms, 100_000, () => {
    fs.writeSync(fd, block, 0, block.length, 0);
    fs.fdatasyncSync(fd);
    return 1;
  });
  fs.closeSync(fd);
  return rate;
};

/** The baseline: writev of the group's entries at the end of one file, then fdatasync, on this thread. */
const plainLoop: Run = async (ctx, g) => {
  const fd = fs.openSync(path.join(ctx.dir, 'log'), 'w+');
  const buffers = new Array<Buffer>(g).fill(ctx.entry);
  let position = 0;
  const rate = timed(ctx.args.ms, MAX_ENTRIES / g, () => {
    fs.writevSync(fd, buffers, position);
    fs.fdatasyncSync(fd);
    position += g * ENTRY;
    return g;
  });
  fs.closeSync(fd);
  return rate;
};

/** WorkerLogWriter: `inFlight` groups submitted ahead of the durable (or written) position. */
function writerRun(options: WorkerLogWriterOptions, inFlight: number, waitFor: 'durable' | 'written'): Run {
  return async (ctx, g) => {
    const writer = new WorkerLogWriter(options);
    const file = path.join(ctx.dir, 'log');
    const buffers = new Array<Buffer>(g).fill(ctx.entry);
    const groupBytes = g * ENTRY;
    const window = Math.max(1, Math.min(inFlight, Math.floor(MAX_WINDOW_BYTES / groupBytes)));
    let end = 0;
    const submit = (): void => {
      const group: WriteGroup = { ops: [{ file, filePosition: end, buffers }], endPosition: end + groupBytes, sync: false };
      writer.submit(group);
      end += groupBytes;
    };
    let wake: (() => void) | null = null;
    let target = 0;
    writer.onProgress((p) => {
      if (wake !== null && p[waitFor] >= target) {
        const w = wake;
        wake = null;
        w();
      }
    });
    const reach = (position: number): Promise<void> | undefined => {
      if (writer.progress()[waitFor] >= position) return undefined;
      target = position;
      return new Promise((resolve) => (wake = resolve));
    };
    // warm up: start the worker and the JIT, outside the clock
    for (let i = 0; i < 16; i++) submit();
    await writer.flush();

    const startPosition = end;
    const maxGroups = Math.max(1, Math.floor(MAX_ENTRIES / g));
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ctx.args.ms) * 1_000_000n;
    let groups = 0;
    while (groups < maxGroups && process.hrtime.bigint() < deadline) {
      while (groups < maxGroups && end - writer.progress()[waitFor] < window * groupBytes) {
        submit();
        groups++;
      }
      await reach(end - (window - 1) * groupBytes);
    }
    await reach(end);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await writer.close();
    return (end - startPosition) / ENTRY / seconds;
  };
}

/** Run `op` until `ms` passed or it returned `maxOps` in total; the rate of what it returned. */
function timed(ms: number, maxOps: number, op: () => number): number {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let n = 0;
  while (n < maxOps && process.hrtime.bigint() < deadline) n += op();
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

/**
 * The whole append path: SegmentedLog.append (positions, 48-byte headers with chain and body CRCs,
 * 32-byte index entries, the unwritten-entry cache) through WorkerLogWriter, as the broker drives
 * it: one promise per append (whenDurable for SYNC_FLUSH, whenWritten for ASYNC_FLUSH, when the
 * broker answers), at most `inFlight` appends unanswered. Entries are 1 KiB in the data file.
 */
function logRun(flushDiskType: FlushDiskType, inFlight: number): Run {
  return async (ctx, g) => {
    const log = await SegmentedLog.open({ dir: path.join(ctx.dir, 'dledger'), writer: new WorkerLogWriter({ flushDiskType }), log: quiet });
    try {
      const sync = flushDiskType === 'SYNC_FLUSH';
      const groupBytes = g * ENTRY;
      const window = Math.max(1, Math.min(inFlight, Math.floor(MAX_WINDOW_BYTES / groupBytes)));
      const append = (): Promise<void> => {
        const entries: AppendEntry[] = new Array(g);
        for (let i = 0; i < g; i++) entries[i] = { magic: EntryMagic.MESSAGE, term: 1, body: ctx.logBody };
        const end = log.append(entries, { sync }).endPosition;
        return sync ? log.whenDurable(end) : log.whenWritten(end);
      };
      // warm up: start the worker and the JIT, outside the clock
      for (let i = 0; i < 16; i++) await append();

      // Appends complete in order: `done` counts them, and pending[done % window] is the oldest
      // unanswered one. Waiting for it lets every answer that came with it be counted first, so
      // the window is refilled in one burst (one wake of the worker), as the writer rows do.
      const pending = new Array<Promise<void>>(window);
      let done = 0;
      const count = (): void => {
        done++;
      };
      const maxGroups = Math.max(1, Math.floor(MAX_ENTRIES / g));
      const start = process.hrtime.bigint();
      const deadline = start + BigInt(ctx.args.ms) * 1_000_000n;
      let groups = 0;
      while (groups < maxGroups && process.hrtime.bigint() < deadline) {
        while (groups < maxGroups && groups - done < window) pending[groups++ % window] = append().then(count);
        await pending[done % window];
      }
      while (done < groups) await pending[done % window];
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      return (groups * g) / seconds;
    } finally {
      await log.close();
    }
  };
}

// ---- large inputs, built once per process (outside every clock) ----

/** Which properties the stored messages carry: UNIQ_KEY as every Java producer sets it, KEYS words. */
interface Mix {
  label: string;
  uniq: boolean;
  keys: number;
}

const REBUILD_MIXES: readonly Mix[] = [
  { label: 'no keys', uniq: false, keys: 0 },
  { label: 'UNIQ_KEY', uniq: true, keys: 0 },
  { label: 'UNIQ_KEY + 1 KEYS', uniq: true, keys: 1 },
];
/** Body of a rebuild message (as bench/storeIndex's stored records). */
const MESSAGE_BODY = Buffer.alloc(256, 0x61);
const QUEUES = 8;

interface MessageLog {
  log: SegmentedLog;
  entries: number;
  bytes: number;
}

interface RecoveryLog {
  dir: string;
  entries: number;
  bytes: number;
}

class Fixtures {
  private root: string | undefined;
  private readonly messageLogs = new Map<string, Promise<MessageLog>>();
  private readonly pullLogs = new Map<PullLayout, Promise<PullLog>>();
  private recovery: Promise<RecoveryLog> | undefined;

  constructor(private readonly parent: string) {}

  private dir(name: string): string {
    this.root ??= fs.mkdtempSync(path.join(this.parent, 'raftmq-bench-fixtures-'));
    return path.join(this.root, name);
  }

  /** A log of `count` stored-message entries, 1 topic x 8 queues, offsets as the broker assigns them. */
  messageLog(count: number, mix: Mix): Promise<MessageLog> {
    let p = this.messageLogs.get(mix.label);
    if (p === undefined) {
      p = buildMessageLog(this.dir(`messages-${this.messageLogs.size}`), count, mix);
      this.messageLogs.set(mix.label, p);
    }
    return p;
  }

  /** A log of PULL_MESSAGES 1 KiB message entries for PULL_QUEUES queues, in batches of 32 per queue or one by one in turn. */
  pullLog(layout: PullLayout): Promise<PullLog> {
    let p = this.pullLogs.get(layout);
    if (p === undefined) {
      p = buildPullLog(this.dir(`pull-${layout}`), layout);
      this.pullLogs.set(layout, p);
    }
    return p;
  }

  /** A closed log of about `mib` MiB of 1 KiB entries. */
  recoveryLog(mib: number, body: Buffer): Promise<RecoveryLog> {
    this.recovery ??= buildRecoveryLog(this.dir('recovery'), mib, body);
    return this.recovery;
  }

  async remove(): Promise<void> {
    for (const p of this.messageLogs.values()) await (await p.catch(() => undefined))?.log.close();
    for (const p of this.pullLogs.values()) await (await p.catch(() => undefined))?.log.close();
    await this.recovery?.catch(() => undefined);
    if (this.root !== undefined) fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Appends `build(k)` for k < count in batches, keeping at most 64 MiB unwritten; returns the log
 * open. With `records`, each body is a stored message and gets its physical offset as the broker
 * sets it (the entry's body position).
 */
async function fillLog(dir: string, count: number, batch: number, records: boolean, build: (k: number) => Buffer): Promise<SegmentedLog> {
  const log = await SegmentedLog.open({ dir, writer: new WorkerLogWriter({ flushDiskType: 'ASYNC_FLUSH' }), log: quiet });
  try {
    for (let done = 0; done < count; done += batch) {
      const entries: AppendEntry[] = [];
      for (let k = done; k < Math.min(count, done + batch); k++) entries.push({ magic: EntryMagic.MESSAGE, term: 1, body: build(k) });
      const beforeWrite = records ? (i: number, _index: number, pos: number) => setPhysicalOffset(entries[i]!.body as Buffer, 0, pos + ENTRY_HEADER) : undefined;
      const end = log.append(entries, { beforeWrite }).endPosition;
      if (log.unwrittenBytes > 64 * 1024 * 1024) await log.whenWritten(end);
    }
    await log.whenWritten(log.endPosition);
    return log;
  } catch (e) {
    await log.close().catch(() => undefined);
    throw e;
  }
}

async function buildMessageLog(dir: string, count: number, mix: Mix): Promise<MessageLog> {
  const next = new Array<number>(QUEUES).fill(0);
  const tags = ['TagA', 'TagB', 'TagC'];
  const log = await fillLog(dir, count, 256, true, (k) => {
    const queueId = k % QUEUES;
    const properties: Record<string, string> = { TAGS: tags[k % 3]!, WAIT: 'true' };
    if (mix.uniq) properties.UNIQ_KEY = uniqKeyOf(k);
    if (mix.keys > 0) properties.KEYS = Array.from({ length: mix.keys }, (_, j) => keyWord(((k * mix.keys + j) * 7919) % 100_000_007)).join(' ');
    return encodeStoredMessage({
      topic: 'BenchmarkTest', queueId, flag: 0, sysFlag: 0, bornTimestamp: T0 + Math.floor(k / 50),
      bornHost: { address: '10.0.0.2', port: 50000 }, storeHost: { address: '10.0.0.1', port: 10911 },
      queueOffset: next[queueId]!++, storeTimestamp: T0 + Math.floor(k / 50), body: MESSAGE_BODY, properties,
    });
  });
  return { log, entries: count, bytes: log.endPosition };
}

async function buildRecoveryLog(dir: string, mib: number, body: Buffer): Promise<RecoveryLog> {
  const entries = Math.floor((mib * 1024 * 1024) / (ENTRY_HEADER + body.length));
  const log = await fillLog(dir, entries, 128, false, () => body);
  const bytes = log.endPosition;
  await log.close();
  return { dir, entries, bytes };
}

/** Consume-queue entries per second: LogIndexer.catchUp from the log's files into an empty IndexStore. */
function rebuildRun(mix: Mix): Run {
  return async (ctx) => {
    const m = await fixtures.messageLog(ctx.args.rebuild, mix);
    const index = await IndexStore.open(path.join(ctx.dir, 'index-db'));
    try {
      const start = process.hrtime.bigint();
      const report = await new LogIndexer(m.log, index).catchUp();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      let queued = 0;
      for (const q of index.queues()) queued += q.max - q.min;
      if (report.dispatches !== m.entries || queued !== m.entries) {
        throw new Error(`rebuild indexed ${report.dispatches} records into ${queued} consume-queue entries, expected ${m.entries}`);
      }
      return m.entries / seconds;
    } finally {
      await index.close();
    }
  };
}

type PullLayout = 'batches' | 'interleaved';

interface PullLog {
  log: SegmentedLog;
  /** per queue: the log positions and body sizes of its messages, in queue order */
  queues: { pos: number[]; size: number[] }[];
}

const PULL_MESSAGES = 160_000;
const PULL_QUEUES = 8;
const PULL_BATCH = 32;

async function buildPullLog(dir: string, layout: PullLayout): Promise<PullLog> {
  const body = Buffer.alloc(ENTRY - ENTRY_HEADER + 100, 7); // about the size of a stored 1 KiB message
  const queues = Array.from({ length: PULL_QUEUES }, () => ({ pos: [] as number[], size: [] as number[] }));
  const log = await SegmentedLog.open({ dir, writer: new WorkerLogWriter({ flushDiskType: 'ASYNC_FLUSH' }), log: quiet });
  for (let done = 0; done < PULL_MESSAGES; done += PULL_BATCH) {
    const entries: AppendEntry[] = [];
    for (let k = 0; k < PULL_BATCH; k++) entries.push({ magic: EntryMagic.MESSAGE, term: 1, body });
    const r = log.append(entries);
    for (let k = 0; k < PULL_BATCH; k++) {
      const q = queues[layout === 'batches' ? (done / PULL_BATCH) % PULL_QUEUES : (done + k) % PULL_QUEUES]!;
      q.pos.push(r.positions[k]!);
      q.size.push(body.length);
    }
    if (log.unwrittenBytes > 64 * 1024 * 1024) await log.whenWritten(r.endPosition);
  }
  await log.whenWritten(log.endPosition);
  return { log, queues };
}

/**
 * Messages read per CPU second by a consumer's pulls (EntryReader.copyMessageBodies, as the
 * broker calls it: 32 per pull, a 16 KiB read-through gap, the written limit), a fresh reader
 * each run: the queues take turns, each a pull at a time, queue q starting `apart` x q messages
 * of its own into the log (the queues of a backlog drift apart as consumers drain it).
 */
function pullReadRun(layout: PullLayout, apart: (perQueue: number) => number): Run {
  return async () => {
    const { log, queues } = await fixtures.pullLog(layout);
    const files = new ReadFiles(4);
    const reader = log.readerOver(files);
    const out = Buffer.allocUnsafe(PULL_BATCH * (ENTRY + 200 + ENTRY_HEADER));
    const perQueue = queues[0]!.pos.length;
    const posScratch: number[] = [];
    const sizeScratch: number[] = [];
    const next = queues.map((_, q) => Math.floor((q * apart(perQueue)) / PULL_BATCH) * PULL_BATCH % perQueue);
    let read = 0;
    const start = process.cpuUsage();
    try {
      for (let round = 0; round < perQueue / PULL_BATCH; round++) {
        for (let q = 0; q < queues.length; q++) {
          const from = next[q]!;
          const n = Math.min(PULL_BATCH, perQueue - from);
          // into scratch arrays, as the broker's readMessages does: no arrays made per pull
          for (let k = 0; k < n; k++) {
            posScratch[k] = queues[q]!.pos[from + k]!;
            sizeScratch[k] = queues[q]!.size[from + k]!;
          }
          const got = reader.copyMessageBodies(posScratch, sizeScratch, n, out, 0, 16 * 1024, log.writtenPosition);
          if (got !== n) throw new Error(`a pull read ${got} of ${n} messages`);
          read += n;
          next[q] = (from + n) % perQueue;
        }
      }
    } finally {
      files.closeAll();
    }
    const cpu = process.cpuUsage(start);
    return read / ((cpu.user + cpu.system) / 1e6);
  };
}

let ddDropsCache: boolean | undefined;

/** Drops a file's pages from the page cache (GNU dd's nocache flag: posix_fadvise DONTNEED). */
function dropCache(file: string): boolean {
  if (ddDropsCache === false) return false;
  try {
    execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' });
    ddDropsCache = true;
  } catch {
    ddDropsCache = false;
  }
  return ddDropsCache;
}

/** Seconds per GiB scanned: SegmentedLog.open of the closed recovery log, checkpoint removed. */
function recoveryRun(cold: boolean): Run {
  return async (ctx) => {
    const r = await fixtures.recoveryLog(ctx.args.recoveryMiB, ctx.logBody);
    for (const f of [CHECKPOINT_FILE, `${CHECKPOINT_FILE}.bak`]) fs.rmSync(path.join(r.dir, f), { force: true });
    if (cold) {
      for (const sub of ['data', 'index']) {
        for (const f of fs.readdirSync(path.join(r.dir, sub))) if (!dropCache(path.join(r.dir, sub, f))) return NaN;
      }
    }
    const writer = new WorkerLogWriter({ flushDiskType: 'ASYNC_FLUSH' });
    const start = process.hrtime.bigint();
    const log = await SegmentedLog.open({ dir: r.dir, writer, log: quiet });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    try {
      if (log.endPosition !== r.bytes || log.lastIndex !== r.entries - 1) {
        throw new Error(`recovery found entries up to ${log.lastIndex} ending at ${log.endPosition}, expected ${r.entries - 1} ending at ${r.bytes}`);
      }
    } finally {
      await log.close();
    }
    // one data file (1 GiB segments), no checkpoint: the scan covers the whole log
    return seconds / (r.bytes / GIB);
  };
}

// ---- the list: add rows here ----

const sync = (staging: 'ring' | 'message'): WorkerLogWriterOptions => ({ flushDiskType: 'SYNC_FLUSH', staging });
const async = (staging: 'ring' | 'message'): WorkerLogWriterOptions => ({ flushDiskType: 'ASYNC_FLUSH', staging });
let fixtures: Fixtures;

const PLAIN = '(a) plain writev + fdatasync loop';
const W_SYNC_1 = '(b) writer SYNC_FLUSH, 1 group in flight';
const W_SYNC_8 = '(b) writer SYNC_FLUSH, 8 groups in flight';
const W_ASYNC = '(c) writer ASYNC_FLUSH, written';
const L_SYNC_1 = '(d) log SYNC_FLUSH, 1 append in flight';
const L_SYNC_8 = '(d) log SYNC_FLUSH, 8 appends in flight';
const L_ASYNC = '(e) log ASYNC_FLUSH, written';

const benches: Bench[] = [
  { name: 'disk: 4 KiB rewrite + fdatasync', unit: 'fsync/s', run: rawFsyncOverwrite },
  { name: PLAIN, unit: 'entries/s', groups: GROUPS, run: plainLoop },
  { name: W_SYNC_1, unit: 'entries/s', groups: GROUPS, run: writerRun(sync('ring'), 1, 'durable') },
  { name: '    writer SYNC_FLUSH, 1 in flight, spin 200 us', unit: 'entries/s', groups: GROUPS, run: writerRun({ ...sync('ring'), spinMicros: 200 }, 1, 'durable') },
  { name: W_SYNC_8, unit: 'entries/s', groups: GROUPS, run: writerRun(sync('ring'), 8, 'durable') },
  { name: W_ASYNC, unit: 'entries/s', groups: GROUPS, run: writerRun(async('ring'), 4096, 'written') },
  { name: '    writer SYNC_FLUSH, 1 in flight, message staging', unit: 'entries/s', groups: GROUPS, run: writerRun(sync('message'), 1, 'durable') },
  { name: '    writer ASYNC_FLUSH, written, message staging', unit: 'entries/s', groups: GROUPS, run: writerRun(async('message'), 4096, 'written') },
  { name: L_SYNC_1, unit: 'entries/s', groups: GROUPS, run: logRun('SYNC_FLUSH', 1) },
  { name: L_SYNC_8, unit: 'entries/s', groups: GROUPS, run: logRun('SYNC_FLUSH', 8) },
  { name: L_ASYNC, unit: 'entries/s', groups: GROUPS, run: logRun('ASYNC_FLUSH', 4096) },
  ...([[1, 32], [1, 512], [1000, 32], [1000, 512]] as const).map(([topics, batch]): Bench => ({
    name: `RocksDB apply, batch ${batch}, ${topics} topic${topics > 1 ? 's' : ''} x 8 queues`,
    unit: 'records/s',
    run: (ctx) => applyRate({ dir: ctx.dir, apply: ctx.args.apply, keys: 0, sequentialKeys: false }, layoutOf(topics, 8), batch),
  })),
  ...REBUILD_MIXES.map((mix): Bench => ({ name: `rebuild from the log, ${mix.label}`, unit: 'entries/s', maxRuns: HEAVY_RUNS, run: rebuildRun(mix) })),
  // 1,200 messages of a queue are 9,600 log entries, about 11 MB: 8 queues within 77 MB, 2.4 MB
  { name: 'pull reads, batches of 32 per queue, queues 1/8 of the log apart', unit: 'msgs/CPU-s', maxRuns: HEAVY_RUNS, run: pullReadRun('batches', (n) => n / PULL_QUEUES) },
  { name: 'pull reads, interleaved one by one, queues 2.4 MB apart', unit: 'msgs/CPU-s', maxRuns: HEAVY_RUNS, run: pullReadRun('interleaved', () => 256) },
  { name: 'pull reads, interleaved one by one, queues 11 MB apart', unit: 'msgs/CPU-s', maxRuns: HEAVY_RUNS, run: pullReadRun('interleaved', () => 1200) },
  { name: 'pull reads, interleaved one by one, queues 1/8 of the log apart', unit: 'msgs/CPU-s', maxRuns: HEAVY_RUNS, run: pullReadRun('interleaved', (n) => n / PULL_QUEUES) },
  { name: 'recovery, page cache warm', unit: 's/GiB', maxRuns: HEAVY_RUNS, run: recoveryRun(false) },
  { name: 'recovery, page cache dropped', unit: 's/GiB', maxRuns: HEAVY_RUNS, run: recoveryRun(true) },
];

/** Ratios printed under the append table: label, bench over bench (median of per-run ratios). */
const RATIOS: Array<[string, string, string]> = [
  ['writer SYNC 1 in flight / plain loop', W_SYNC_1, PLAIN],
  ['writer SYNC 8 in flight / plain loop', W_SYNC_8, PLAIN],
  ['log SYNC 1 in flight / plain loop', L_SYNC_1, PLAIN],
  ['log SYNC 8 in flight / plain loop', L_SYNC_8, PLAIN],
  ['log SYNC 8 in flight / writer SYNC 8 in flight', L_SYNC_8, W_SYNC_8],
  ['log ASYNC / writer ASYNC', L_ASYNC, W_ASYNC],
];

const median = (sorted: number[]): number => (sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!);

// ---- running and printing ----

interface Result {
  name: string;
  unit: string;
  /** group size ('0' for a single figure) -> median, min, max over the runs */
  cells: Record<string, { median: number; min: number; max: number }>;
  /** group size -> the figure of each run, in run order */
  runs: Record<string, number[]>;
}

async function runOnce(args: Args, bench: Bench, group: number, entry: Buffer, logBody: Buffer): Promise<number> {
  const dir = fs.mkdtempSync(path.join(args.dir, 'raftmq-bench-'));
  try {
    return await bench.run({ args, dir, entry, logBody }, group);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs are interleaved (for each run and group size, every bench once), because a shared or
 * virtual disk changes its fsync latency from one second to the next: back-to-back runs of one
 * bench would compare the disk's moods, not the writers. Ratios are taken per run, between
 * neighbours in time, and their median is reported.
 */
async function measureAll(args: Args): Promise<Result[]> {
  const entry = Buffer.alloc(ENTRY, 0x61);
  const logBody = Buffer.alloc(ENTRY - ENTRY_HEADER, 0x61);
  const rates = benches.map((b) => new Map<number, number[]>((b.groups ?? [0]).map((g) => [g, []])));
  const groups = [...new Set(benches.flatMap((b) => b.groups ?? [0]))];
  for (let r = 0; r < args.runs; r++) {
    for (const g of groups) {
      for (let i = 0; i < benches.length; i++) {
        const b = benches[i]!;
        if (r >= (b.maxRuns ?? args.runs) || !(b.groups ?? [0]).includes(g)) continue;
        if (args.only !== undefined && !b.name.toLowerCase().includes(args.only)) continue;
        rates[i]!.get(g)!.push(await runOnce(args, b, g, entry, logBody));
      }
    }
    if (!args.json) process.stderr.write(`run ${r + 1}/${args.runs} done (${Math.round(process.uptime())} s)\n`);
  }
  return benches.map((b, i) => {
    const cells: Result['cells'] = {};
    const runs: Result['runs'] = {};
    for (const [g, list] of rates[i]!) {
      runs[String(g)] = [...list];
      const sorted = list.filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
      cells[String(g)] = { median: median(sorted), min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
    }
    return { name: b.name, unit: b.unit, cells, runs };
  });
}

interface Target {
  target: string;
  /** what is compared, per column */
  /** met is null when the figure was not measured (--only) */
  figures: Array<{ label: string; value: number; met: boolean | null }>;
}

function targetsOf(results: Result[], ratioRows: Array<{ label: string; ratios: number[] }>): Target[] {
  const cell = (name: string, g: number): number => results.find((r) => r.name === name)?.cells[String(g)]?.median ?? NaN;
  const ratio = (label: string): number[] => ratioRows.find((r) => r.label === label)?.ratios ?? [];
  const atLeast = (value: number, bar: number): boolean | null => (Number.isNaN(value) ? null : value >= bar);
  const out: Target[] = [];
  for (const [label, what] of [
    ['log SYNC 1 in flight / plain loop', 'log SYNC_FLUSH, 1 append in flight'],
    ['log SYNC 8 in flight / plain loop', 'log SYNC_FLUSH, 8 appends in flight'],
  ] as const) {
    out.push({ target: `SYNC_FLUSH >= 0.85 x plain loop (${what})`, figures: GROUPS.map((g, i) => ({ label: `group ${g}`, value: ratio(label)[i] ?? NaN, met: atLeast(ratio(label)[i] ?? NaN, 0.85) })) });
  }
  out.push({ target: 'ASYNC_FLUSH >= 300k entries/s (log, written)', figures: GROUPS.map((g) => ({ label: `group ${g}`, value: cell(L_ASYNC, g), met: atLeast(cell(L_ASYNC, g), 300_000) })) });
  out.push({
    target: 'consume-queue rebuild >= 200k entries/s',
    figures: REBUILD_MIXES.map((m) => {
      const v = cell(`rebuild from the log, ${m.label}`, 0);
      return { label: m.label, value: v, met: atLeast(v, 200_000) };
    }),
  });
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  fixtures = new Fixtures(args.dir);
  const loadBefore = os.loadavg();
  let results: Result[];
  try {
    results = await measureAll(args);
  } finally {
    await fixtures.remove();
  }
  const loadAfter = os.loadavg();
  const ratioRows = RATIOS.map(([label, over, under]) => {
    const runsOf = (name: string, g: number): number[] => results.find((r) => r.name === name)?.runs[String(g)] ?? [];
    return { label, ratios: GROUPS.map((g) => median(runsOf(over, g).map((x, i) => x / (runsOf(under, g)[i] ?? NaN)).sort((x, y) => x - y))) };
  });
  const targets = targetsOf(results, ratioRows);
  const seconds = process.uptime();

  if (args.json) {
    const { json: _json, ...options } = args;
    console.log(JSON.stringify({ node: process.version, cpus: os.cpus().length, loadavg: { before: loadBefore, after: loadAfter }, seconds, options, results, ratios: ratioRows, targets }, null, 2));
    return;
  }
  const fmt = (n: number): string => (!Number.isFinite(n) ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`node ${process.version}, ${os.cpus().length} cpus, load ${load(loadBefore)} -> ${load(loadAfter)}, folder ${args.dir}, ${Math.round(seconds)} s`);
  console.log(`appends of 1 KiB entries: median of ${args.runs} runs of at most ${args.ms} ms`);
  const W = 52;
  console.log(`${''.padEnd(W)} ${'unit'.padEnd(10)} ${GROUPS.map((g) => `group ${g}`.padStart(12)).join(' ')}`);
  const measured = results.filter((r) => Object.values(r.runs).some((list) => list.length > 0));
  const single = measured.filter((r) => r.cells['0'] !== undefined);
  for (const r of measured) {
    if (r.cells['0'] !== undefined) continue;
    console.log(`${r.name.padEnd(W)} ${r.unit.padEnd(10)} ${GROUPS.map((g) => fmt(r.cells[String(g)]?.median ?? NaN).padStart(12)).join(' ')}`);
  }
  for (const r of ratioRows.filter((x) => x.ratios.some((v) => !Number.isNaN(v)))) console.log(`${r.label.padEnd(W)} ${'ratio'.padEnd(10)} ${r.ratios.map((x) => x.toFixed(2).padStart(12)).join(' ')}`);
  console.log();
  console.log(`single figures (apply: ${args.apply} records; rebuild: ${args.rebuild} messages; recovery: ${args.recoveryMiB} MiB of 1 KiB entries)`);
  console.log(`${''.padEnd(W)} ${'unit'.padEnd(10)} ${['median', 'min', 'max', 'runs'].map((h) => h.padStart(12)).join(' ')}`);
  for (const r of single) {
    const c = r.cells['0']!;
    console.log(`${r.name.padEnd(W)} ${r.unit.padEnd(10)} ${[fmt(c.median), fmt(c.min), fmt(c.max), String(r.runs['0']?.length ?? 0)].map((x) => x.padStart(12)).join(' ')}`);
  }
  console.log();
  console.log('targets (issue 3)');
  for (const t of targets) {
    if (t.figures.every((f) => f.met === null)) continue;
    const verdict = (met: boolean | null): string => (met === null ? 'not measured' : met ? 'met' : 'NOT met');
    console.log(`${t.target.padEnd(W + 11)} ${t.figures.map((f) => `${f.label}: ${fmt(f.value)} ${verdict(f.met)}`).join(', ')}`);
  }
}

await main();
