// bench/load/bareChain: the floor bench/raft reads its one-at-a-time row against. It must commit
// every entry on all three processes, measure only the counted ones, and leave nothing behind.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bareChain } from '../../bench/load/bareChain.js';

t.test('three bare processes commit one entry at a time and report latency and CPU per entry', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bare-chain-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const r = await bareChain(dir, { followers: 2, client: false, count: 1000, warm: 50 });
  t.same(r.fileBytes, [1050 * 1024, 1050 * 1024, 1050 * 1024], 'every entry, warm-up included, is in all three files');
  t.ok(r.perSec > 0 && Number.isFinite(r.perSec), `a rate (${r.perSec.toFixed(0)}/s)`);
  t.ok(r.p50us > 0 && r.p50us <= r.p99us, `p50 ${r.p50us.toFixed(0)} us <= p99 ${r.p99us.toFixed(0)} us`);
  if (process.platform === 'linux') {
    t.ok(r.leaderCpuUs > 0 && Number.isFinite(r.leaderCpuUs), `leader CPU per entry from /proc (${r.leaderCpuUs.toFixed(0)} us)`);
    t.ok(r.followerCpuUs > 0 && Number.isFinite(r.followerCpuUs), `follower CPU per entry (${r.followerCpuUs.toFixed(0)} us)`);
  }
  t.ok(Number.isNaN(r.clientCpuUs), 'no client');
  t.same(fs.readdirSync(dir), [], 'its folder is removed');
});

t.test('a client sending one at a time, through a group of three and through a single node', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bare-chain-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const followers of [2, 0] as const) {
    const r = await bareChain(dir, { followers, client: true, count: 1000, warm: 50 });
    const files = followers === 2 ? 3 : 1;
    t.same(r.fileBytes, new Array(files).fill(1050 * 1024), `${followers} followers: every entry in all ${files} files`);
    t.ok(r.p50us > 0 && r.p50us <= r.p99us, `${followers} followers: p50 ${r.p50us.toFixed(0)} us <= p99 ${r.p99us.toFixed(0)} us`);
    t.equal(Number.isNaN(r.followerCpuUs), followers === 0, 'follower CPU only with followers');
    if (process.platform === 'linux') t.ok(r.clientCpuUs > 0 && r.leaderCpuUs > 0, `client ${r.clientCpuUs.toFixed(0)} us, leader ${r.leaderCpuUs.toFixed(0)} us per entry`);
  }
  t.same(fs.readdirSync(dir), [], 'the folders are removed');
});
