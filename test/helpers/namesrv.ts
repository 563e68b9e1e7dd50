// An in-process name server on a random loopback port, for tests.
import { NamesrvController, type NamesrvOptions } from '../../server/namesrv/NamesrvController.js';
import { silentLogger } from '../../server/log.js';

export async function startNamesrv(opts: Partial<NamesrvOptions> = {}): Promise<NamesrvController> {
  const c = new NamesrvController({
    host: '127.0.0.1',
    listenPort: 0,
    brokerChannelExpiredTime: 120_000,
    scanNotActiveBrokerInterval: 10_000,
    enableAllTopicList: true,
    orderMessageEnable: false,
    log: silentLogger,
    ...opts,
  });
  await c.start();
  return c;
}
