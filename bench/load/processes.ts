// Server processes for the benches (bench/suite, bench/scrapeCost): a dist/ script started as a
// child without the runner's NODE_OPTIONS, its output in a log file, ready at its "boot success"
// line; stopped with SIGTERM (SIGKILL after 10 s); and the wait for a group's master.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdminApi } from '../../client/AdminApi.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starts `dist/<script> ...args` (after `nodeArgs`), logging to `log`; resolves at "boot success", rejects on exit or after 60 s. */
export async function startBootingProcess(script: string, args: string[], log: string, nodeArgs: string[] = []): Promise<ChildProcess> {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  const child = spawn(process.execPath, [...nodeArgs, path.join(dist, script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = fs.createWriteStream(log);
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  let text = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 60 s; see ${log}`)), 60_000);
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (/boot success/.test(text)) {
        clearTimeout(timer);
        // booted: the output goes on to the log file only, not into a string kept here
        child.stdout!.off('data', onData);
        text = '';
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}; see ${log}`));
    });
  }).catch((e: Error) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw e;
  });
  return child;
}

/** SIGTERM to each, SIGKILL after 10 s; resolves once all have exited. */
export function stopProcesses(children: readonly ChildProcess[]): Promise<void> {
  return Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const kill = setTimeout(() => c.kill('SIGKILL'), 10_000);
          c.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  ).then(() => undefined);
}

/** Polls the name server until `brokerName` has a master (broker id 0), at most 60 s. */
export async function waitForMaster(ns: string, brokerName: string): Promise<void> {
  const admin = new AdminApi(ns);
  try {
    for (let i = 0; i < 600; i++) {
      try {
        if ((await admin.getClusterInfo()).brokerAddrTable.get(brokerName)?.brokerAddrs.get(0)) return;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${brokerName} has no master after 60 s`);
  } finally {
    admin.close();
  }
}

/** utime + stime of a process in microseconds (Linux /proc; clock ticks of 10 ms), NaN elsewhere. */
export function processCpuMicros(pid: number | undefined): number {
  const t = processCpuTimes(pid);
  return t.user + t.system;
}

/** utime and stime of a process in microseconds (Linux /proc; clock ticks of 10 ms), NaN elsewhere. */
export function processCpuTimes(pid: number | undefined): { user: number; system: number } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces: the fields after it follow its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) * 10_000, system: Number(fields[12]) * 10_000 };
  } catch {
    return { user: NaN, system: NaN };
  }
}

/** Read and write system calls a process has made so far (Linux /proc/<pid>/io: syscr, syscw; every thread), NaN elsewhere. */
export function processSyscalls(pid: number | undefined): { reads: number; writes: number } {
  try {
    const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (k: string): number => Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
    return { reads: field('syscr'), writes: field('syscw') };
  } catch {
    return { reads: NaN, writes: NaN };
  }
}
