// The HTTP side of a single (non-DLedger) broker and a name server in this process: off by
// default, /metrics without Raft families, /ready, the admin API, the loopback rule of writes.
import os from 'node:os';
import t from 'tap';
import { AdminApi } from '../../../client/AdminApi.js';
import { isLoopbackAddress } from '../../../server/http/MonitoringServer.js';
import { createTopic, startBrokerInProcess } from '../../helpers/broker.js';
import { startNamesrv } from '../../helpers/namesrv.js';
import { freePort } from '../../helpers/processes.js';
import { getJson, scrape } from './promText.js';

t.test('metricsExporterType=DISABLE (the default) starts no HTTP server', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const b = await startBrokerInProcess(t, { namesrvAddr: `127.0.0.1:${ns.port}` });
  t.equal(b.http, undefined);
  t.equal(ns.http, undefined);
});

t.test('a single broker: metrics, readiness, admin API', async (t) => {
  const nsHttp = await freePort();
  const ns = await startNamesrv({ metrics: { metricsExporterType: 'PROM', metricsPromExporterHost: '', metricsPromExporterPort: nsHttp } });
  t.teardown(() => ns.stop());
  const namesrvAddr = `127.0.0.1:${ns.port}`;
  const httpPort = await freePort();
  const b = await startBrokerInProcess(t, {
    namesrvAddr,
    brokerName: 'solo',
    conf: { metricsExporterType: 'PROM', metricsPromExporterHost: '', metricsPromExporterPort: String(httpPort) },
  });
  t.equal(b.http?.port, httpPort);
  await createTopic(b.brokerAddr, namesrvAddr, 'SoloTopic', 2);
  const admin = new AdminApi(namesrvAddr);
  t.teardown(() => admin.close());
  for (let i = 0; i < 5; i++) {
    await admin.sendMessage(b.brokerAddr, { producerGroup: 'P', topic: 'SoloTopic', queueId: i % 2, body: Buffer.from('x'), properties: '', bornTimestamp: Date.now() });
  }
  const m = await scrape(httpPort);
  t.equal(m.sum('rocketmq_messages_in_total', { topic: 'SoloTopic', node_id: 'solo', cluster: 'DefaultCluster' }), 5);
  t.equal(m.find('raftmq_raft_term').length, 0, 'no Raft families without DLedger');
  t.ok(m.find('rocketmq_processor_watermark', { processor: 'send' }).length === 1, 'watermark by processor');
  t.equal(m.sum('rocketmq_storage_size') > 0, true, 'the local log has a size too');
  t.equal(m.find('rocketmq_storage_page_cache_dropped_bytes_total').length, 1, 'the cache window counter');
  t.equal(m.sum('rocketmq_storage_page_cache_dropped_bytes_total'), 0, 'nothing dropped without commitLogCacheWindow');
  t.equal(m.find('rocketmq_storage_cold_read_bytes_total').length, 1, 'the cold read counter');
  t.same((await getJson(httpPort, '/ready')).status, 200);
  t.same((await getJson(httpPort, '/api/raft')).status, 404, 'no Raft state to show');
  const node = await getJson<{ brokerId: number; writable: boolean }>(httpPort, '/api/node');
  t.match(node.body, { brokerId: 0, writable: true });
  const transfer = await fetch(`http://127.0.0.1:${httpPort}/api/raft/transfer?target=n1`, { method: 'POST' });
  t.equal(transfer.status, 404, 'transfer needs a Raft log');
  const html = await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
  t.match(html, 'SoloTopic');

  // a write call that arrives on a non-loopback address of this host is refused
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (external) {
    const res = await fetch(`http://${external}:${httpPort}/api/raft/transfer?target=n1`, { method: 'POST' });
    t.equal(res.status, 403, `POST through ${external} is refused`);
    t.equal((await fetch(`http://${external}:${httpPort}/health`)).status, 200, 'reads are served on every address');
  } else t.comment('no non-loopback IPv4 address here: the 403 case is covered by isLoopbackAddress only');
  t.ok(isLoopbackAddress('127.0.0.1') && isLoopbackAddress('::1') && isLoopbackAddress('::ffff:127.0.0.1'));
  t.notOk(isLoopbackAddress('10.0.0.1') || isLoopbackAddress(undefined));

  const nsm = await scrape(nsHttp);
  t.equal(nsm.sum('rocketmq_namesrv_brokers', { broker_name: 'solo', role: 'master' }), 1);
  const cluster = await getJson<{ brokers: Array<{ brokerName: string }> }>(nsHttp, '/api/cluster');
  t.match(cluster.body.brokers, [{ brokerName: 'solo' }]);
});
