// Entry point of bin/mqnamesrv: RocketMQ's flags (-c, -p, -h), then a name server until SIGTERM/SIGINT.
import { prepareLaunch } from '../config/cli.js';
import { runMain, untilStopSignal } from './processMain.js';
import { createLogger } from '../log.js';
import { NamesrvController } from '../namesrv/NamesrvController.js';

async function main(): Promise<number> {
  const plan = prepareLaunch('namesrv', process.argv.slice(2), process.env, {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
  if ('exitCode' in plan) return plan.exitCode;
  const cfg = plan.config;
  const log = createLogger('namesrv');
  const controller = new NamesrvController({
    listenPort: cfg.listenPort,
    kvConfigPath: cfg.kvConfigPath,
    brokerChannelExpiredTime: cfg.brokerChannelExpiredTime,
    scanNotActiveBrokerInterval: cfg.scanNotActiveBrokerInterval,
    enableAllTopicList: cfg.enableAllTopicList,
    orderMessageEnable: cfg.orderMessageEnable,
    idleTimeoutMs: cfg.serverChannelMaxIdleTimeSeconds * 1000,
    backlog: cfg.serverSocketBacklog,
    metrics: { metricsExporterType: cfg.metricsExporterType, metricsPromExporterHost: cfg.metricsPromExporterHost, metricsPromExporterPort: cfg.metricsPromExporterPort },
    log,
  });
  try {
    await controller.start();
  } catch (e) {
    process.stderr.write(`mqnamesrv: cannot start on port ${cfg.listenPort}: ${(e as Error).message}\n`);
    return 1;
  }
  // The same line the Java name server prints, which scripts wait for.
  process.stdout.write(`The Name Server boot success. serializeType=JSON\n`);
  await untilStopSignal();
  log('shutting down');
  await controller.stop();
  return 0;
}

runMain('mqnamesrv', main);
