// Runs the simulator over fixed seeds (500 by default; RAFT_SIM_SEEDS / RAFT_SIM_SEED change
// the range); a failure prints the command that replays its seed.
import t from 'tap';
import { RaftSimulator, type SimOptions } from './RaftSimulator.js';
import { SIM_STEPS, nodesForSeed } from './simSeeds.js';

const SEEDS = Number(process.env.RAFT_SIM_SEEDS ?? 500);
const FIRST = Number(process.env.RAFT_SIM_SEED ?? 1);

t.test(`simulated 3- and 5-node groups stay safe and live over ${SEEDS} seeds`, async (t) => {
  const totals = { commits: 0, elections: 0, crashes: 0, transfers: 0, segmentCopies: 0, partitions: 0 };
  const features = { oneWay: 0, drift: 0, transfers: 0, retention: 0, batching: 0, preferred: 0 };
  for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
    const opts: SimOptions = { seed, nodes: nodesForSeed(seed), faultSteps: SIM_STEPS.faultSteps, calmSteps: SIM_STEPS.calmSteps };
    const sim = new RaftSimulator(opts);
    try {
      sim.run();
    } catch (err) {
      t.fail(`seed ${seed} (${opts.nodes} nodes) failed: ${(err as Error).message}\n  replay: ${RaftSimulator.replayCommand(opts)}`);
      return;
    }
    totals.commits += sim.stats.maxCommit + 1;
    totals.elections += sim.stats.elections;
    totals.crashes += sim.stats.crashes;
    totals.transfers += sim.stats.transfers;
    totals.segmentCopies += sim.stats.segmentCopies;
    totals.partitions += sim.stats.partitions;
    const f = sim.features;
    features.oneWay += Number(f.oneWayPartitions);
    features.drift += Number(f.clockDrift);
    features.transfers += Number(f.transfers);
    features.retention += Number(f.retention);
    features.batching += Number(f.batching);
    features.preferred += Number(f.preferredLeader !== null);
  }
  t.pass(`${SEEDS} seeds: ${JSON.stringify(totals)}; seeds with ${JSON.stringify(features)}`);
  t.ok(totals.commits > SEEDS * 10, `entries committed across seeds: ${totals.commits}`);
  t.ok(totals.elections >= SEEDS, 'every seed elected');
  if (SEEDS >= 100) {
    t.ok(totals.crashes > 0 && totals.transfers > 0 && totals.segmentCopies > 0 && totals.partitions > 0, 'crashes, transfers, segment copies and partitions all happened');
  }
});
