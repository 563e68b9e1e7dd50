// Starts and stops a name server: the remoting server, the processors, and the periodic scan
// that drops brokers that stopped registering.
import type { RemotingConnection } from '../../client/RemotingConnection.js';
import { startNamesrvHttp, type NamesrvHttp, type NamesrvMetricsOptions } from '../http/NamesrvHttp.js';
import type { Logger } from '../log.js';
import { RemotingServer } from '../remoting/RemotingServer.js';
import { KvConfigManager } from './KvConfigManager.js';
import { registerNamesrvProcessors } from './NamesrvProcessor.js';
import { RouteInfoManager } from './RouteInfoManager.js';

export interface NamesrvOptions {
  host?: string;
  listenPort: number;
  kvConfigPath?: string | undefined;
  /** A broker not heard from within this time is dropped. */
  brokerChannelExpiredTime: number;
  scanNotActiveBrokerInterval: number;
  enableAllTopicList: boolean;
  orderMessageEnable: boolean;
  /** Close a connection idle this long (Java: serverChannelMaxIdleTimeSeconds). */
  idleTimeoutMs?: number;
  backlog?: number;
  log: Logger;
  now?: () => number;
  /** metricsExporterType=PROM starts the HTTP server (/metrics, /health, /ready, /api, /) */
  metrics?: NamesrvMetricsOptions;
}

export class NamesrvController {
  readonly routes: RouteInfoManager;
  readonly kv: KvConfigManager;
  readonly server: RemotingServer;
  private scanTimer: NodeJS.Timeout | undefined;
  /** the metrics/admin HTTP server, when metricsExporterType=PROM */
  http: NamesrvHttp | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: NamesrvOptions) {
    this.now = opts.now ?? Date.now;
    this.routes = new RouteInfoManager(opts.brokerChannelExpiredTime);
    this.kv = new KvConfigManager(opts.kvConfigPath, opts.log);
    this.server = new RemotingServer({
      host: opts.host,
      port: opts.listenPort,
      log: opts.log,
      idleTimeoutMs: opts.idleTimeoutMs,
      backlog: opts.backlog,
    });
    registerNamesrvProcessors(this.server, {
      routes: this.routes,
      kv: this.kv,
      now: this.now,
      enableAllTopicList: opts.enableAllTopicList,
      orderMessageEnable: opts.orderMessageEnable,
    });
    this.server.onConnectionClosed((conn) => this.onChannelDestroy(conn));
  }

  get port(): number {
    return this.server.port;
  }

  async start(): Promise<void> {
    this.kv.load();
    await this.server.listen();
    this.scanTimer = setInterval(() => this.scanNotActiveBroker(), this.opts.scanNotActiveBrokerInterval);
    this.scanTimer.unref();
    this.http = await startNamesrvHttp(this, this.opts.metrics, this.opts.log);
    this.opts.log(`name server listening on ${this.opts.host ?? '0.0.0.0'}:${this.port}`);
  }

  scanNotActiveBroker(): void {
    for (const { addr, channel } of this.routes.scanNotActiveBroker(this.now())) {
      this.opts.log(`broker ${addr} expired: no registration within ${this.opts.brokerChannelExpiredTime} ms`);
      (channel as RemotingConnection | undefined)?.close?.();
    }
  }

  private onChannelDestroy(conn: RemotingConnection): void {
    for (const addr of this.routes.addrsOfChannel(conn)) {
      this.opts.log(`broker ${addr} connection closed; removing it from the routes`);
      this.routes.removeBrokerAddr(addr);
    }
  }

  async stop(): Promise<void> {
    if (this.scanTimer) clearInterval(this.scanTimer);
    await this.http?.close();
    await this.server.close();
  }
}
