// bench/store: durable appends of 1 KiB entries in groups of 1, 16 and 128, on a temp folder of
// one disk: a plain writev + fdatasync loop on the main thread (the baseline), WorkerLogWriter in
// SYNC_FLUSH (one group in flight, and several) and in ASYNC_FLUSH, for both staging modes; plus
// the raw fdatasync rate of the disk. Every loop is bounded by a count and a time. Prints
// medians of several runs, and the ratio of SYNC_FLUSH to the plain loop.
// Usage: node dist/bench/store.js [--runs 5] [--ms 300] [--dir /path/on/the/disk] [--json]
//
// To add a measurement (the RocksDB apply rate, recovery time per GiB, ...), append a Bench to
// `benches` below: a name, a unit, the group sizes it runs for (none: one column) and a Run that
// gets a fresh folder and returns its figure; medians, the table and --json come for free.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkerLogWriter, type WorkerLogWriterOptions } from '../storage/log/WorkerLogWriter.js';
import type { WriteGroup } from '../storage/log/LogWriter.js';

interface Args {
  runs: number;
  ms: number;
  dir: string;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 5, ms: 300, dir: os.tmpdir(), json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--runs') args.runs = Math.max(1, Math.min(50, Number(argv[++i])));
    else if (a === '--ms') args.ms = Math.max(50, Math.min(10_000, Number(argv[++i])));
    else if (a === '--dir') args.dir = String(argv[++i]);
    else throw new Error(`unknown option ${a}; use --runs N --ms N --dir PATH --json`);
  }
  return args;
}

const ENTRY = 1024;
const GROUPS = [1, 16, 128] as const;
/** No run appends more than this many entries (1 GiB), however fast the disk. */
const MAX_ENTRIES = 1024 * 1024;
/** Bytes a writer run keeps submitted ahead of the position it waits for. */
const MAX_WINDOW_BYTES = 32 * 1024 * 1024;

interface Context {
  args: Args;
  /** a fresh, empty folder for one run; removed after it */
  dir: string;
  entry: Buffer;
}

/** One run: its figure in the bench's unit (entries/s, fsync/s, s/GiB, ...). */
type Run = (ctx: Context, group: number) => Promise<number>;

interface Bench {
  name: string;
  /** what the figure counts */
  unit: string;
  /** group sizes to run it for; a single column when omitted */
  groups?: readonly number[];
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

// ---- the list: add rows here ----

const sync = (staging: 'ring' | 'message'): WorkerLogWriterOptions => ({ flushDiskType: 'SYNC_FLUSH', staging });
const async = (staging: 'ring' | 'message'): WorkerLogWriterOptions => ({ flushDiskType: 'ASYNC_FLUSH', staging });

const benches: Bench[] = [
  { name: 'disk: 4 KiB rewrite + fdatasync', unit: 'fsync/s', run: rawFsyncOverwrite },
  { name: '(a) plain writev + fdatasync loop', unit: 'entries/s', groups: GROUPS, run: plainLoop },
  { name: '(b) SYNC_FLUSH, 1 group in flight', unit: 'entries/s', groups: GROUPS, run: writerRun(sync('ring'), 1, 'durable') },
  { name: '(b) SYNC_FLUSH, 1 in flight, worker spins 200 us', unit: 'entries/s', groups: GROUPS, run: writerRun({ ...sync('ring'), spinMicros: 200 }, 1, 'durable') },
  { name: '(b) SYNC_FLUSH, 8 groups in flight', unit: 'entries/s', groups: GROUPS, run: writerRun(sync('ring'), 8, 'durable') },
  { name: '(c) ASYNC_FLUSH, written', unit: 'entries/s', groups: GROUPS, run: writerRun(async('ring'), 4096, 'written') },
  { name: '    SYNC_FLUSH, 1 in flight, message staging', unit: 'entries/s', groups: GROUPS, run: writerRun(sync('message'), 1, 'durable') },
  { name: '    ASYNC_FLUSH, written, message staging', unit: 'entries/s', groups: GROUPS, run: writerRun(async('message'), 4096, 'written') },
];

/** Ratios printed under the table: label, bench over bench (median of per-run ratios). */
const RATIOS: Array<[string, string, string]> = [
  ['(b)/(a) SYNC_FLUSH 1 in flight / plain loop', '(b) SYNC_FLUSH, 1 group in flight', '(a) plain writev + fdatasync loop'],
  ['(b)/(a) SYNC_FLUSH 8 in flight / plain loop', '(b) SYNC_FLUSH, 8 groups in flight', '(a) plain writev + fdatasync loop'],
];

const median = (sorted: number[]): number => (sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!);

// ---- running and printing ----

interface Result {
  name: string;
  unit: string;
  /** group size -> median, min, max over the runs */
  cells: Record<string, { median: number; min: number; max: number }>;
  /** group size -> the rate of each run, in run order */
  runs: Record<string, number[]>;
}

async function runOnce(args: Args, bench: Bench, group: number, entry: Buffer): Promise<number> {
  const dir = fs.mkdtempSync(path.join(args.dir, 'raftmq-bench-'));
  try {
    return await bench.run({ args, dir, entry }, group);
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
  const rates = benches.map((b) => new Map<number, number[]>((b.groups ?? [0]).map((g) => [g, []])));
  const groups = [...new Set(benches.flatMap((b) => b.groups ?? [0]))];
  for (let r = 0; r < args.runs; r++) {
    for (const g of groups) {
      for (let i = 0; i < benches.length; i++) {
        const b = benches[i]!;
        if ((b.groups ?? [0]).includes(g)) rates[i]!.get(g)!.push(await runOnce(args, b, g, entry));
      }
    }
    if (!args.json) process.stderr.write(`run ${r + 1}/${args.runs} done\n`);
  }
  return benches.map((b, i) => {
    const cells: Result['cells'] = {};
    const runs: Result['runs'] = {};
    for (const [g, list] of rates[i]!) {
      runs[String(g)] = [...list];
      list.sort((x, y) => x - y);
      cells[String(g)] = { median: median(list), min: list[0]!, max: list[list.length - 1]! };
    }
    return { name: b.name, unit: b.unit, cells, runs };
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const results = await measureAll(args);
  const ratioRows = RATIOS.map(([label, over, under]) => {
    const runsOf = (name: string, g: number): number[] => results.find((r) => r.name === name)?.runs[String(g)] ?? [];
    return { label, ratios: GROUPS.map((g) => median(runsOf(over, g).map((x, i) => x / (runsOf(under, g)[i] ?? NaN)).sort((x, y) => x - y))) };
  });

  if (args.json) {
    console.log(JSON.stringify({ node: process.version, dir: args.dir, runs: args.runs, msPerRun: args.ms, results, ratios: ratioRows }, null, 2));
    return;
  }
  const fmt = (n: number): string => (!Number.isFinite(n) ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
  console.log(`node ${process.version}, ${os.cpus().length} cpus, folder ${args.dir}; median of ${args.runs} runs of at most ${args.ms} ms (1 KiB entries)`);
  console.log(`${''.padEnd(50)} ${'unit'.padEnd(10)} ${GROUPS.map((g) => `group ${g}`.padStart(12)).join(' ')}`);
  for (const r of results) {
    const cols = r.cells['0'] !== undefined ? [fmt(r.cells['0'].median).padStart(12)] : GROUPS.map((g) => fmt(r.cells[String(g)]?.median ?? NaN).padStart(12));
    console.log(`${r.name.padEnd(50)} ${r.unit.padEnd(10)} ${cols.join(' ')}`);
  }
  for (const r of ratioRows) console.log(`${r.label.padEnd(50)} ${'ratio'.padEnd(10)} ${r.ratios.map((x) => x.toFixed(2).padStart(12)).join(' ')}`);
}

await main();
