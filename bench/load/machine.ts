// What a benchmark figure needs beside it to be judged: this machine's loopback round trip and
// its disk's fsync rate, measured in the same run.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';

export const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? NaN;
};

/** `node -e code ...args` without the runner's NODE_OPTIONS; stdout piped, stderr inherited. */
export function spawnNodeCode(code: string, args: string[] = []): ChildProcessByStdio<null, Readable, null> {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return spawn(process.execPath, ['-e', code, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Round trip (µs) of 1-byte ping-pongs over loopback TCP to a child process. */
export async function loopbackRtt(samples = 20_000): Promise<{ p50: number; p99: number }> {
  const code = `const s=require('net').createServer(c=>{c.setNoDelay(true);c.on('data',d=>c.write(d))});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))`;
  const child = spawnNodeCode(code);
  const port = await new Promise<number>((r) => child.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  const lat: number[] = [];
  await new Promise<void>((resolve) => {
    const c = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => {
      let t0 = 0;
      const go = (): void => {
        t0 = performance.now();
        c.write('x');
      };
      c.on('data', () => {
        lat.push((performance.now() - t0) * 1000);
        if (lat.length < samples) go();
        else {
          c.destroy();
          resolve();
        }
      });
      go();
    });
  });
  child.kill();
  return { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99) };
}

/** fdatasync calls per second after 4 KiB appends, for about a second, on `dir`'s disk. */
export function fsyncRate(dir: string): number {
  const file = path.join(dir, `bench-fsync-${process.pid}`);
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(4096, 1);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000 && n < 100_000) {
    fs.writeSync(fd, buf);
    fs.fdatasyncSync(fd);
    n++;
  }
  const rate = n / ((performance.now() - t0) / 1000);
  fs.closeSync(fd);
  fs.rmSync(file, { force: true });
  return rate;
}
