// Runs the simulator over fixed seeds; a failure names the seed that replays it.
import t from 'tap';
import { RaftSimulator } from './RaftSimulator.js';

const SEEDS = Number(process.env.RAFT_SIM_SEEDS ?? 50);
const FIRST = Number(process.env.RAFT_SIM_SEED ?? 1);

t.test(`simulated 3- and 5-node groups stay safe and live over ${SEEDS} seeds`, async (t) => {
  let commits = 0;
  for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
    const nodes = seed % 2 === 0 ? 5 : 3;
    const sim = new RaftSimulator({ seed, nodes, faultSteps: 600, calmSteps: 300 });
    try {
      sim.run();
    } catch (err) {
      t.fail(`seed ${seed} (${nodes} nodes) failed: ${(err as Error).message}\n  replay: RAFT_SIM_SEED=${seed} RAFT_SIM_SEEDS=1 npx tap dist/test/raft/sim/RaftSimulator.test.js`);
      throw err;
    }
    commits += sim.stats.maxCommit + 1;
    t.ok(sim.stats.elections >= 1, `seed ${seed}: ${sim.stats.elections} elections, ${sim.stats.crashes} crashes, commit ${sim.stats.maxCommit}`);
  }
  t.ok(commits > SEEDS * 10, `entries committed across seeds: ${commits}`);
});
