// The name server's /metrics: registered brokers, clusters and topics (RouteInfoManager's
// tables, read at scrape time) and the remoting request latency histogram, whose _count by
// request_code gives the request rates.
import type { RouteInfoManager } from '../namesrv/RouteInfoManager.js';
import type { MetricRegistry } from './MetricRegistry.js';
import { rpcLabels, type RpcStats } from './RpcStats.js';

export function registerNamesrvMetrics(registry: MetricRegistry, routes: RouteInfoManager, rpc: RpcStats): void {
  registry.register('rocketmq_namesrv_brokers', 'Broker addresses registered, by cluster, broker name and role (broker id 0: master).', 'gauge', (out) => {
    for (const b of routes.brokerAddrTable.values()) {
      let master = 0;
      let slave = 0;
      for (const id of b.brokerAddrs.keys()) if (id === 0) master++;
      else slave++;
      out.push({ labels: { broker_cluster: b.cluster, broker_name: b.brokerName, role: 'master' }, value: master });
      out.push({ labels: { broker_cluster: b.cluster, broker_name: b.brokerName, role: 'slave' }, value: slave });
    }
  });
  registry.register('rocketmq_namesrv_live_brokers', 'Broker addresses whose registration has not expired.', 'gauge', (out) => {
    out.push({ labels: {}, value: routes.brokerLiveTable.size });
  });
  registry.register('rocketmq_namesrv_clusters', 'Clusters known.', 'gauge', (out) => {
    out.push({ labels: {}, value: routes.clusterAddrTable.size });
  });
  registry.register('rocketmq_namesrv_topics', 'Topics with routes.', 'gauge', (out) => {
    out.push({ labels: {}, value: routes.topicQueueTable.size });
  });
  registry.register('rocketmq_rpc_latency', 'Remoting request latency (ms) from dispatch to answer, by request and response code (-1: no answer).', 'histogram', (out) => {
    for (const c of rpc.all()) out.push({ labels: rpcLabels(c), bounds: c.latency.bounds, counts: c.latency.counts, sum: c.latency.sum });
  });
}
