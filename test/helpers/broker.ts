// Brokers for tests: a real bin/mqbroker process on a free port with its own store folder, or
// an in-process BrokerController (faster, for tests that do not need a process boundary).
import fs from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { AdminApi } from '../../client/AdminApi.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { BrokerController } from '../../server/broker/BrokerController.js';
import { loadBrokerConfig } from '../../server/config/loadConfig.js';
import { silentLogger } from '../../server/log.js';
import { freePort, startBin, tempDir, type Running } from './processes.js';

export interface BrokerSetup {
  namesrvAddr: string;
  /** extra keys of the broker config file */
  conf?: Record<string, string>;
  /** reuse a store folder (restart tests); a fresh temporary one by default */
  storeDir?: string;
  port?: number;
  brokerName?: string;
}

export interface BrokerProcess extends Running {
  port: number;
  addr: string;
  storeDir: string;
  confPath: string;
  /** SIGTERM and wait for the exit (a clean shutdown) */
  stop(): Promise<number | null>;
}

function confText(s: BrokerSetup, port: number, storeDir: string): string {
  const keys: Record<string, string> = {
    brokerClusterName: 'DefaultCluster',
    brokerName: s.brokerName ?? 'broker-a',
    brokerIP1: '127.0.0.1',
    brokerIP2: '127.0.0.1',
    listenPort: String(port),
    namesrvAddr: s.namesrvAddr,
    storePathRootDir: storeDir,
    ...s.conf,
  };
  return Object.entries(keys).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/** bin/mqbroker as a child process; killed (SIGKILL) at teardown if still running. */
export async function startBrokerProcess(t: Test, s: BrokerSetup): Promise<BrokerProcess> {
  const port = s.port ?? (await freePort());
  const storeDir = s.storeDir ?? tempDir(t, 'raftmq-broker-');
  const confPath = path.join(storeDir, `broker-${port}.conf`);
  fs.mkdirSync(storeDir, { recursive: true });
  fs.writeFileSync(confPath, confText(s, port, storeDir));
  // tap's loader hooks in NODE_OPTIONS cost every child start ~0.4 s
  // generous: on a loaded 2-core machine a start can take many seconds
  const r = await startBin(t, 'mqbroker', ['-c', confPath], /boot success/, { NODE_OPTIONS: '' }, 60_000);
  return {
    ...r,
    port,
    addr: `127.0.0.1:${port}`,
    storeDir,
    confPath,
    async stop() {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      return r.exited;
    },
  };
}

/** A BrokerController in this process on a free port; stopped at teardown. */
export async function startBrokerInProcess(t: Test, s: BrokerSetup): Promise<BrokerController> {
  const port = s.port ?? (await freePort());
  const storeDir = s.storeDir ?? tempDir(t, 'raftmq-broker-');
  const confPath = path.join(storeDir, `broker-${port}.conf`);
  fs.mkdirSync(storeDir, { recursive: true });
  fs.writeFileSync(confPath, confText(s, port, storeDir));
  const { config } = loadBrokerConfig({ file: confPath, env: {} });
  const b = new BrokerController({ config, log: silentLogger, configFile: confPath });
  await b.start();
  t.teardown(() => b.stop());
  return b;
}

/** UPDATE_AND_CREATE_TOPIC straight to a broker (ali-ons cannot create topics). */
export async function createTopic(brokerAddr: string, namesrvAddr: string, topic: string, queues = 4, perm = 6): Promise<void> {
  const admin = new AdminApi(namesrvAddr);
  try {
    const res = await admin.invokeBroker(brokerAddr, RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic,
      defaultTopic: 'TBW102',
      readQueueNums: String(queues),
      writeQueueNums: String(queues),
      perm: String(perm),
      topicFilterType: 'SINGLE_TAG',
      order: 'false',
    });
    if (res.code !== 0) throw new Error(`create topic ${topic}: code ${res.code} ${res.remark ?? ''}`);
  } finally {
    admin.close();
  }
}
