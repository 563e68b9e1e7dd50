// Crash test: a child appends self-checking records through WorkerLogWriter (SYNC_FLUSH) and
// prints every sequence number the writer reported durable; we kill it with SIGKILL at a random
// point and read the files. Every record up to the last reported one must be there and valid,
// and after the last valid record there may only be a torn record (a prefix of the next one)
// or nothing. A kill keeps the page cache, so this checks the writer's ordering and reporting,
// not the disk's fsync; a power cut is not simulated. Rerun a failure with CRASH_SEED=<seed>.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { crc32 } from '../../../protocol/crc32.js';
import { encodeRecord, FILE_SIZE, makeRng, RECORD_HEADER, RECORD_TRAILER } from './crashChild.js';
import { tempDir } from '../../helpers/processes.js';

const KILLS = 24;
/** a child that has not reported its first durable record by then has failed */
const CHILD_TIMEOUT_MS = 15_000;
/** the longest a child appends after its first report, whatever its threshold */
const RUN_MS = 600;
const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crashChild.js');

const seed = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
t.comment(`crash test seed ${seed} (rerun with CRASH_SEED=${seed})`);

interface Killed {
  /** sequence numbers printed, in order */
  reported: number[];
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/**
 * Run the child until it has reported `threshold` (or, on a slow disk, for RUN_MS after its first
 * report), then SIGKILL it after `delayMs`.
 */
function runAndKill(dir: string, childSeed: number, threshold: number, delayMs: number): Promise<Killed> {
  return new Promise((resolve, reject) => {
    // through `env -u`: the test runner puts its --import hooks into NODE_OPTIONS of every child
    // it sees spawned, which costs each start about 0.4 s
    const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, childScript, dir, String(childSeed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reported: number[] = [];
    let partial = '';
    let stderr = '';
    let killScheduled = false;
    const kill = (): void => {
      if (killScheduled) return;
      killScheduled = true;
      if (delayMs === 0) child.kill('SIGKILL');
      else setTimeout(() => child.kill('SIGKILL'), delayMs);
    };
    let runTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child (threshold ${threshold}) not killed within ${CHILD_TIMEOUT_MS} ms, ${reported.length} reports; stderr: ${stderr}`));
    }, CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.stdout.on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) reported.push(Number(l));
      if (reported.length > 0 && runTimer === undefined) runTimer = setTimeout(kill, RUN_MS);
      if (reported.length > 0 && reported[reported.length - 1]! >= threshold) kill();
    });
    // 'close': the process has exited and its pipes are drained, so every line it wrote is in
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(runTimer);
      if (partial !== '') reported.push(Number(partial));
      resolve({ reported, signal, code, stderr });
    });
  });
}

interface Scan {
  /** number of valid records in sequence from 0 */
  valid: number;
  /** problems found; empty when the files are as the rules say */
  problems: string[];
  /** what follows the last valid record */
  tail: 'nothing' | 'torn';
}

/** Read the files back under the child's rules. */
function scan(dir: string, childSeed: number): Scan {
  const problems: string[] = [];
  const names = fs.readdirSync(dir).sort();
  for (const n of names) if (!/^\d{20}$/.test(n)) problems.push(`unexpected file ${n}`);
  let seq = 0;
  let tail: Scan['tail'] = 'nothing';
  let stopped = false; // past the last valid record
  let nextFileStart = 0;
  let freeInPreviousFile = -1;
  for (const name of names) {
    const data = fs.readFileSync(path.join(dir, name));
    if (stopped) {
      if (data.length > 0) problems.push(`${name}: ${data.length} bytes after the end of the valid records`);
      continue;
    }
    if (Number(name) !== nextFileStart) problems.push(`${name}: expected the file that starts at ${nextFileStart}`);
    nextFileStart += FILE_SIZE;
    let off = 0;
    while (off < data.length) {
      const left = data.length - off;
      const len = left >= 4 ? data.readUInt32BE(off) : -1;
      if (
        len >= RECORD_HEADER + RECORD_TRAILER &&
        len <= left &&
        data.readBigUInt64BE(off + 4) === BigInt(seq) &&
        data.readUInt32BE(off + len - RECORD_TRAILER) === crc32(data.subarray(off, off + len - RECORD_TRAILER))
      ) {
        if (off === 0 && freeInPreviousFile >= len) problems.push(`${name}: record ${seq} (${len} bytes) would have fitted in the previous file`);
        off += len;
        seq++;
        continue;
      }
      // not a valid record: it must be record `seq` cut short
      stopped = true;
      tail = 'torn';
      if (left < 4) {
        // part of the length field; records are smaller than a file, so its top byte is 0
        if (data[off] !== 0) problems.push(`${name}@${off}: ${left} stray bytes where record ${seq} should start`);
      } else if (len < RECORD_HEADER + RECORD_TRAILER || len > FILE_SIZE) {
        problems.push(`${name}@${off}: length ${len} where record ${seq} should start`);
      } else if (left >= len) {
        problems.push(`${name}@${off}: record ${seq} is whole but does not check: corrupt, not torn`);
      } else if (!data.subarray(off).equals(encodeRecord(childSeed, seq, len - RECORD_HEADER - RECORD_TRAILER).subarray(0, left))) {
        problems.push(`${name}@${off}: the ${left} bytes after record ${seq - 1} are not a prefix of record ${seq}`);
      }
      break;
    }
    freeInPreviousFile = FILE_SIZE - data.length;
  }
  return { valid: seq, problems, tail };
}

t.test(`${KILLS} kills with SIGKILL`, async (t) => {
  const rng = makeRng(seed);
  const started = Date.now();
  let totalReported = 0;
  let tornTails = 0;
  for (let i = 0; i < KILLS; i++) {
    const childSeed = rng();
    // thresholds from "right after the first durable group" to a few thousand records
    const threshold = rng() % 4 === 0 ? 0 : rng() % 1500;
    const delayMs = rng() % 3 === 0 ? 0 : rng() % 25;
    const dir = tempDir(t, 'raftmq-crash-');
    const run = await runAndKill(dir, childSeed, threshold, delayMs);
    const label = `kill ${i} (child seed ${childSeed}, threshold ${threshold}, delay ${delayMs} ms)`;
    if (run.signal !== 'SIGKILL') {
      t.fail(`${label}: child ended with code ${run.code}, signal ${run.signal}; stderr: ${run.stderr}`);
      continue;
    }
    const last = run.reported.length > 0 ? run.reported[run.reported.length - 1]! : -1;
    t.ok(run.reported.every((s, k) => k === 0 || s > run.reported[k - 1]!), `${label}: reported sequence numbers increase`);
    const result = scan(dir, childSeed);
    t.same(result.problems, [], `${label}: files follow the rules`);
    t.ok(result.valid - 1 >= last, `${label}: last reported durable ${last}, last valid record ${result.valid - 1}`);
    totalReported += last + 1;
    if (result.tail === 'torn') tornTails++;
  }
  t.comment(`${KILLS} kills in ${Date.now() - started} ms; ${totalReported} records reported durable in all; ${tornTails} torn tails`);
});
