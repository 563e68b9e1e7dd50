// Child of crashLog.test: appends entries to a SegmentedLog over a WorkerLogWriter in
// SYNC_FLUSH mode and prints the last index of every batch once it is durable.
// Entry i's body is crashChild's self-checking record for sequence number i.
// Usage: node crashLogChild.js <dir> <seed>
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EntryMagic } from '../../../storage/log/entryCodec.js';
import { SegmentedLog } from '../../../storage/log/SegmentedLog.js';
import { WorkerLogWriter } from '../../../storage/log/WorkerLogWriter.js';
import { encodeRecord, makeRng, MAX_PAYLOAD } from './crashChild.js';

export const DATA_SEGMENT = 64 * 1024;
export const INDEX_SEGMENT = 32 * 256;

async function main(): Promise<void> {
  const [dir, seedText] = process.argv.slice(2);
  if (dir === undefined || seedText === undefined) throw new Error('usage: crashLogChild.js <dir> <seed>');
  const seed = Number(seedText);
  const rng = makeRng(seed ^ 0x27d4eb2f);
  const log = await SegmentedLog.open({
    dir,
    writer: new WorkerLogWriter({ flushDiskType: 'SYNC_FLUSH' }),
    dataSegmentSize: DATA_SEGMENT,
    indexSegmentSize: INDEX_SEGMENT,
  });
  const started = Date.now();
  const inFlight = 1 + (rng() % 6);
  const pending: Array<Promise<void>> = [];
  // bounded: stops after 30 s or 200k entries even if the parent never kills it
  while (Date.now() - started < 30_000 && log.lastIndex < 200_000) {
    const count = 1 + (rng() % 32);
    const entries = [];
    for (let i = 0; i < count; i++) {
      const seq = log.lastIndex + 1 + i;
      const payload = rng() % 8 === 0 ? rng() % MAX_PAYLOAD : rng() % 300;
      entries.push({ magic: EntryMagic.MESSAGE, term: 1, body: encodeRecord(seed, seq, payload) });
    }
    const r = log.append(entries);
    pending.push(log.whenDurable(r.endPosition).then(() => void process.stdout.write(`${r.lastIndex}\n`)));
    if (pending.length >= inFlight) await pending.shift();
  }
  await Promise.all(pending);
  await log.close();
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`crashLogChild: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  });
}
