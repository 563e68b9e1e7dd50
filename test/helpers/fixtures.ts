// Paths and loaders for the captured fixtures in test/fixtures (copied from the real
// RocketMQ 4.9.8 captures; see test/fixtures/remoting/README.md).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

/** Project root, whether this file runs from test/ or from dist/test/. */
export const projectRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

export function fixturePath(...parts: string[]): string {
  return path.join(projectRoot, 'test', 'fixtures', ...parts);
}

/** One captured remoting frame (a line of a *.jsonl.gz capture). */
export interface CapturedFrame {
  i: number;
  t: number;
  conn: number;
  client: string;
  server: string;
  dir: 'c2s' | 's2c';
  len: number;
  ser: string;
  code: number;
  flag: number;
  opaque: number;
  /** the whole frame, including the 4-byte length prefix */
  bytes: Buffer;
}

export function loadCapture(name: string): CapturedFrame[] {
  const file = fixturePath('remoting', name.endsWith('.gz') ? name : `${name}.jsonl.gz`);
  const text = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const raw = JSON.parse(line) as Omit<CapturedFrame, 'bytes'> & { hex: string };
      const { hex, ...rest } = raw;
      return { ...rest, bytes: Buffer.from(hex, 'hex') };
    });
}

export function captureNames(): string[] {
  return fs
    .readdirSync(fixturePath('remoting'))
    .filter((f) => f.endsWith('.jsonl.gz'))
    .sort();
}

export function readJsonLines<T = unknown>(...parts: string[]): T[] {
  return fs
    .readFileSync(fixturePath(...parts), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
