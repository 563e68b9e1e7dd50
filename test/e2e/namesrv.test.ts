// bin/mqnamesrv and bin/mqadmin as real processes on loopback.
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { encodeRegisterBrokerBody } from '../../protocol/body/RegisterBrokerBody.js';
import { topicConfig } from '../../protocol/body/TopicConfig.js';
import { createRequest } from '../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { freePort, runBin, startBin, tempDir } from '../helpers/processes.js';
import { RawConnection } from '../helpers/rawConnection.js';

const READY = /The Name Server boot success/;

async function namesrvConf(t: Test, extra = ''): Promise<{ file: string; port: number; dir: string }> {
  const dir = tempDir(t);
  const port = await freePort();
  const file = path.join(dir, 'namesrv.conf');
  fs.writeFileSync(file, `listenPort=${port}\nkvConfigPath=${path.join(dir, 'kv', 'kvConfig.json')}\n${extra}`);
  return { file, port, dir };
}

t.test('starts from a config file, serves mqadmin, keeps KV config across a restart, stops on SIGTERM', async (t) => {
  const { file, port, dir } = await namesrvConf(t);
  const ns = await startBin(t, 'mqnamesrv', ['-c', file], READY);
  const addr = `127.0.0.1:${port}`;

  const update = await runBin('mqadmin', ['updateKvConfig', '-n', addr, '-s', 'ORDER_TOPIC_CONFIG', '-k', 'T1', '-v', 'b:4']);
  t.equal(update.stdout, 'create or update kv config to namespace success.\n');

  // A broker registers on a connection of its own; its topic appears in topicList and topicRoute.
  const broker = await RawConnection.open(port);
  const body = encodeRegisterBrokerBody(
    { dataVersion: { timestamp: 1, counter: 1 }, topicConfigTable: new Map([['T1', topicConfig('T1', { readQueueNums: 4, writeQueueNums: 4 })]]), filterServerList: [] },
    true,
  );
  const reg = await broker.command(
    createRequest({
      code: RequestCode.REGISTER_BROKER,
      opaque: 1,
      extFields: { brokerName: 'b', brokerAddr: '127.0.0.1:1', clusterName: 'C', haServerAddr: '127.0.0.1:2', brokerId: '0', compressed: 'true' },
      body,
    }),
  );
  t.equal(reg.code, 0, 'a compressed registration body is accepted');
  const list = await runBin('mqadmin', ['topicList'], { NAMESRV_ADDR: addr });
  t.equal(list.stdout, 'T1\n');
  const route = await runBin('mqadmin', ['topicRoute', '-n', addr, '-t', 'T1']);
  t.match(route.stdout, /"brokerAddrs":\{0:"127\.0\.0\.1:1"\n/);

  // The broker's connection closes: its routes go at once.
  broker.end();
  let gone = await runBin('mqadmin', ['topicRoute', '-n', addr, '-t', 'T1']);
  for (let i = 0; i < 50 && gone.code === 0; i++) gone = await runBin('mqadmin', ['topicRoute', '-n', addr, '-t', 'T1']);
  t.equal(gone.code, 1, 'route removed after the broker connection closed');
  t.match(gone.stderr, /CODE: 17/);

  ns.child.kill('SIGTERM');
  t.equal(await ns.exited, 0, 'exits 0 on SIGTERM');
  t.ok(fs.existsSync(path.join(dir, 'kv', 'kvConfig.json')), 'KV config persisted');

  await startBin(t, 'mqnamesrv', ['-c', file], READY);
  const got = await runBin('mqadmin', ['getKvConfig', '-n', addr, '-s', 'ORDER_TOPIC_CONFIG', '-k', 'T1']);
  t.equal(got.stdout, 'get kv config success, namespace: ORDER_TOPIC_CONFIG, key: T1, value: b:4.\n', 'KV config survives a restart');
});

t.test('a bad value stops the start with file, line, key and value; unknown keys warn', async (t) => {
  const { file } = await namesrvConf(t, 'brokerChannelExpiredTime = soon\n');
  const bad = await runBin('mqnamesrv', ['-c', file]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: brokerChannelExpiredTime = "soon": expected`));

  const { file: warnFile } = await namesrvConf(t, 'listenPorts = 1\n');
  const printed = await runBin('mqnamesrv', ['-c', warnFile, '-p']);
  t.equal(printed.code, 0);
  t.match(printed.stderr, /warning: .*listenPorts/);
  t.match(printed.stdout, /^listenPort=\d+$/m);

  const missing = await runBin('mqnamesrv', ['-c', '/nonexistent/namesrv.conf']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /\/nonexistent\/namesrv\.conf/);
});

t.test('a port already in use is a clear error', async (t) => {
  const { file } = await namesrvConf(t);
  await startBin(t, 'mqnamesrv', ['-c', file], READY);
  const second = await runBin('mqnamesrv', ['-c', file]);
  t.equal(second.code, 1);
  t.match(second.stderr, /cannot start on port \d+: .*EADDRINUSE/);
});
