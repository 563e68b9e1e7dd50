// Crash test of the whole log: a child appends through SegmentedLog + WorkerLogWriter
// (SYNC_FLUSH) and prints each batch's last index once durable; we SIGKILL it at a random
// point, reopen the log (recovery runs), and check that every entry it reported durable is
// there with valid CRCs and its own content, and that the log ends at the last valid entry.
// Rerun a failure with CRASH_SEED=<seed>.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { crc32 } from '../../../protocol/crc32.js';
import { SegmentedLog } from '../../../storage/log/SegmentedLog.js';
import { SyncLogWriter } from '../../../storage/log/SyncLogWriter.js';
import { tempDir } from '../../helpers/processes.js';
import { makeRng, RECORD_HEADER, RECORD_TRAILER } from './crashChild.js';
import { DATA_SEGMENT, INDEX_SEGMENT } from './crashLogChild.js';

const KILLS = 20;
const CHILD_TIMEOUT_MS = 15_000;
const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crashLogChild.js');
const seed = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) >>> 0 : (Date.now() ^ (process.pid << 8)) >>> 0;
t.comment(`log crash test seed ${seed} (rerun with CRASH_SEED=${seed})`);

/** Runs the child until its reports pass `threshold` (or 500 ms after the first), kills it, returns the last reported index. */
function runAndKill(dir: string, childSeed: number, threshold: number): Promise<{ lastReported: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, childScript, dir, String(childSeed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastReported = -1;
    let partial = '';
    let stderr = '';
    let runTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child not killed within ${CHILD_TIMEOUT_MS} ms; stderr: ${stderr}`));
    }, CHILD_TIMEOUT_MS);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() as string;
      for (const l of lines) lastReported = Math.max(lastReported, Number(l));
      if (lastReported >= 0 && runTimer === undefined) runTimer = setTimeout(() => child.kill('SIGKILL'), 500);
      if (lastReported >= threshold) child.kill('SIGKILL');
    });
    child.once('close', () => {
      clearTimeout(timer);
      clearTimeout(runTimer);
      if (partial !== '') lastReported = Math.max(lastReported, Number(partial));
      resolve({ lastReported, stderr });
    });
  });
}

t.test(`${KILLS} kills of a child appending to the log`, async (t) => {
  const rng = makeRng(seed);
  const problems: string[] = [];
  let totalReported = 0;
  for (let k = 0; k < KILLS; k++) {
    const dir = path.join(tempDir(t), 'log');
    const childSeed = rng();
    const threshold = rng() % 3000;
    const { lastReported, stderr } = await runAndKill(dir, childSeed, threshold);
    if (lastReported < 0) {
      problems.push(`kill ${k}: the child reported nothing durable; stderr: ${stderr}`);
      continue;
    }
    totalReported += lastReported + 1;
    const lines: string[] = [];
    const log = await SegmentedLog.open({ dir, writer: new SyncLogWriter(), dataSegmentSize: DATA_SEGMENT, indexSegmentSize: INDEX_SEGMENT, log: (l) => lines.push(l) });
    try {
      if (log.lastIndex < lastReported) problems.push(`kill ${k} (child seed ${childSeed}): reported ${lastReported} durable, log ends at ${log.lastIndex}`);
      for (let i = 0; i <= log.lastIndex; i++) {
        const body = log.entryAt(i).body; // checks header fields and CRCs
        const len = body.readUInt32BE(0);
        const seq = Number(body.readBigUInt64BE(4));
        if (len !== body.length || seq !== i || crc32(body.subarray(0, len - RECORD_TRAILER)) !== body.readUInt32BE(len - RECORD_TRAILER) || len < RECORD_HEADER + RECORD_TRAILER) {
          problems.push(`kill ${k} (child seed ${childSeed}): entry ${i} does not hold its own record`);
          break;
        }
      }
      // Nothing valid may follow the end: appending continues right after the last entry.
      const end = log.endPosition;
      log.append([{ magic: 1, term: 2, body: Buffer.from('after recovery') }], { sync: true });
      await log.whenDurable(log.endPosition);
      if (log.entryAt(log.lastIndex).pos < end) problems.push(`kill ${k}: append after recovery landed before the recovered end`);
    } finally {
      await log.close();
    }
    const reopened = await SegmentedLog.open({ dir, writer: new SyncLogWriter(), dataSegmentSize: DATA_SEGMENT, indexSegmentSize: INDEX_SEGMENT });
    if (reopened.entryAt(reopened.lastIndex).body.toString() !== 'after recovery') problems.push(`kill ${k}: the entry appended after recovery is not the last one`);
    await reopened.close();
  }
  t.same(problems, [], 'every entry reported durable survived, valid, and the log ends right after the last valid entry');
  t.ok(totalReported > KILLS, `children reported ${totalReported} durable entries in all`);
});
