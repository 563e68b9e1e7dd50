// The name server's HTTP side: /metrics (registered brokers, topics, request latency and
// rates), /health, /ready, GET /api/cluster and the status page at /.
import type { Logger } from '../log.js';
import type { RemotingServer } from '../remoting/RemotingServer.js';
import type { RouteInfoManager } from '../namesrv/RouteInfoManager.js';
import { MonitoringServer } from './MonitoringServer.js';
import { registerNamesrvMetrics } from './namesrvMetrics.js';
import { RpcStats } from './RpcStats.js';
import { renderStatusPage, type ClusterBrokerView } from './statusPage.js';

export interface NamesrvMetricsOptions {
  metricsExporterType: 'DISABLE' | 'PROM';
  metricsPromExporterHost: string;
  metricsPromExporterPort: number;
}

export interface NamesrvHttpHost {
  readonly routes: RouteInfoManager;
  readonly server: RemotingServer;
  readonly port: number;
}

export function clusterBrokers(routes: RouteInfoManager): ClusterBrokerView[] {
  const out: ClusterBrokerView[] = [];
  for (const b of routes.brokerAddrTable.values()) {
    for (const [brokerId, addr] of [...b.brokerAddrs].sort((x, y) => x[0] - y[0])) out.push({ cluster: b.cluster, brokerName: b.brokerName, brokerId, addr });
  }
  return out.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.brokerName.localeCompare(b.brokerName) || a.brokerId - b.brokerId);
}

export class NamesrvHttp {
  readonly rpc = new RpcStats();
  readonly monitoring: MonitoringServer;

  constructor(
    private readonly host: NamesrvHttpHost,
    opts: NamesrvMetricsOptions,
    log: Logger,
  ) {
    this.monitoring = new MonitoringServer({
      host: opts.metricsPromExporterHost,
      port: opts.metricsPromExporterPort,
      log,
      labels: { node_type: 'nameserver', node_id: `namesrv:${host.port}` },
    });
    registerNamesrvMetrics(this.monitoring.registry, host.routes, this.rpc);
    const app = this.monitoring.app;
    app.get('/ready', async () => ({ status: 'READY', reason: 'serving routes' }));
    app.get('/api', async () => ({ endpoints: ['/api/cluster'] }));
    app.get('/api/cluster', async () => ({ brokers: clusterBrokers(host.routes), topics: host.routes.topicQueueTable.size }));
    app.get('/', async (_req, reply) => {
      const r = host.routes;
      const html = renderStatusPage({
        title: `raftmq name server :${host.port}`,
        facts: [
          ['remoting port', host.port],
          ['clusters', r.clusterAddrTable.size],
          ['broker addresses', r.brokerLiveTable.size],
          ['topics', r.topicQueueTable.size],
        ],
        cluster: clusterBrokers(r),
        refreshSeconds: 5,
        generatedAt: Date.now(),
      });
      return reply.type('text/html; charset=utf-8').send(html);
    });
  }

  get port(): number {
    return this.monitoring.port;
  }

  async start(): Promise<void> {
    this.host.server.observeRequests(this.rpc);
    await this.monitoring.start();
  }

  async close(): Promise<void> {
    this.host.server.observeRequests(undefined);
    await this.monitoring.close();
  }
}

export async function startNamesrvHttp(host: NamesrvHttpHost, opts: NamesrvMetricsOptions | undefined, log: Logger): Promise<NamesrvHttp | undefined> {
  if (!opts || opts.metricsExporterType !== 'PROM') return undefined;
  const http = new NamesrvHttp(host, opts, log);
  try {
    await http.start();
  } catch (e) {
    await http.close().catch(() => undefined);
    throw new Error(`metrics HTTP server cannot listen on ${opts.metricsPromExporterHost || '0.0.0.0'}:${opts.metricsPromExporterPort}: ${(e as Error).message}`, { cause: e });
  }
  return http;
}
