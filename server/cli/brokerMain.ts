// Entry point of bin/mqbroker: RocketMQ's flags (-c, -n, -p, -m, -h), then a broker until
// SIGTERM/SIGINT, when it unregisters from the name servers and closes its store cleanly.
import { prepareLaunch } from '../config/cli.js';
import { runMain, untilStopSignal } from './processMain.js';
import { formatHostPort } from '../config/valueTypes.js';
import { createLogger } from '../log.js';
import { BrokerController } from '../broker/BrokerController.js';
import { applyHeapGrowth } from '../../raft/node/heapGrowth.js';

async function main(): Promise<number> {
  applyHeapGrowth();
  const plan = prepareLaunch('broker', process.argv.slice(2), process.env, {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
  if ('exitCode' in plan) return plan.exitCode;
  const cfg = plan.config;
  const log = createLogger('broker');
  const controller = new BrokerController({ config: cfg, log, configFile: plan.file });
  try {
    await controller.start();
  } catch (e) {
    process.stderr.write(`mqbroker: cannot start (listenPort ${cfg.listenPort}, store ${cfg.storePathRootDir}): ${(e as Error).message}\n`);
    return 1;
  }
  // The line the Java broker prints, which scripts wait for.
  const ns = cfg.namesrvAddr.map(formatHostPort).join(';');
  process.stdout.write(`The broker[${cfg.brokerName}, ${controller.brokerAddr}] boot success. serializeType=JSON and name server is ${ns}\n`);
  await untilStopSignal();
  log('shutting down');
  await controller.stop();
  return 0;
}

runMain('mqbroker', main);
