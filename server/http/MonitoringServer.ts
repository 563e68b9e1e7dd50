// One HTTP server per process (fastify), started when metricsExporterType=PROM on
// metricsPromExporterHost:metricsPromExporterPort: /metrics (what the process registers, in
// MetricRegistry, then Node's default process metrics from prom-client), /health, and whatever
// routes the broker or name server adds (/ready, /api/*, the status page at /).
//
// Why two registries: prom-client's text formatting of the broker's many labelled series was
// half of a scrape's cost (docs/monitoring.md, "Scrape cost"); MetricRegistry formats them from
// label text built once. Node's process metrics are few, and prom-client's own.
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';
import promClient from 'prom-client';
import { MetricRegistry } from './MetricRegistry.js';

export interface MonitoringServerOptions {
  /** '' listens on every address */
  host: string;
  port: number;
  log: Logger;
  /** default labels of every metric: cluster, node_type, node_id */
  labels: Record<string, string>;
  /** Node's process metrics (default true) */
  processMetrics?: boolean;
}

export class MonitoringServer {
  readonly registry: MetricRegistry;
  readonly app: FastifyInstance;
  /** prom-client's default process metrics (process_*, nodejs_*), with the same default labels */
  private readonly processRegistry: promClient.Registry | undefined;
  private listening = false;
  /** /metrics requests begun: collectors that share work within one scrape key it by this */
  scrapes = 0;
  /** /metrics requests answered */
  scrapesDone = 0;

  constructor(private readonly opts: MonitoringServerOptions) {
    this.registry = new MetricRegistry(Object.fromEntries(Object.entries(opts.labels).filter(([, v]) => v !== '')));
    if (opts.processMetrics !== false) {
      this.processRegistry = new promClient.Registry();
      this.processRegistry.setDefaultLabels(Object.fromEntries(Object.entries(opts.labels).filter(([, v]) => v !== '')));
      promClient.collectDefaultMetrics({ register: this.processRegistry });
    }
    this.app = Fastify({ logger: false });
    this.app.get('/metrics', async (_req, reply) => {
      this.scrapes++;
      let text = await this.registry.metrics();
      if (this.processRegistry) {
        const t0 = performance.now();
        text += await this.processRegistry.metrics();
        this.registry.busyMs += performance.now() - t0;
      }
      this.scrapesDone++;
      return reply.type(this.registry.contentType).send(text);
    });
    // what the scrape itself costs, as the process sees it (a scrape counts once it is answered)
    this.registry.register('raftmq_http_metrics_scrapes_total', '/metrics requests answered.', 'counter', (out) => {
      out.push({ labels: {}, value: this.scrapesDone });
    });
    this.registry.register('raftmq_http_metrics_scrape_seconds_total', 'Event-loop time spent collecting and formatting /metrics answers (not the reads they wait for).', 'counter', (out) => {
      out.push({ labels: {}, value: this.registry.busyMs / 1000 });
    });
    this.app.get('/health', async () => ({ status: 'UP', pid: process.pid, uptimeSeconds: Math.round(process.uptime()) }));
  }

  async start(): Promise<void> {
    await this.app.listen({ host: this.opts.host || '0.0.0.0', port: this.opts.port });
    this.listening = true;
    this.opts.log(`metrics and admin HTTP on ${this.opts.host || '0.0.0.0'}:${this.port} (/metrics, /health, /ready, /api, /)`);
  }

  get port(): number {
    const a = this.app.server.address();
    return a && typeof a === 'object' ? a.port : this.opts.port;
  }

  async close(): Promise<void> {
    this.processRegistry?.clear();
    if (!this.listening) return;
    this.listening = false;
    await this.app.close();
  }
}

export function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

/**
 * Write calls are served only on connections made to a loopback address of this host (as if
 * they listened on loopback), whatever metricsPromExporterHost is; false (403 sent) otherwise.
 */
export function allowWrite(req: FastifyRequest, reply: FastifyReply): boolean {
  if (isLoopbackAddress(req.socket.localAddress)) return true;
  void reply.code(403).send({ error: 'FORBIDDEN', message: 'admin write calls are served on the loopback address only (connect to 127.0.0.1)' });
  return false;
}
