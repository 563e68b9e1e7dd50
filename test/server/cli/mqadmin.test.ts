// mqadmin against an in-process name server (and a stand-in broker for runtime info): the
// output matches what RocketMQ's own mqadmin printed (test/fixtures/remoting/mqadmin-output).
import fs from 'node:fs';
import t, { type Test } from 'tap';
import { encodeRegisterBrokerBody } from '../../../protocol/body/RegisterBrokerBody.js';
import { topicConfig } from '../../../protocol/body/TopicConfig.js';
import { createRequest, createResponse, decodeCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { runAdmin } from '../../../server/cli/mqadmin.js';
import { left } from '../../../server/cli/format.js';
import { RemotingServer } from '../../../server/remoting/RemotingServer.js';
import { silentLogger } from '../../../server/log.js';
import { fixturePath, loadCapture } from '../../helpers/fixtures.js';
import { startNamesrv } from '../../helpers/namesrv.js';
import { RawConnection } from '../../helpers/rawConnection.js';

const expected = (name: string): string => fs.readFileSync(fixturePath('remoting', 'mqadmin-output', name), 'utf8');

async function admin(argv: string[], env: NodeJS.ProcessEnv = {}, now = Date.now()): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAdmin(argv, { out: (s) => (out += s), err: (s) => (err += s), env, now: () => now });
  return { code, out, err };
}

async function registerBroker(
  t: Test,
  nsPort: number,
  b: { cluster: string; name: string; addr: string; id: number; topics: string[] },
): Promise<void> {
  const conn = await RawConnection.open(nsPort);
  t.teardown(() => conn.end());
  const table = new Map(b.topics.map((n) => [n, topicConfig(n, { readQueueNums: 8, writeQueueNums: 8, perm: n === 'TBW102' ? 7 : 6 })]));
  const body = encodeRegisterBrokerBody({ dataVersion: { timestamp: 1, counter: 1 }, topicConfigTable: table, filterServerList: [] }, false);
  const res = await conn.command(
    createRequest({
      code: RequestCode.REGISTER_BROKER,
      opaque: 1,
      extFields: { brokerName: b.name, brokerAddr: b.addr, clusterName: b.cluster, haServerAddr: b.addr, brokerId: String(b.id), compressed: 'false' },
      body,
    }),
  );
  t.equal(res.code, 0, `registered ${b.addr} as id ${b.id}`);
}

t.test('topicRoute prints the route like fastjson pretty-prints it', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  await registerBroker(t, ns.port, { cluster: 'DefaultCluster', name: 'broker-a', addr: '127.0.0.1:10911', id: 0, topics: ['FxTopic'] });
  const classic = await admin(['topicRoute', '-n', `127.0.0.1:${ns.port}`, '-t', 'FxTopic']);
  t.equal(classic.code, 0);
  t.equal(classic.out, expected('topicRoute-classic.txt'));

  const ns2 = await startNamesrv();
  t.teardown(() => ns2.stop());
  for (const [addr, id] of [['127.0.0.1:30911', 0], ['127.0.0.1:30921', 2], ['127.0.0.1:30931', 3]] as const) {
    await registerBroker(t, ns2.port, { cluster: 'RaftCluster', name: 'RaftNode00', addr, id, topics: ['FxTopic'] });
  }
  const dledger = await admin(['topicRoute', '-t', 'FxTopic'], { NAMESRV_ADDR: `127.0.0.1:${ns2.port}` });
  t.equal(dledger.out, expected('topicRoute-dledger.txt'), 'NAMESRV_ADDR is honoured; followers at ids 2 and 3');

  const missing = await admin(['topicRoute', '-n', `127.0.0.1:${ns.port}`, '-t', 'NoSuchTopic']);
  t.equal(missing.code, 1);
  t.match(missing.err, /CODE: 17/);
});

t.test('clusterList shows each broker address with its runtime info', async (t) => {
  // A stand-in broker answering GET_BROKER_RUNTIME_INFO with the real broker's captured answer.
  const captured = loadCapture('b-clusterList');
  const runtime = decodeCommand(captured.find((f) => f.dir === 's2c' && f.server.endsWith(':10911') && f.len > 1000)!.bytes.subarray(4));
  const broker = new RemotingServer({ host: '127.0.0.1', port: 0, log: silentLogger });
  broker.register(RequestCode.GET_BROKER_RUNTIME_INFO, (req) => createResponse(req, 0, { body: runtime.body }));
  await broker.listen();
  t.teardown(() => broker.close());
  const brokerAddr = `127.0.0.1:${broker.port}`;

  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  await registerBroker(t, ns.port, { cluster: 'DefaultCluster', name: 'broker-a', addr: brokerAddr, id: 0, topics: ['TBW102'] });
  // The capture's clientID carries the time mqadmin ran; the #Hour column depends on it.
  const res = await admin(['clusterList', '-n', `127.0.0.1:${ns.port}`], {}, 1795745807934);
  t.equal(res.code, 0);
  t.equal(res.out, expected('clusterList-classic.txt').replace(left('127.0.0.1:10911', 22), left(brokerAddr, 22)));

  const more = await admin(['clusterList', '-m', '-n', `127.0.0.1:${ns.port}`]);
  t.equal(
    more.out,
    '#Cluster Name     #Broker Name                       #InTotalYest  #OutTotalYest  #InTotalToday #OutTotalToday\n' +
      'DefaultCluster    broker-a                                      0              0              0              0\n',
    'Java prints today-minus-yesterday counters from the runtime table',
  );
});

t.test('clusterList still prints a row when a broker does not answer', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  await registerBroker(t, ns.port, { cluster: 'C', name: 'b', addr: '127.0.0.1:1', id: 0, topics: [] });
  const res = await admin(['clusterList', '-n', `127.0.0.1:${ns.port}`]);
  t.equal(res.code, 0);
  t.match(res.out.split('\n')[1], /^C {17}b {23}0 {5}127\.0\.0\.1:1 /);
  t.match(res.err, /GET_BROKER_RUNTIME_INFO from 127\.0\.0\.1:1 failed/);
});

t.test('topicList, and KV config get / update / delete', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  await registerBroker(t, ns.port, { cluster: 'DefaultCluster', name: 'broker-a', addr: '127.0.0.1:2', id: 0, topics: ['TBW102', 'FxTopic'] });
  const n = ['-n', `127.0.0.1:${ns.port}`];
  const list = await admin(['topicList', ...n]);
  t.same(list.out.trim().split('\n').sort(), ['FxTopic', 'TBW102']);
  const withCluster = await admin(['topicList', '-c', ...n]);
  t.match(withCluster.out, /^#Cluster Name {9}#Topic {44}#Consumer Group/);
  t.match(withCluster.out, /\nDefaultCluster {8}FxTopic {43}/, 'a topic whose broker is down is listed without groups');

  t.equal((await admin(['updateKvConfig', ...n, '-s', 'ORDER_TOPIC_CONFIG', '-k', 'FxTopic', '-v', 'broker-a:8'])).out, 'create or update kv config to namespace success.\n');
  t.equal(
    (await admin(['getKvConfig', ...n, '-s', 'ORDER_TOPIC_CONFIG', '-k', 'FxTopic'])).out,
    'get kv config success, namespace: ORDER_TOPIC_CONFIG, key: FxTopic, value: broker-a:8.\n',
  );
  t.equal((await admin(['deleteKvConfig', ...n, '-s', 'ORDER_TOPIC_CONFIG', '-k', 'FxTopic'])).code, 0);
  const gone = await admin(['getKvConfig', ...n, '-s', 'ORDER_TOPIC_CONFIG', '-k', 'FxTopic']);
  t.equal(gone.code, 1);
  t.match(gone.err, /No config item, Namespace: ORDER_TOPIC_CONFIG Key: FxTopic/);
});

t.test('usage errors', async (t) => {
  const noAddr = await admin(['topicList']);
  t.equal(noAddr.code, 1);
  t.match(noAddr.err, /give -n host:port or set NAMESRV_ADDR/);
  const missingOpt = await admin(['topicRoute', '-n', '127.0.0.1:1']);
  t.equal(missingOpt.code, 1);
  t.match(missingOpt.err, /required option '-t, --topic <topic>'/);
  const unknown = await admin(['nope']);
  t.equal(unknown.code, 1);
});
