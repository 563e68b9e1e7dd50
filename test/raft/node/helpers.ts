// Standalone Raft node processes for the end-to-end tests: started without the test runner's
// NODE_OPTIONS (its loader hooks cost 0.4 s per start), killed when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Test } from 'tap';
import { projectRoot } from '../../helpers/fixtures.js';

export interface NodeProcess {
  id: string;
  child: ChildProcess;
  controlPort: number;
  output: () => string;
  /** ROLE lines seen so far: role, term, leader */
  roles: Array<{ role: string; term: number; leader: string }>;
  exited: Promise<number | null>;
  onLine: (f: (line: string) => void) => void;
}

export function startNodeProcess(t: Test, args: string[], timeoutMs = 20_000): Promise<NodeProcess> {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist/raft/node/standaloneMain.js'), ...args], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let partial = '';
  const listeners: Array<(line: string) => void> = [];
  const roles: NodeProcess['roles'] = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    partial += d.toString();
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      const m = /^ROLE (\S+) (\d+) (\S+)/.exec(line);
      if (m) roles.push({ role: m[1]!, term: Number(m[2]), leader: m[3]! });
      for (const l of listeners) l(line);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node not ready within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    listeners.push((line) => {
      const m = /^READY (\S+) raft=\S+ control=(\d+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolve({ id: m[1]!, child, controlPort: Number(m[2]), output: () => out, roles, exited, onLine: (f) => listeners.push(f) });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before it was ready:\n${out}`));
    });
  });
}

/** Resolves with the first of `nodes` to print a ROLE leader line with a term above `minTerm`. */
export function nextLeader(nodes: NodeProcess[], minTerm: number): Promise<{ node: NodeProcess; term: number }> {
  return new Promise((resolve) => {
    let done = false;
    for (const n of nodes) {
      const hit = n.roles.find((r) => r.role === 'leader' && r.term > minTerm);
      if (hit && !done) {
        done = true;
        return resolve({ node: n, term: hit.term });
      }
      n.onLine((line) => {
        const m = /^ROLE leader (\d+)/.exec(line);
        if (m && Number(m[1]) > minTerm && !done) {
          done = true;
          resolve({ node: n, term: Number(m[1]) });
        }
      });
    }
  });
}
