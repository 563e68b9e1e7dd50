// Instructions retired by processes, counted by Linux perf (`perf stat -e instructions -p PID`)
// over a stretch of a bench. On this shared VM the CPU time of a fixed piece of work swings by a
// third with the neighbours' load (caches, frequency, stolen time); the instruction count of the
// same work moves by a few percent, so A/B comparisons read far better in instructions. Where
// perf is missing or the machine exposes no counters, every count is NaN.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let available: boolean | undefined;

/** Whether `perf stat` counts instructions here (checked once). */
export function instructionCountsAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync('perf', ['stat', '-x', ',', '-e', 'instructions', 'true'], { encoding: 'utf8', timeout: 10_000 });
    available = r.status === 0 && /^\d+,,instructions/m.test(r.stderr ?? '');
  }
  return available;
}

export interface InstructionCounter {
  /** Stops counting; instructions per process, in the order given (NaN where not counted). */
  stop(): Promise<number[]>;
}

/** Starts counting the instructions of `pids` (each process: all its threads, user and kernel). */
export async function countInstructions(pids: ReadonlyArray<number | undefined>): Promise<InstructionCounter> {
  if (!instructionCountsAvailable()) return { stop: async () => pids.map(() => NaN) };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-stat-'));
  const runs = pids.map((pid, i) => {
    if (pid === undefined) return null;
    const file = path.join(dir, `${i}.csv`);
    const child: ChildProcess = spawn('perf', ['stat', '-x', ',', '-e', 'instructions', '-o', file, '-p', String(pid)], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    return { child, file, exited };
  });
  // perf attaches to the running process within a few milliseconds; leave it ample time
  await new Promise((r) => setTimeout(r, 200));
  return {
    stop: async () => {
      for (const r of runs) r?.child.kill('SIGINT');
      await Promise.all(runs.map((r) => r?.exited));
      const counts = runs.map((r) => {
        if (r === null) return NaN;
        try {
          const m = /^(\d+),,instructions/m.exec(fs.readFileSync(r.file, 'utf8'));
          return m ? Number(m[1]) : NaN;
        } catch {
          return NaN;
        }
      });
      fs.rmSync(dir, { recursive: true, force: true });
      return counts;
    },
  };
}
