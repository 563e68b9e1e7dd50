#!/usr/bin/env node
// The project's test command: build (which type-checks src and tests), run tap over the
// compiled tests, and end with our own one-line summary "N passed, N failed".
import { spawnSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

const build = spawnSync(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  console.error('type check / build failed');
  process.exit(1);
}

const args = ['--reporter=tap', ...process.argv.slice(2)];
if (process.argv.length <= 2) args.push('dist/test/**/*.test.js');
const child = spawn(bin('tap'), args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString('utf8')).slice(-4096);
});
child.on('close', (code) => {
  // tap ends with a line like "# { total: 12, pass: 11, fail: 1, skip: 0 }"
  const m = /#\s*\{\s*total:\s*(\d+)([^}]*)\}/.exec(tail);
  let passed = 0;
  let failed = 0;
  if (m) {
    const field = (name) => Number((new RegExp(`${name}:\\s*(\\d+)`).exec(m[2]) ?? [])[1] ?? 0);
    passed = field('pass');
    failed = field('fail');
  }
  if (code !== 0 && failed === 0) failed = 1; // tap itself failed (crash, timeout, bad file)
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && code === 0 ? 0 : 1);
});
