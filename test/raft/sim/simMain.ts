// The simulator's command line: `npm run sim -- --seeds N [--seed S] [--steps K]`.
// Runs seeds S..S+N-1 (3 nodes on odd seeds, 5 on even ones unless --nodes), stops at the
// first failure and prints the command that replays it.
import { RaftSimulator, type SimOptions } from './RaftSimulator.js';
import { SIM_STEPS, nodesForSeed } from './simSeeds.js';

interface Args {
  seeds: number;
  seed: number;
  steps: number;
  calm: number;
  nodes: 3 | 5 | null;
  trace: boolean;
}

const SIM_DEFAULTS = { steps: SIM_STEPS.faultSteps, calm: SIM_STEPS.calmSteps };

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { seeds: 100, seed: 1, steps: SIM_DEFAULTS.steps, calm: SIM_DEFAULTS.calm, nodes: null, trace: false };
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < min || n > max) throw new Error(`--${name} needs an integer in ${min}..${max}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[i + 1];
    switch (k) {
      case '--seeds': a.seeds = int('seeds', v, 1, 1_000_000); i++; break;
      case '--seed': a.seed = int('seed', v, 0, 0x7fffffff); i++; break;
      case '--steps': a.steps = int('steps', v, 1, 10_000_000); i++; break;
      case '--calm': a.calm = int('calm', v, 1, 10_000_000); i++; break;
      case '--nodes': {
        const n = int('nodes', v, 3, 5);
        if (n !== 3 && n !== 5) throw new Error('--nodes is 3 or 5');
        a.nodes = n;
        i++;
        break;
      }
      case '--trace': a.trace = true; break;
      case '--help':
      case '-h':
        console.log('usage: npm run sim -- [--seeds N=100] [--seed S=1] [--steps K=600] [--calm C=300] [--nodes 3|5] [--trace]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${k} (try --help)`);
    }
  }
  return a;
}

function main(): void {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const started = performance.now();
  const totals = { commits: 0, elections: 0, crashes: 0, transfers: 0, segmentCopies: 0, partitions: 0 };
  for (let seed = args.seed; seed < args.seed + args.seeds; seed++) {
    const opts: SimOptions = { seed, nodes: args.nodes ?? nodesForSeed(seed), faultSteps: args.steps, calmSteps: args.calm, traceLimit: args.trace ? 200 : 0 };
    const sim = new RaftSimulator(opts);
    try {
      sim.run();
    } catch (err) {
      console.error(`seed ${seed} (${opts.nodes} nodes, ${JSON.stringify(sim.features)}) FAILED: ${(err as Error).message}`);
      console.error(`replay: ${RaftSimulator.replayCommand(opts)}`);
      process.exit(1);
    }
    totals.commits += sim.stats.maxCommit + 1;
    totals.elections += sim.stats.elections;
    totals.crashes += sim.stats.crashes;
    totals.transfers += sim.stats.transfers;
    totals.segmentCopies += sim.stats.segmentCopies;
    totals.partitions += sim.stats.partitions;
    if ((seed - args.seed + 1) % 5000 === 0 && seed + 1 < args.seed + args.seeds) console.log(`... seeds ${args.seed}..${seed} passed`);
    if (args.seeds === 1) console.log(`seed ${seed}: ${JSON.stringify(sim.features)} ${JSON.stringify(sim.stats)}`);
  }
  const ms = Math.round(performance.now() - started);
  console.log(`${args.seeds} seeds (${args.seed}..${args.seed + args.seeds - 1}) passed in ${ms} ms: ${JSON.stringify(totals)}`);
}

main();
