// The crash test's child process: appends self-checking records through a fresh WorkerLogWriter
// in SYNC_FLUSH mode, in groups of random sizes, and prints the sequence number of the last
// record of every group once the writer reports that group durable. The parent kills it with
// SIGKILL and checks the files. Usage: node crashChild.js <dir> <seed>
//
// Record: u32 length (whole record), u64 sequence number, payload, u32 crc32 of everything
// before it; all big-endian. The payload is a function of (seed, sequence number), so the
// parent can tell a torn record from a corrupt one byte by byte. Files hold FILE_SIZE bytes of
// log positions each, are named by their 20-digit start position, and a record never spans two.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from '../../../protocol/crc32.js';
import type { LogWriter, WriteOp } from '../../../storage/log/LogWriter.js';
import { WorkerLogWriter } from '../../../storage/log/WorkerLogWriter.js';

export const FILE_SIZE = 64 * 1024;
export const RECORD_HEADER = 12;
export const RECORD_TRAILER = 4;
export const MAX_PAYLOAD = 6000;

/** xorshift32: small, seedable, the same in parent and child. Returns 0 .. 2^32-1. */
export function makeRng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function fileName(start: number): string {
  return String(start).padStart(20, '0');
}

/** The record for `seq` with a payload of `payloadLength` bytes. */
export function encodeRecord(seed: number, seq: number, payloadLength: number): Buffer {
  const len = RECORD_HEADER + payloadLength + RECORD_TRAILER;
  const b = Buffer.allocUnsafe(len);
  b.writeUInt32BE(len, 0);
  b.writeBigUInt64BE(BigInt(seq), 4);
  const fill = makeRng((seed ^ Math.imul(seq + 1, 0x85ebca6b)) >>> 0);
  for (let i = 0; i < payloadLength; i++) b[RECORD_HEADER + i] = fill() & 0xff;
  b.writeUInt32BE(crc32(b.subarray(0, len - RECORD_TRAILER)), len - RECORD_TRAILER);
  return b;
}

export interface AppendLimits {
  /** groups submitted ahead of the durable position */
  inFlight: number;
  maxRecordsPerGroup: number;
  /** stop (and exit cleanly) after this many records or milliseconds */
  maxRecords: number;
  maxMs: number;
}

/**
 * The child's whole write logic: append records 0, 1, 2, ... at consecutive log positions through
 * `writer`, rolling over to a new file when a record does not fit, and call `reportDurable(seq)`
 * for the last record of each group once the writer's durable position covers it.
 */
export function appendRecords(writer: LogWriter, dir: string, seed: number, limits: AppendLimits, reportDurable: (seq: number) => void): Promise<void> {
  const rng = makeRng(seed);
  let seq = 0;
  let position = 0; // log position: file start + offset
  const inFlight: Array<{ endPosition: number; lastSeq: number }> = [];
  const started = Date.now();

  const submitGroup = (): void => {
    const count = 1 + (rng() % limits.maxRecordsPerGroup);
    const ops: WriteOp[] = [];
    let op: WriteOp | null = null;
    let opFileStart = -1;
    for (let i = 0; i < count; i++) {
      // mostly small records, now and then a big one
      const payload = rng() % 8 === 0 ? rng() % MAX_PAYLOAD : rng() % 300;
      const record = encodeRecord(seed, seq++, payload);
      let fileStart = position - (position % FILE_SIZE);
      if (position + record.length > fileStart + FILE_SIZE) {
        fileStart += FILE_SIZE;
        position = fileStart;
      }
      if (op === null || fileStart !== opFileStart) {
        // records are consecutive, so one op per file the group touches
        op = { file: path.join(dir, fileName(fileStart)), filePosition: position - fileStart, buffers: [] };
        opFileStart = fileStart;
        ops.push(op);
      }
      op.buffers.push(record);
      position += record.length;
    }
    writer.submit({ ops, endPosition: position, sync: rng() % 4 === 0 });
    inFlight.push({ endPosition: position, lastSeq: seq - 1 });
  };

  return new Promise((resolve, reject) => {
    const more = (): void => {
      if (seq >= limits.maxRecords || Date.now() - started > limits.maxMs) {
        if (inFlight.length === 0) resolve();
        return;
      }
      while (inFlight.length < limits.inFlight) submitGroup();
    };
    writer.onError(reject);
    writer.onProgress((p) => {
      while (inFlight.length > 0 && inFlight[0]!.endPosition <= p.durable) reportDurable(inFlight.shift()!.lastSeq);
      more();
    });
    more();
  });
}

async function main(): Promise<void> {
  const [dir, seedText] = process.argv.slice(2);
  if (dir === undefined || seedText === undefined) throw new Error('usage: crashChild.js <dir> <seed>');
  const seed = Number(seedText);
  const rng = makeRng(seed ^ 0x5bd1e995);
  const writer = new WorkerLogWriter({ flushDiskType: 'SYNC_FLUSH' });
  const limits: AppendLimits = { inFlight: 1 + (rng() % 8), maxRecordsPerGroup: 1 + (rng() % 64), maxRecords: 1_000_000, maxMs: 30_000 };
  // stdout to a pipe is synchronous on Linux: a line written is the parent's even if we die next
  await appendRecords(writer, dir, seed, limits, (seq) => process.stdout.write(`${seq}\n`));
  await writer.close();
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`crashChild: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  });
}
