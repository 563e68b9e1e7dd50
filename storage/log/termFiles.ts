// The small state files of a DLedger folder: `currterm` (currTerm, voteLeader) and `checkpoint`
// (committedIndex, endIndex), as Java properties text like DLedger writes them, each with a
// `.bak` copy. Raft must not answer a vote before its term and vote are on disk, so a write
// resolves only after temp file + fsync + rename + fsync of the folder, for both copies.
// Unlike DLedger, whose .bak holds the previous content, our .bak holds the same content:
// falling back to an older term or vote could let a node vote twice in one term.
import fs from 'node:fs/promises';
import path from 'node:path';

export const CURRTERM_FILE = 'currterm';
export const CHECKPOINT_FILE = 'checkpoint';
const BAK = '.bak';
/** These files hold two short lines; anything longer is not ours. */
const MAX_STATE_FILE_BYTES = 64 * 1024;

export interface TermState {
  currTerm: number;
  /** the peer id voted for in currTerm; null when none (DLedger writes `voteLeader=`) */
  voteLeader: string | null;
}

export interface CheckpointState {
  committedIndex: number;
  endIndex: number;
}

/** Reads `currterm` (or its .bak when it is missing or unreadable); undefined when neither exists. */
export async function readCurrTerm(dir: string): Promise<TermState | undefined> {
  return readWithBackup(path.join(dir, CURRTERM_FILE), (p) => {
    const currTerm = longField(p, 'currTerm', 0);
    const vote = p.get('voteLeader');
    return { currTerm, voteLeader: vote === undefined || vote === '' ? null : vote };
  });
}

export async function writeCurrTerm(dir: string, state: TermState): Promise<void> {
  if (!Number.isSafeInteger(state.currTerm) || state.currTerm < 0) throw new RangeError(`currTerm must be a non-negative integer, got ${state.currTerm}`);
  const vote = state.voteLeader ?? '';
  if (/[\r\n=:\\]/.test(vote)) throw new RangeError(`voteLeader ${JSON.stringify(vote)} cannot be written as a properties value`);
  // DLedger's order: voteLeader first
  await writeWithBackup(path.join(dir, CURRTERM_FILE), `voteLeader=${vote}\ncurrTerm=${state.currTerm}\n`);
}

/** Reads `checkpoint` (or its .bak); undefined when neither exists. */
export async function readCheckpoint(dir: string): Promise<CheckpointState | undefined> {
  return readWithBackup(path.join(dir, CHECKPOINT_FILE), (p) => ({
    committedIndex: longField(p, 'committedIndex', -1),
    endIndex: longField(p, 'endIndex', -1),
  }));
}

export async function writeCheckpoint(dir: string, state: CheckpointState): Promise<void> {
  for (const [k, v] of Object.entries(state)) {
    if (!Number.isSafeInteger(v) || v < -1) throw new RangeError(`${k} must be an integer >= -1, got ${v}`);
  }
  await writeWithBackup(path.join(dir, CHECKPOINT_FILE), `committedIndex=${state.committedIndex}\nendIndex=${state.endIndex}\n`);
}

/** Parses the `key=value` lines DLedger writes (also `key: value`; `#` and `!` lines are comments). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]?\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/**
 * Writes several files so that each is either wholly old or wholly new after a crash, and all
 * are durable when this resolves: temp files fsynced, renamed, then one fsync of each folder.
 */
export async function writeFilesAtomic(files: ReadonlyArray<{ file: string; text: string }>): Promise<void> {
  const tmps: string[] = [];
  try {
    for (const { file, text } of files) {
      const tmp = `${file}.tmp`;
      tmps.push(tmp);
      const h = await fs.open(tmp, 'w', 0o644);
      try {
        await h.writeFile(text, 'utf8');
        await h.sync();
      } finally {
        await h.close();
      }
    }
    for (const [i, { file }] of files.entries()) await fs.rename(tmps[i]!, file);
  } catch (e) {
    await Promise.all(tmps.map((t) => fs.rm(t, { force: true })));
    throw e;
  }
  for (const dir of new Set(files.map((f) => path.dirname(f.file)))) {
    const h = await fs.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }
}

export function writeFileAtomic(file: string, text: string): Promise<void> {
  return writeFilesAtomic([{ file, text }]);
}

// Writes to one file are queued so that two quick writes (term, then vote) never race on the
// temp file or land out of order.
const queues = new Map<string, Promise<void>>();

function writeWithBackup(file: string, text: string): Promise<void> {
  const prev = queues.get(file) ?? Promise.resolve();
  const next = prev
    .catch(() => undefined)
    .then(() => writeFilesAtomic([{ file, text }, { file: file + BAK, text }]));
  queues.set(file, next);
  const cleanup = (): void => {
    if (queues.get(file) === next) queues.delete(file);
  };
  next.then(cleanup, cleanup);
  return next;
}

class UnreadableStateFile extends Error {}

async function readWithBackup<T>(file: string, parse: (p: Map<string, string>) => T): Promise<T | undefined> {
  const errors: string[] = [];
  let seen = false;
  for (const candidate of [file, file + BAK]) {
    let text: string;
    try {
      const st = await fs.stat(candidate);
      if (st.size > MAX_STATE_FILE_BYTES) throw new UnreadableStateFile(`${st.size} bytes, more than ${MAX_STATE_FILE_BYTES}`);
      text = await fs.readFile(candidate, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      seen = true;
      errors.push(`${candidate}: ${(e as Error).message}`);
      continue;
    }
    seen = true;
    try {
      return parse(parseProperties(text));
    } catch (e) {
      errors.push(`${candidate}: ${(e as Error).message}`);
    }
  }
  if (!seen) return undefined;
  // Never fall back to defaults here: a lost term or vote is a Raft safety problem, not a fresh start.
  throw new Error(`cannot read ${file} or its ${BAK}: ${errors.join('; ')}`);
}

function longField(p: Map<string, string>, key: string, min: number): number {
  const raw = p.get(key);
  if (raw === undefined) throw new UnreadableStateFile(`${key} is missing`);
  if (!/^-?\d+$/.test(raw)) throw new UnreadableStateFile(`${key}=${raw} is not an integer`);
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < min) throw new UnreadableStateFile(`${key}=${raw} is out of range`);
  return v;
}
