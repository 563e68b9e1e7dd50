// The broker's HTTP side: /metrics (RocketMQ 5 broker names, DLedger's and ours for Raft),
// /health, /ready, the JSON admin API under /api, and the status page at /.
//
//   GET  /ready                 200 when this node knows its role and serves (a follower: caught up)
//   GET  /api/node              who this broker is, its role and log indexes
//   GET  /api/raft              Raft state and members (match index and lag from the leader's view)
//   GET  /api/cluster           the name server's cluster view
//   GET  /api/topics            topics with queue offsets and messages stored
//   GET  /api/groups            consumer groups with lag
//   POST /api/raft/transfer     {"target":"n1"} or ?target=n1: hand leadership over (loopback only)
import { AdminApi } from '../../client/AdminApi.js';
import { LeaderTransferRefusedError } from '../../raft/node/errors.js';
import type { RaftNode } from '../../raft/node/RaftNode.js';
import type { SegmentedLog } from '../../storage/log/SegmentedLog.js';
import type { BrokerContext } from '../broker/BrokerContext.js';
import type { CommitLog } from '../broker/commitlog/CommitLog.js';
import { RaftCommitLog } from '../broker/commitlog/RaftCommitLog.js';
import type { BrokerConfig } from '../config/BrokerConfig.js';
import { formatHostPort } from '../config/valueTypes.js';
import type { Logger } from '../log.js';
import type { RemotingServer } from '../remoting/RemotingServer.js';
import { registerBrokerMetrics, consumerLag } from './brokerMetrics.js';
import { MonitoringServer, allowWrite } from './MonitoringServer.js';
import { registerRaftMetrics } from './raftMetrics.js';
import { RpcStats } from './RpcStats.js';
import { renderStatusPage, type ClusterBrokerView, type MemberView, type StatusView } from './statusPage.js';

/** What the HTTP side reads from the running broker (BrokerController has all of it). */
export interface BrokerHttpHost {
  readonly config: BrokerConfig;
  readonly server: RemotingServer;
  readonly commitLog: CommitLog;
  readonly ctx: BrokerContext;
  readonly brokerId: number;
  readonly brokerAddr: string;
}

/** A follower further behind than this (committed - applied entries) is not ready. */
export const READY_MAX_APPLY_LAG = 1000;

function raftOf(log: CommitLog): RaftNode | undefined {
  const r = (log as { raft?: RaftNode }).raft;
  return r && typeof r.status === 'function' ? r : undefined;
}

function storageOf(log: CommitLog): SegmentedLog | undefined {
  const raft = raftOf(log);
  if (raft) return raft.storage;
  const s = (log as { storage?: SegmentedLog }).storage;
  return s && typeof s.endPosition === 'number' ? s : undefined;
}

export interface Readiness {
  ready: boolean;
  reason: string;
}

export function brokerReadiness(host: BrokerHttpHost): Readiness {
  const raft = raftOf(host.commitLog);
  if (!raft) return host.commitLog.isWritable ? { ready: true, reason: 'serving' } : { ready: false, reason: 'commit log not writable' };
  const st = raft.status();
  const id = host.brokerId;
  if (id === -1) return { ready: false, reason: `no role yet (raft ${st.role}, term ${st.term})` };
  if (id === 0) return host.commitLog.isWritable ? { ready: true, reason: 'leader, taking writes' } : { ready: false, reason: 'leader, not yet taking writes' };
  if (st.leaderId === null) return { ready: false, reason: 'follower without a known leader' };
  const behind = st.commitIndex - host.commitLog.appliedIndex;
  if (behind > READY_MAX_APPLY_LAG) return { ready: false, reason: `follower ${behind} entries behind its commit index` };
  return { ready: true, reason: `follower of ${st.leaderId}, caught up` };
}

export function raftView(host: BrokerHttpHost): Record<string, unknown> | null {
  const raft = raftOf(host.commitLog);
  if (!raft) return null;
  const st = raft.status();
  const progress = new Map(raft.peerProgress().map((p) => [p.id, p]));
  const members = raft.memberIds.map((id) => {
    const self = id === raft.selfId;
    const p = progress.get(id);
    const role = self ? st.role : id === st.leaderId ? 'leader' : st.role === 'leader' ? (p?.recentActive ? 'follower' : 'unreachable') : 'unknown';
    return {
      id,
      address: raft.addressOf(id),
      self,
      role,
      term: self || id === st.leaderId ? st.term : st.role === 'leader' && p?.recentActive ? st.term : undefined,
      commitIndex: self ? st.commitIndex : undefined,
      appliedIndex: self ? st.appliedIndex : undefined,
      matchIndex: self && st.role === 'leader' ? st.lastIndex : p?.matchIndex,
      lag: self && st.role === 'leader' ? 0 : p?.lag,
    };
  });
  return { group: raft.group, ...st, members };
}

export class BrokerHttp {
  readonly rpc = new RpcStats();
  readonly monitoring: MonitoringServer;
  private readonly admin: AdminApi | undefined;

  constructor(
    private readonly host: BrokerHttpHost,
    log: Logger,
  ) {
    const c = host.config;
    this.monitoring = new MonitoringServer({
      host: c.metricsPromExporterHost,
      port: c.metricsPromExporterPort,
      log,
      labels: { cluster: c.brokerClusterName, node_type: 'broker', node_id: c.brokerName },
    });
    const namesrv = c.namesrvAddr.map(formatHostPort).join(';');
    this.admin = namesrv ? new AdminApi(namesrv, 2000) : undefined;
    const registry = this.monitoring.registry;
    registerBrokerMetrics(registry, {
      ctx: () => host.ctx,
      rpc: this.rpc,
      scrapeNumber: () => this.monitoring.scrapes,
      storage: () => storageOf(host.commitLog),
      pageCacheDropped: () => raftOf(host.commitLog)?.pageCacheDroppedBytes ?? (host.commitLog as { pageCacheDroppedBytes?: number }).pageCacheDroppedBytes,
    });
    if (raftOf(host.commitLog)) {
      registerRaftMetrics(registry, {
        node: () => raftOf(host.commitLog),
        appendLatencyMs: () => host.ctx?.stats.traffic.appendLatencyMs,
        readLatencyMs: () => host.ctx?.stats.traffic.readLatencyMs,
      });
    }
    this.routes();
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
    this.admin?.close();
    await this.monitoring.close();
  }

  private node(): Record<string, unknown> {
    const h = this.host;
    const st = h.commitLog.stats();
    return {
      cluster: h.config.brokerClusterName,
      brokerName: h.config.brokerName,
      brokerId: h.brokerId,
      addr: h.brokerAddr,
      writable: h.commitLog.isWritable,
      log: st,
      ready: brokerReadiness(h),
      raft: raftOf(h.commitLog)?.status() ?? null,
    };
  }

  private async cluster(): Promise<ClusterBrokerView[] | { error: string }> {
    if (!this.admin) return { error: 'no namesrvAddr configured' };
    try {
      const info = await this.admin.getClusterInfo();
      const out: ClusterBrokerView[] = [];
      for (const b of info.brokerAddrTable.values()) {
        for (const [brokerId, addr] of [...b.brokerAddrs].sort((x, y) => x[0] - y[0])) out.push({ cluster: b.cluster, brokerName: b.brokerName, brokerId, addr });
      }
      return out;
    } catch (e) {
      return { error: `name server not reachable: ${(e as Error).message}` };
    }
  }

  private topics(): Array<{ topic: string; readQueueNums: number; writeQueueNums: number; perm: number; messages: number; queues: Array<{ queueId: number; minOffset: number; maxOffset: number }> }> {
    const ctx = this.host.ctx;
    const out = [];
    for (const [name, tc] of ctx.topics.all()) {
      const queues = [];
      let messages = 0;
      for (let q = 0; q < Math.max(tc.readQueueNums, tc.writeQueueNums); q++) {
        const max = ctx.commitLog.maxOffset(name, q);
        messages += max;
        queues.push({ queueId: q, minOffset: ctx.commitLog.minOffset(name, q), maxOffset: max });
      }
      out.push({ topic: name, readQueueNums: tc.readQueueNums, writeQueueNums: tc.writeQueueNums, perm: tc.perm, messages, queues });
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic));
  }

  private async groups(): Promise<Array<Record<string, unknown> & { group: string; topic: string; lag: number; inflight: number; lagLatencyMs: number; consumers: number }>> {
    const ctx = this.host.ctx;
    const lag = await consumerLag(ctx);
    return lag
      .map((l) => ({ ...l, consumers: ctx.clients.consumers.get(l.group)?.channels.size ?? 0 }))
      .sort((a, b) => a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic));
  }

  private routes(): void {
    const app = this.monitoring.app;
    app.get('/ready', async (_req, reply) => {
      const r = brokerReadiness(this.host);
      return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'READY' : 'NOT_READY', reason: r.reason });
    });
    app.get('/api', async () => ({ endpoints: ['/api/node', '/api/raft', '/api/cluster', '/api/topics', '/api/groups', 'POST /api/raft/transfer'] }));
    app.get('/api/node', async () => this.node());
    app.get('/api/raft', async (_req, reply) => {
      const v = raftView(this.host);
      return v ? v : reply.code(404).send({ error: 'NOT_DLEDGER', message: 'this broker does not run on a Raft log (enableDLegerCommitLog=false)' });
    });
    app.get('/api/cluster', async (_req, reply) => {
      const c = await this.cluster();
      return 'error' in c ? reply.code(502).send(c) : { brokers: c };
    });
    app.get('/api/topics', async () => ({ topics: this.topics() }));
    app.get('/api/groups', async () => ({ groups: await this.groups() }));
    app.post('/api/raft/transfer', async (req, reply) => {
      if (!allowWrite(req, reply)) return reply;
      const log = this.host.commitLog;
      if (!(log instanceof RaftCommitLog)) return reply.code(404).send({ error: 'NOT_DLEDGER', message: 'this broker does not run on a Raft log' });
      const raft = log.raft;
      const body = (req.body ?? {}) as { target?: unknown };
      const query = (req.query ?? {}) as { target?: unknown };
      const target = typeof body.target === 'string' ? body.target : typeof query.target === 'string' ? query.target : '';
      if (!target) return reply.code(400).send({ error: 'BAD_REQUEST', message: 'say which member takes over: {"target":"n1"} or ?target=n1' });
      try {
        await log.handOver(target);
        const st = raft.status();
        return { ok: true, leaderId: st.leaderId, term: st.term };
      } catch (e) {
        const code = e instanceof LeaderTransferRefusedError ? (e.reason === 'NOT_LEADER' ? 421 : 409) : 500;
        return reply.code(code).send({ ok: false, error: e instanceof LeaderTransferRefusedError ? e.reason : 'ERROR', message: (e as Error).message, leaderId: raft.status().leaderId });
      }
    });
    app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(renderStatusPage(await this.statusView())));
  }

  async statusView(): Promise<StatusView> {
    const h = this.host;
    const c = h.config;
    const raft = raftOf(h.commitLog);
    const st = raft?.status();
    const ready = brokerReadiness(h);
    const facts: StatusView['facts'] = [
      ['cluster', c.brokerClusterName],
      ['broker', c.brokerName],
      ['broker id', h.brokerId],
      ['address', h.brokerAddr],
      ['ready', `${ready.ready ? 'yes' : 'no'} (${ready.reason})`],
    ];
    if (raft && st) {
      facts.push(['raft node', raft.selfId], ['raft role', st.role], ['term', st.term], ['leader', st.leaderId ?? 'none'], ['commit index', st.commitIndex], ['applied index', st.appliedIndex], ['last index', st.lastIndex]);
    }
    const rv = raftView(h);
    const [cluster, groups] = await Promise.all([this.cluster(), this.groups()]);
    return {
      title: `raftmq broker ${c.brokerName}${raft ? ` / ${raft.selfId}` : ''}`,
      facts,
      members: rv ? (rv.members as MemberView[]).map((m) => ({ ...m, address: m.address ?? '' })) : undefined,
      cluster,
      topics: this.topics().map((t) => ({ topic: t.topic, queues: t.queues.length, perm: t.perm, messages: t.messages })),
      groups,
      refreshSeconds: 5,
      generatedAt: Date.now(),
    };
  }
}

/** Starts the broker's HTTP side when metricsExporterType=PROM; undefined otherwise. */
export async function startBrokerHttp(host: BrokerHttpHost, log: Logger): Promise<BrokerHttp | undefined> {
  if (host.config.metricsExporterType !== 'PROM') return undefined;
  const http = new BrokerHttp(host, log);
  try {
    await http.start();
  } catch (e) {
    await http.close().catch(() => undefined);
    throw new Error(`metrics HTTP server cannot listen on ${host.config.metricsPromExporterHost || '0.0.0.0'}:${host.config.metricsPromExporterPort}: ${(e as Error).message}`, { cause: e });
  }
  return http;
}
