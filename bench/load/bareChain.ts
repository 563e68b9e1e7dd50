// The floor under bench/raft's one-at-a-time row, measured in the same run: three bare Node
// processes doing only what one Raft commit cannot do without. A "leader" writes a 1 KiB entry
// to a file (one pwrite) and sends it over loopback TCP to two "followers"; each writes it to its
// own file and answers with its index; the entry counts as committed at the first answer (a
// majority of three). No framing beyond a length, no log format, no core, no timers.
// What raftmq spends per entry above this is what its code costs; what this spends is the
// machine's price for the processes, wake-ups, system calls and copies a commit needs.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { processCpuTimes } from './processes.js';
import { percentile } from './machine.js';

export interface BareChainResult {
  perSec: number;
  p50us: number;
  p99us: number;
  /** CPU time per committed entry (user + system, all threads, from /proc): the leader's, and the followers' mean */
  leaderCpuUs: number;
  followerCpuUs: number;
  /** bytes in the leader's and the followers' files at the end (every entry written on all three) */
  fileBytes: number[];
}

// A follower: listens, prints its port; every whole frame ([u32 length][u32 index][body]) in a
// chunk is written to its file; the last index of the chunk goes back as 4 bytes. The frame
// buffer is bounded (a frame over 1 MiB ends the process).
const FOLLOWER = `
const net = require('net'), fs = require('fs');
const fd = fs.openSync(process.argv[1], 'w');
let pos = 0;
const s = net.createServer((c) => {
  c.setNoDelay(true);
  let pend = Buffer.alloc(0);
  c.on('data', (d) => {
    pend = pend.length ? Buffer.concat([pend, d]) : d;
    let last = -1;
    while (pend.length >= 8) {
      const len = pend.readUInt32LE(0);
      if (len > 1 << 20) process.exit(2);
      if (pend.length < 8 + len) break;
      fs.writeSync(fd, pend, 8, len, pos);
      pos += len;
      last = pend.readUInt32LE(4);
      pend = pend.subarray(8 + len);
    }
    if (last >= 0) { const a = Buffer.allocUnsafe(4); a.writeUInt32LE(last); c.write(a); }
  });
  c.on('error', () => undefined);
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

// The leader: connects to the followers (ports in argv), proposes `count` entries one at a
// time after `warm` unmeasured ones, prints "ready" before the measured ones and one JSON line
// of latencies (us) at the end, then idles until killed (its CPU time is read before that).
const LEADER = `
const net = require('net'), fs = require('fs');
const [file, p1, p2, warmS, countS] = process.argv.slice(1);
const warm = Number(warmS), count = Number(countS), total = warm + count;
const fd = fs.openSync(file, 'w');
const body = Buffer.alloc(1024, 7);
let pos = 0, seq = 0, committed = 0, t0 = 0, started = 0;
const lat = [];
const socks = [p1, p2].map((p) => net.connect({ port: Number(p), host: '127.0.0.1', noDelay: true }));
const send = () => {
  const id = ++seq;
  const f = Buffer.allocUnsafe(8 + body.length);
  f.writeUInt32LE(body.length, 0);
  f.writeUInt32LE(id, 4);
  body.copy(f, 8);
  t0 = performance.now();
  fs.writeSync(fd, body, 0, body.length, pos);
  pos += body.length;
  for (const s of socks) s.write(f);
};
const acked = [0, 0];
socks.forEach((s, i) => {
  let pend = Buffer.alloc(0);
  s.on('data', (d) => {
    pend = pend.length ? Buffer.concat([pend, d]) : d;
    while (pend.length >= 4) { acked[i] = Math.max(acked[i], pend.readUInt32LE(0)); pend = pend.subarray(4); }
    if (Math.max(acked[0], acked[1]) < seq || committed === seq) return;
    committed = seq;
    if (committed > warm) lat.push((performance.now() - t0) * 1000);
    if (committed === warm) { console.log('ready'); started = performance.now(); }
    if (committed < total) send();
    else console.log(JSON.stringify({ lat, ms: performance.now() - started })); // then waits to be killed
  });
  s.on('error', (e) => { console.error(e.message); process.exit(1); });
});
let open = 0;
for (const s of socks) s.once('connect', () => { if (++open === 2) send(); });
`;

function child(code: string, args: string[]): ChildProcess {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return spawn(process.execPath, ['-e', code, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
}

function firstLine(c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      c.stdout!.off('data', onData);
      resolve(text.slice(0, nl));
    };
    c.stdout!.on('data', onData);
    c.once('exit', (code) => reject(new Error(`bare chain process exited with ${code}`)));
  });
}

/** One entry at a time through three bare processes; `count` measured after `warm` (both bounded). */
export async function bareChain(dir: string, count = 10_000, warm = 2000): Promise<BareChainResult> {
  const n = Math.max(1, Math.min(count, 1_000_000));
  const folder = fs.mkdtempSync(path.join(dir, 'bare-chain-'));
  const procs: ChildProcess[] = [];
  try {
    const followers = [child(FOLLOWER, [path.join(folder, 'f1')]), child(FOLLOWER, [path.join(folder, 'f2')])];
    procs.push(...followers);
    const ports = await Promise.all(followers.map(firstLine));
    const leader = child(LEADER, [path.join(folder, 'l'), ports[0]!, ports[1]!, String(Math.max(0, warm)), String(n)]);
    procs.push(leader);
    const cpu = (): number[] =>
      procs.map((p) => {
        const t = processCpuTimes(p.pid);
        return t.user + t.system;
      });
    let before: number[] = [];
    let after: number[] = [];
    const lines: string[] = [];
    let text = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bare chain: no result within 120 s')), 120_000);
      leader.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        let nl: number;
        while ((nl = text.indexOf('\n')) >= 0) {
          lines.push(text.slice(0, nl));
          text = text.slice(nl + 1);
          if (lines.length === 1) before = cpu();
          if (lines.length === 2) {
            after = cpu();
            clearTimeout(timer);
            resolve();
          }
        }
      });
      leader.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`bare chain leader exited with ${code}`));
      });
    });
    const r = JSON.parse(lines[1]!) as { lat: number[]; ms: number };
    const fileBytes = ['l', 'f1', 'f2'].map((f) => fs.statSync(path.join(folder, f)).size);
    const used = after.map((a, i) => (a - before[i]!) / n);
    return {
      perSec: n / (r.ms / 1000),
      p50us: percentile(r.lat, 0.5),
      p99us: percentile(r.lat, 0.99),
      followerCpuUs: (used[0]! + used[1]!) / 2,
      leaderCpuUs: used[2]!,
      fileBytes,
    };
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
