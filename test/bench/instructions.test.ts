// bench/load/instructions: instruction counts that scale with the work done, or NaN when perf
// cannot count here (no perf, or a VM without counters): never a made-up number.
import t from 'tap';
import { spawn } from 'node:child_process';
import { countInstructions, instructionCountsAvailable } from '../../bench/load/instructions.js';

/** A node child that spins for `loops` x 1e6 iterations when told to, then waits to be killed. */
async function spinner(): Promise<{ spin: (loops: number) => Promise<void>; pid: number; kill: () => void }> {
  const child = spawn(process.execPath, ['-e', `process.stdin.on('data', (d) => { let x = 0; const n = Number(String(d)) * 1e6; for (let i = 0; i < n; i++) x += i; process.stdout.write(String(x % 7)); });`], { stdio: ['pipe', 'pipe', 'ignore'] });
  await new Promise((r) => setTimeout(r, 300)); // node has started and waits for input
  return {
    pid: child.pid!,
    spin: (loops) =>
      new Promise<void>((resolve) => {
        child.stdout!.once('data', () => resolve());
        child.stdin!.write(String(loops));
      }),
    kill: () => child.kill('SIGKILL'),
  };
}

t.test('counts grow with the work of each process, or are NaN where perf cannot count', async (t) => {
  const a = await spinner();
  const b = await spinner();
  t.teardown(() => {
    a.kill();
    b.kill();
  });
  const counter = await countInstructions([a.pid, b.pid, undefined]);
  await a.spin(20);
  await b.spin(200);
  const [ia, ib, none] = await counter.stop();
  t.ok(Number.isNaN(none), 'no process, no count');
  if (!instructionCountsAvailable()) {
    t.ok(Number.isNaN(ia) && Number.isNaN(ib), 'perf cannot count here: NaN, not a number made up');
    return;
  }
  t.ok(ia! > 20e6, `20 M iterations took at least one instruction each (${ia})`);
  t.ok(ib! > 5 * ia!, `ten times the work counts several times the instructions (${ib} against ${ia})`);
});
