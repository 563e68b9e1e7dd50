// Starts and stops one broker: the commit log (single node here; the Raft log in the DLedger
// issue), the managers built on it, the remoting server with the processors, long polling,
// and the name server registration.
import { randomInt } from 'node:crypto';
import path from 'node:path';
import type { RemotingConnection } from '../../client/RemotingConnection.js';
import { AdminApi } from '../../client/AdminApi.js';
import { RemotingClient } from '../../client/RemotingClient.js';
import { NotifyConsumerIdsChangedRequestHeader } from '../../protocol/header/broker.js';
import { UniqKeyGenerator } from '../../protocol/message/index.js';
import { createRequest } from '../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import type { BrokerConfig } from '../config/BrokerConfig.js';
import { delayLevelsMs, formatHostPort } from '../config/valueTypes.js';
import { startBrokerHttp, type BrokerHttp } from '../http/BrokerHttp.js';
import type { Logger } from '../log.js';
import { RemotingServer } from '../remoting/RemotingServer.js';
import type { BrokerContext } from './BrokerContext.js';
import { BrokerRegistration } from './BrokerRegistration.js';
import { BrokerStats } from './BrokerStats.js';
import { ClassicImport, openClassicCommitLog } from './ClassicImport.js';
import { ClientRegistry, type ConsumerGroupInfo } from './client/ClientRegistry.js';
import { RebalanceLockManager } from './client/RebalanceLockManager.js';
import type { CommitLog } from './commitlog/CommitLog.js';
import { LocalCommitLog } from './commitlog/LocalCommitLog.js';
import { RaftCommitLog, type CommitLogRole } from './commitlog/RaftCommitLog.js';
import { ConsumerOffsetManager } from './ConsumerOffsetManager.js';
import { MessageWriter } from './MessageWriter.js';
import { decodeBrokerMetadata, type OffsetCommit } from './metadata/BrokerMetadata.js';
import { legacyImportRecords, markImported, readLegacyConfig, type LegacyConfig } from './metadata/LegacyConfigImport.js';
import { registerAdminProcessor } from './processor/AdminProcessor.js';
import { registerClientProcessor } from './processor/ClientProcessor.js';
import { registerOffsetProcessor } from './processor/OffsetProcessor.js';
import { registerPullProcessor, type PullMessageProcessor } from './processor/PullMessageProcessor.js';
import { registerRaftAdminProcessor } from './processor/RaftAdminProcessor.js';
import { registerSendBackProcessor } from './processor/SendBackProcessor.js';
import { registerSendProcessor } from './processor/SendMessageProcessor.js';
import { PullHoldService } from './PullHoldService.js';
import { ScheduleMessageService } from './ScheduleMessageService.js';
import { RetentionService } from '../../storage/retention/DiskSpace.js';
import { DEFAULT_DISK_RATIOS } from '../../storage/retention/RetentionPolicy.js';
import { SubscriptionGroupManager } from './SubscriptionGroupManager.js';
import { TopicConfigManager } from './TopicConfigManager.js';

export interface BrokerControllerOptions {
  config: BrokerConfig;
  log: Logger;
  /** the config file, for GET_BROKER_CONFIG's answer */
  configFile?: string | undefined;
  now?: () => number;
}

/**
 * Where the log and the index live under storePathRootDir: a DLedger group member keeps its
 * Raft log where DLedger does (dledger-<selfId>); a single node keeps the same layout in raftlog/.
 */
export function storeDirs(config: BrokerConfig): { logDir: string; indexDir: string } {
  const logDir = config.enableDLegerCommitLog
    ? path.join(config.storePathRootDir, `dledger-${config.dLegerSelfId}`)
    : path.join(config.storePathRootDir, 'raftlog');
  return { logDir, indexDir: path.join(config.storePathRootDir, 'index-rocksdb') };
}

function envInt(name: string): number | undefined {
  const v = Number(process.env[name]);
  return Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** A follower's broker id: the digits of its DLedger id plus one (n0 -> 1, n1 -> 2), as Java does. */
export function followerBrokerId(selfId: string): number {
  return Number(selfId.replace(/^n/, '')) + 1;
}

export class BrokerController {
  readonly config: BrokerConfig;
  private readonly log: Logger;
  private readonly now: () => number;
  server!: RemotingServer;
  commitLog!: CommitLog;
  ctx!: BrokerContext;
  private registration: BrokerRegistration | undefined;
  private schedule: ScheduleMessageService | undefined;
  private retention: RetentionService | undefined;
  private readonly client = new RemotingClient({ log: () => undefined });
  private timers: NodeJS.Timeout[] = [];
  /** a Java store's config/*.json waiting to be taken over by the node that takes writes */
  private legacy: LegacyConfig | undefined;
  private importing: Promise<void> | undefined;
  /** the import of a classic commit log (this node's or the group's); set once the commit log is open */
  private classicImport: ClassicImport | undefined;
  /** the broker can take the Java config over (its managers exist) */
  private readyForImports = false;
  private stopping: Promise<void> | undefined;
  /** the metrics/admin HTTP server, when metricsExporterType=PROM */
  http: BrokerHttp | undefined;
  /** PULL_MESSAGE's processor (its body pool's figures are read by tests) */
  pulls: PullMessageProcessor | undefined;

  constructor(private readonly opts: BrokerControllerOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  get port(): number {
    return this.server.port;
  }

  /** "ip:port" this broker publishes */
  get brokerAddr(): string {
    return `${this.config.brokerIP1}:${this.server.port}`;
  }

  async start(): Promise<void> {
    const c = this.config;
    const delayLevelMillis = delayLevelsMs(c.messageDelayLevel) ?? [];
    const { logDir, indexDir } = storeDirs(c);
    const classic = await openClassicCommitLog(c.storePathCommitLog, c.mappedFileSizeCommitLog, c.storePathRootDir, this.log);
    // nothing but the import writes until the import's state is known
    const writeHold = (): string | undefined => (this.classicImport ? this.classicImport.holdReason() : 'the broker is starting');
    this.commitLog = c.enableDLegerCommitLog
      ? await RaftCommitLog.open({
          group: c.dLegerGroup,
          selfId: c.dLegerSelfId,
          peers: new Map(c.dLegerPeers.map((p) => [p.id, { host: p.host, port: p.port }])),
          storeDir: c.storePathRootDir,
          indexDir,
          flushDiskType: c.flushDiskType,
          timing: {
            heartBeatTimeIntervalMs: c.heartBeatTimeIntervalMs,
            maxHeartBeatLeak: c.maxHeartBeatLeak,
            flushIntervalCommitLog: c.flushIntervalCommitLog,
          },
          preferredLeaderIds: c.preferredLeaderId ? [c.preferredLeaderId] : undefined,
          maxPendingRequestsNum: c.maxPendingRequestsNum,
          decodeMetadata: decodeBrokerMetadata,
          dispatchOptions: { delayLevelMillis },
          log: this.log,
          now: this.now,
          onRole: (r) => this.roleChanged(r),
          diskGuard: () => this.retention?.guard ?? { writable: true },
          // Java hands DLedger mappedFileSizeCommitLog as its data file size
          node: { dataSegmentSize: c.mappedFileSizeCommitLog, cacheWindow: c.commitLogCacheWindow },
          writeHold,
          hasOutsideData: classic !== undefined,
        })
      : await LocalCommitLog.open({
          logDir,
          indexDir,
          flushDiskType: c.flushDiskType,
          flushIntervalCommitLog: c.flushIntervalCommitLog,
          cacheWindow: c.commitLogCacheWindow,
          decodeMetadata: decodeBrokerMetadata,
          dispatchOptions: { delayLevelMillis },
          diskGuard: () => this.retention?.guard ?? { writable: true },
          log: this.log,
          now: this.now,
          writeHold,
        });
    try {
      this.classicImport = await ClassicImport.start({
        commitLog: this.commitLog,
        selfId: c.enableDLegerCommitLog ? c.dLegerSelfId : '',
        classic,
        storeRoot: c.storePathRootDir,
        log: this.log,
        takesWrites: () => this.stopping === undefined && (this.commitLog instanceof RaftCommitLog ? this.commitLog.takesWrites : true),
        transferLeadership: this.commitLog instanceof RaftCommitLog ? (to) => (this.commitLog as RaftCommitLog).raft.transferLeadership(to) : undefined,
        requestLeadership: this.commitLog instanceof RaftCommitLog ? () => this.requestLeadership() : undefined,
        beforeRecords: () => this.takeOverLegacyConfig(true),
        onVisibilityChange: (hidden) => {
          this.log(hidden ? 'a classic commit log import is unfinished: out of the name servers\' routes until it is done' : 'no classic commit log import is unfinished: registering');
          if (hidden) void this.registration?.unregister();
          else {
            this.registration?.registerSoon();
            void this.importLegacyConfig();
          }
        },
        batchMessages: envInt('RAFTMQ_CLASSIC_IMPORT_BATCH_MESSAGES'),
        pauseMs: envInt('RAFTMQ_CLASSIC_IMPORT_PAUSE_MS'),
      });
      await this.startOnLog(delayLevelMillis);
    } catch (e) {
      await this.http?.close().catch(() => undefined);
      await this.commitLog.close().catch(() => undefined);
      await this.server?.close().catch(() => undefined);
      throw e;
    }
  }

  private async startOnLog(delayLevelMillis: number[]): Promise<void> {
    const c = this.config;
    const log = this.commitLog;
    this.server = new RemotingServer({
      port: c.listenPort,
      log: this.log,
      idleTimeoutMs: c.serverChannelMaxIdleTimeSeconds * 1000,
      backlog: c.serverSocketBacklog,
    });
    const topics = new TopicConfigManager(log, {
      brokerName: c.brokerName,
      brokerClusterName: c.brokerClusterName,
      defaultTopicQueueNums: c.defaultTopicQueueNums,
      autoCreateTopicEnable: c.autoCreateTopicEnable,
      clusterTopicEnable: c.clusterTopicEnable,
      brokerTopicEnable: c.brokerTopicEnable,
      traceTopicEnable: c.traceTopicEnable,
      msgTraceTopicName: c.msgTraceTopicName,
      delayLevels: delayLevelMillis.length,
      now: this.now,
    });
    const groups = new SubscriptionGroupManager(log);
    const offsets = new ConsumerOffsetManager(log, { log: this.log });
    // a hand-over (the operator's, or to a preferred leader) stops this node's writes: the offsets committed since the last flush go first
    if (log instanceof RaftCommitLog) log.beforeHandOver(() => offsets.flush());
    await Promise.all([topics.load(), groups.load(), offsets.load()]);
    // a follower whose log was replaced by a segment copy reads its metadata again
    log.onReset?.(() => Promise.all([topics.reload(), groups.reload(), offsets.reload()]).then(() => undefined));
    const clients = new ClientRegistry({
      now: this.now,
      log: this.log,
      onConsumerIdsChanged: (g) => this.notifyConsumerIdsChanged(g),
    });
    const holds = new PullHoldService({ now: this.now });
    log.onApplied((batch) => holds.onMessages(batch.messages));
    const stats = new BrokerStats(this.now);
    await this.server.listen();
    const storeHost = `${c.brokerIP1}:${this.server.port}`;
    this.ctx = {
      config: c,
      commitLog: log,
      topics,
      groups,
      offsets,
      clients,
      holds,
      stats,
      uniqKeys: new UniqKeyGenerator({ ip: c.brokerIP1, pid: process.pid & 0xffff, processValue: randomInt(0x7fffffff) }),
      storeHost,
      delayLevelMillis,
      log: this.log,
      now: this.now,
      brokerId: () => this.brokerId,
      registerSoon: () => this.registration?.registerSoon(),
      registerNow: () => this.registration?.registerAll() ?? Promise.resolve(),
    };
    const writer = new MessageWriter(this.ctx);
    const locks = new RebalanceLockManager(this.now);
    registerSendProcessor(this.server, this.ctx, writer);
    this.pulls = registerPullProcessor(this.server, this.ctx);
    registerClientProcessor(this.server, this.ctx, locks);
    registerOffsetProcessor(this.server, this.ctx);
    registerSendBackProcessor(this.server, this.ctx, writer);
    registerAdminProcessor(this.server, this.ctx, { configFile: this.opts.configFile });
    registerRaftAdminProcessor(this.server, this.ctx);
    this.server.onConnectionClosed((conn) => clients.connectionClosed(conn));
    holds.start();
    topics.onChange(() => this.registration?.registerSoon());

    this.schedule = new ScheduleMessageService(this.ctx, writer);
    await this.schedule.start();
    this.legacy = readLegacyConfig(path.join(c.storePathRootDir, 'config'));
    if (this.legacy) this.log(`found a Java broker's config in ${path.join(c.storePathRootDir, 'config')}: it is taken over once this node takes writes`);
    this.readyForImports = true;
    this.classicImport?.takingWrites();
    await this.importLegacyConfig();

    this.retention = new RetentionService({
      source: log.retentionSource(),
      storePath: log.logDir,
      fileReservedTime: c.fileReservedTime,
      deleteWhen: c.deleteWhen,
      ratios: { ...DEFAULT_DISK_RATIOS, diskMaxUsedSpaceRatio: c.diskMaxUsedSpaceRatio },
      cleanFileForciblyEnable: c.cleanFileForciblyEnable,
      log: this.log,
    });
    this.retention.start();

    this.timers.push(setInterval(() => clients.scanExpired(), 10_000), setInterval(() => stats.sample(), 1000));
    // a node holding a classic log that lost the first election asks for the leadership (ClassicImport)
    if (this.classicImport?.hasRecordsToImport) this.timers.push(setInterval(() => this.classicImport?.askForLeadership(), 2000));
    for (const t of this.timers) t.unref();

    this.registration = new BrokerRegistration({
      namesrvAddrs: c.namesrvAddr.map(formatHostPort),
      client: this.client,
      identity: () => ({
        clusterName: c.brokerClusterName,
        brokerName: c.brokerName,
        brokerAddr: storeHost,
        haServerAddr: `${c.brokerIP2}:${c.haListenPort}`,
        // the whole group stays out of the routes while a classic import is unfinished
        brokerId: this.classicImport?.hidesGroup ? -1 : this.registeredId(),
      }),
      topics: () => ({ dataVersion: topics.dataVersion, table: topics.all() }),
      periodMs: c.registerNameServerPeriod,
      timeoutMs: c.registerBrokerTimeoutMills,
      log: this.log,
    });
    this.http = await startBrokerHttp(this, this.log);
    await this.registration.start();
    this.log(`broker ${c.brokerName} (${c.brokerClusterName}) listening on ${storeHost}, store ${storeDirs(c).logDir}`);
  }

  /**
   * 0 while this node is the master; a DLedger follower's id (n + 1); -1 before a DLedger node
   * knows its role, when it does not register at all (Java's fix for a restarted node
   * registering as master, spec dledger.md §2.1).
   */
  get brokerId(): number {
    if (!this.config.enableDLegerCommitLog) return 0;
    const r = (this.commitLog as RaftCommitLog | undefined)?.role;
    if (!r || r.term < 0) return -1;
    if (r.role === 'leader') return 0;
    return r.role === 'follower' ? followerBrokerId(this.config.dLegerSelfId) : -1;
  }

  /**
   * The broker id to register. A Raft leader registers as master only while it hears from a
   * quorum: one resumed after a pause (or cut off) still thinks it leads until its next
   * check-quorum tick, and its registration as broker 0 would replace the real master's at the
   * name server; when it then steps down and registers as n + 1, the route had no master until
   * the real one registered again (up to registerNameServerPeriod). It stays out instead (-1)
   * until it knows.
   */
  private registeredId(): number {
    const id = this.ctx!.brokerId();
    if (id !== 0 || !(this.commitLog instanceof RaftCommitLog)) return id;
    const c = this.config;
    return this.commitLog.raft.leadsWithQuorumWithin(c.maxHeartBeatLeak * c.heartBeatTimeIntervalMs) ? 0 : -1;
  }

  private roleChanged(r: CommitLogRole): void {
    this.log(`raft role ${r.role} in term ${r.term}${r.leaderId ? `, leader ${r.leaderId}` : ''}: broker id ${this.brokerId}`);
    // a master that stopped leading answers its held pulls now; clients re-route
    if (r.role !== 'leader') this.ctx?.holds.wakeAll();
    else {
      // first: the import decides synchronously whether writes wait for it
      if (this.readyForImports) this.classicImport?.takingWrites();
      void this.importLegacyConfig();
    }
    void this.registration?.registerAll();
  }

  /** Writes what a Java store's config says into the log, once, when this node takes writes. */
  importLegacyConfig(): Promise<void> {
    if (!this.legacy || !this.ctx || this.ctx.brokerId() !== 0 || !this.commitLog.isWritable) return Promise.resolve();
    return this.takeOverLegacyConfig(false).catch((e: unknown) =>
      this.log(`taking over the Java config failed, will retry when this node next takes writes: ${(e as Error).message}`),
    );
  }

  /** Asks the master of this node's group (found in the name servers' cluster info) to hand leadership to this node. */
  private async requestLeadership(): Promise<void> {
    const c = this.config;
    const api = new AdminApi(c.namesrvAddr.map(formatHostPort).join(';'), 3000, this.client);
    const master = (await api.getClusterInfo()).brokerAddrTable.get(c.brokerName)?.brokerAddrs.get(0);
    if (!master) throw new Error(`the name servers list no master of ${c.brokerName} yet`);
    const res = await api.invokeBroker(master, RequestCode.RAFTMQ_TRANSFER_LEADERSHIP, { targetId: c.dLegerSelfId }, undefined, 15_000);
    if (res.code !== ResponseCode.SUCCESS) throw new Error(`the master ${master} answered ${res.code}: ${res.remark ?? ''}`);
  }

  /** The Java config into the log; `pastHold`: as part of a classic import, before its records. Rejects when an append failed. */
  private takeOverLegacyConfig(pastHold: boolean): Promise<void> {
    const legacy = this.legacy;
    if (!legacy) return Promise.resolve();
    this.importing ??= (async () => {
      const { topics, groups, offsets } = this.ctx;
      const schedule = this.schedule!;
      const records = legacyImportRecords(legacy, {
        topicExists: (n) => topics.get(n) !== undefined,
        groupExists: (n) => groups.get(n) !== undefined,
        consumerOffset: (g, t, q) => offsets.query(g, t, q),
        delayOffset: (level) => schedule.offsetOf(level),
      });
      for (let i = 0; i < records.length; i += 256) await this.commitLog.append(records.slice(i, i + 256), { pastHold });
      offsets.adopt(legacy.offsets as OffsetCommit[]);
      schedule.adopt(legacy.delayOffsets);
      markImported(path.join(this.config.storePathRootDir, 'config'));
      this.legacy = undefined;
      this.log(`took over the Java config: ${legacy.topics.length} topics, ${legacy.groups.length} groups, ${legacy.offsets.length} consumer offset tables, ${legacy.delayOffsets.length} delay levels (${records.length} entries written)`);
      this.registration?.registerSoon();
    })().finally(() => (this.importing = undefined));
    return this.importing;
  }

  private notifyConsumerIdsChanged(g: ConsumerGroupInfo): void {
    if (!this.config.notifyConsumerIdsChangedEnable) return;
    const groupConfig = this.ctx?.groups.get(g.groupName);
    if (groupConfig && !groupConfig.notifyConsumerIdsChangedEnable) return;
    const ext = NotifyConsumerIdsChangedRequestHeader.encode({ consumerGroup: g.groupName });
    for (const ch of g.channels.values()) {
      const conn: RemotingConnection = ch.conn;
      if (conn.isClosed) continue;
      try {
        conn.invokeOneway(createRequest({ code: RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, extFields: ext, oneway: true }));
      } catch (e) {
        this.log(`notify ${ch.clientId} of group ${g.groupName} failed: ${(e as Error).message}`);
      }
    }
  }

  /** Clean stop: unregister, answer held pulls, write offsets, close the log. */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.http?.close();
    await this.registration?.stop(true);
    this.schedule?.stop();
    await this.classicImport?.stop();
    this.retention?.stop();
    this.ctx?.holds.stop();
    await this.server?.close();
    await this.ctx?.offsets.stop().catch((e: unknown) => this.log(`consumer offsets not written at stop: ${(e as Error).message}`));
    await this.schedule?.whenIdle();
    await this.commitLog.close();
    this.client.close();
  }
}
