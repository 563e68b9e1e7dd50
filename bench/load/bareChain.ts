// The floor under the one-at-a-time rows, measured in the same run: bare Node processes doing
// only what one commit cannot do without. A "leader" writes a 1 KiB entry to a file (one pwrite)
// and sends it over loopback TCP to two "followers" (or none: a single node); each writes it to
// its own file and answers with its index; the entry counts as committed at the first answer (a
// majority of three). The entries come from the leader itself (bench/raft's shape) or from a
// client process that sends one and waits for the answer (bench/suite's one send at a time).
// No framing beyond a length, no log format, no core, no timers.
// What raftmq spends per entry above this is what its code costs; what this spends is the
// machine's price for the processes, wake-ups, system calls and copies a commit needs.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { processCpuTimes } from './processes.js';
import { percentile, spawnNodeCode } from './machine.js';

export interface BareChainResult {
  perSec: number;
  p50us: number;
  p99us: number;
  /** CPU time per committed entry (user + system, all threads, from /proc): the leader's, the followers' mean (NaN without), the client's (NaN without) */
  leaderCpuUs: number;
  followerCpuUs: number;
  clientCpuUs: number;
  /** bytes in the leader's and then the followers' files at the end (each given up to 5 s to hold every entry) */
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

// The leader: connects to the followers (ports in argv, none for a single node), and either
// proposes itself ("self": `count` entries one at a time after `warm` unmeasured ones, "ready"
// before the measured ones, one JSON line of latencies in us at the end) or serves a client
// ("client": prints its port; each frame from the client is an entry, answered with its index at
// commit). An entry commits at the first follower's answer, or once written without followers.
// It idles after the end until killed (its CPU time is read before that).
const LEADER = `
const net = require('net'), fs = require('fs');
const [file, mode, warmS, countS, ...ports] = process.argv.slice(1);
const warm = Number(warmS), count = Number(countS), total = warm + count;
const fd = fs.openSync(file, 'w');
const body = Buffer.alloc(1024, 7);
let pos = 0, seq = 0, committed = 0, t0 = 0, started = 0, client = null;
const lat = [];
const socks = ports.map((p) => net.connect({ port: Number(p), host: '127.0.0.1', noDelay: true }));
const write = (f) => {
  fs.writeSync(fd, f, 8, f.length - 8, pos);
  pos += f.length - 8;
  for (const s of socks) s.write(f);
  if (socks.length === 0) commit(f.readUInt32LE(4));
};
const propose = () => {
  const f = Buffer.allocUnsafe(8 + body.length);
  f.writeUInt32LE(body.length, 0);
  f.writeUInt32LE(++seq, 4);
  body.copy(f, 8);
  t0 = performance.now();
  write(f);
};
const commit = (upTo) => {
  if (upTo <= committed) return;
  committed = upTo;
  if (mode === 'client') {
    const a = Buffer.allocUnsafe(4);
    a.writeUInt32LE(committed);
    client.write(a);
    return;
  }
  if (committed > warm) lat.push((performance.now() - t0) * 1000);
  if (committed === warm) { console.log('ready'); started = performance.now(); }
  if (committed < total) socks.length > 0 ? propose() : setImmediate(propose);
  else console.log(JSON.stringify({ lat, ms: performance.now() - started }));
};
socks.forEach((s) => {
  let pend = Buffer.alloc(0);
  s.on('data', (d) => {
    pend = pend.length ? Buffer.concat([pend, d]) : d;
    let last = 0;
    while (pend.length >= 4) { last = Math.max(last, pend.readUInt32LE(0)); pend = pend.subarray(4); }
    commit(last);
  });
  s.on('error', (e) => { console.error(e.message); process.exit(1); });
});
let open = 0;
const connected = () => {
  if (mode === 'self') return propose();
  const srv = net.createServer((c) => {
    c.setNoDelay(true);
    client = c;
    let pend = Buffer.alloc(0);
    c.on('data', (d) => {
      pend = pend.length ? Buffer.concat([pend, d]) : d;
      while (pend.length >= 8) {
        const len = pend.readUInt32LE(0);
        if (len > 1 << 20) process.exit(2);
        if (pend.length < 8 + len) break;
        seq = pend.readUInt32LE(4);
        write(pend.subarray(0, 8 + len));
        pend = pend.subarray(8 + len);
      }
    });
    c.on('error', () => undefined);
  });
  srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
};
if (socks.length === 0) connected();
for (const s of socks) s.once('connect', () => { if (++open === socks.length) connected(); });
`;

// The client: sends 1 KiB entries to the leader one at a time and times each answer; "ready"
// and the JSON line as the leader's "self" mode prints them.
const CLIENT = `
const net = require('net');
const [portS, warmS, countS] = process.argv.slice(1);
const warm = Number(warmS), count = Number(countS), total = warm + count;
const f = Buffer.alloc(8 + 1024, 7);
f.writeUInt32LE(1024, 0);
let seq = 0, t0 = 0, started = 0, pend = Buffer.alloc(0);
const lat = [];
const c = net.connect({ port: Number(portS), host: '127.0.0.1', noDelay: true });
const send = () => { f.writeUInt32LE(++seq, 4); t0 = performance.now(); c.write(f); };
c.on('data', (d) => {
  pend = pend.length ? Buffer.concat([pend, d]) : d;
  let last = 0;
  while (pend.length >= 4) { last = Math.max(last, pend.readUInt32LE(0)); pend = pend.subarray(4); }
  if (last !== seq) return;
  if (seq > warm) lat.push((performance.now() - t0) * 1000);
  if (seq === warm) { console.log('ready'); started = performance.now(); }
  if (seq < total) send();
  else console.log(JSON.stringify({ lat, ms: performance.now() - started }));
});
c.on('error', (e) => { console.error(e.message); process.exit(1); });
c.once('connect', send);
`;

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

export interface BareChainOptions {
  /** 2 (a group of three) or 0 (a single node) */
  followers: 0 | 2;
  /** entries from a client process (one send at a time, answered at commit) instead of the leader itself */
  client: boolean;
  /** entries measured, after `warm` unmeasured ones */
  count: number;
  warm: number;
}

/** One entry at a time through bare processes (see above). */
export async function bareChain(dir: string, o: BareChainOptions): Promise<BareChainResult> {
  const n = Math.max(1, Math.min(o.count, 1_000_000));
  const warm = Math.max(0, Math.min(o.warm, 1_000_000));
  const folder = fs.mkdtempSync(path.join(dir, 'bare-chain-'));
  const procs: ChildProcess[] = [];
  try {
    const files = ['l', ...(o.followers === 2 ? ['f1', 'f2'] : [])].map((f) => path.join(folder, f));
    const followers = files.slice(1).map((f) => spawnNodeCode(FOLLOWER, [f]));
    procs.push(...followers);
    const ports = await Promise.all(followers.map(firstLine));
    const leader = spawnNodeCode(LEADER, [files[0]!, o.client ? 'client' : 'self', String(warm), String(n), ...ports]);
    procs.push(leader);
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('bare chain: no result within 120 s')), 120_000);
      for (const p of procs) p.once('exit', (code) => reject(new Error(`a bare chain process exited with ${code}`)));
    });
    failed.catch(() => undefined); // the processes are killed at the end: their exits come after the result
    let measurer = leader;
    if (o.client) {
      const port = await Promise.race([firstLine(leader), failed]);
      measurer = spawnNodeCode(CLIENT, [port, String(warm), String(n)]);
      procs.push(measurer);
    }
    const cpu = (): number[] =>
      procs.map((p) => {
        const t = processCpuTimes(p.pid);
        return t.user + t.system;
      });
    let before: number[] = [];
    let after: number[] = [];
    const lines: string[] = [];
    let text = '';
    const done = new Promise<void>((resolve, reject) => {
      measurer.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        let nl: number;
        while ((nl = text.indexOf('\n')) >= 0) {
          lines.push(text.slice(0, nl));
          text = text.slice(nl + 1);
          if (lines.length === 1) before = cpu();
          if (lines.length === 2) {
            after = cpu();
            resolve();
          }
        }
      });
      measurer.once('exit', (code) => reject(new Error(`the bare chain's ${o.client ? 'client' : 'leader'} exited with ${code}`)));
    });
    try {
      await Promise.race([done, failed]);
    } finally {
      clearTimeout(timer);
    }
    const r = JSON.parse(lines[1]!) as { lat: number[]; ms: number };
    // an entry commits at the first follower's answer: the other may still be writing the last ones
    const want = (warm + n) * 1024;
    const sizes = (): number[] => files.map((f) => fs.statSync(f).size);
    for (let waited = 0; waited < 5000 && sizes().some((b) => b < want); waited += 10) await new Promise((res) => setTimeout(res, 10));
    const fileBytes = sizes();
    const used = after.map((a, i) => (a - before[i]!) / n);
    // procs: followers first, then the leader, then the client
    const nf = followers.length;
    return {
      perSec: n / (r.ms / 1000),
      p50us: percentile(r.lat, 0.5),
      p99us: percentile(r.lat, 0.99),
      followerCpuUs: nf > 0 ? (used[0]! + used[1]!) / 2 : NaN,
      leaderCpuUs: used[nf]!,
      clientCpuUs: o.client ? used[nf + 1]! : NaN,
      fileBytes,
    };
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
