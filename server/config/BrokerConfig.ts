// mqbroker's settings. Key names and defaults are RocketMQ's (BrokerConfig, NettyServerConfig,
// MessageStoreConfig, in that order, as -p prints them), then DLedger's own timer names.
// Only keys this broker acts on, or that operators keep in their files, are here.
import path from 'node:path';
import { defineSchema, key, type ConfigOf } from './ConfigSchema.js';
import { metricsKeys } from './NamesrvConfig.js';
import {
  bool,
  delayLevels,
  dledgerId,
  dledgerPeers,
  host,
  hostPortList,
  hoursOfDay,
  int,
  JAVA_INT_MAX,
  oneOf,
  port,
  text,
  type DLedgerPeer,
  type HostPort,
} from './valueTypes.js';

const ONE_DAY_MS = 86_400_000;
const positiveInt = (): ReturnType<typeof int> => int({ min: 1, max: JAVA_INT_MAX });
const millis = (): ReturnType<typeof int> => int({ min: 1, max: ONE_DAY_MS });

export const brokerRoles = ['ASYNC_MASTER', 'SYNC_MASTER', 'SLAVE'] as const;
export type BrokerRole = (typeof brokerRoles)[number];
export const flushDiskTypes = ['ASYNC_FLUSH', 'SYNC_FLUSH'] as const;
export type FlushDiskType = (typeof flushDiskTypes)[number];

const noAddresses: readonly HostPort[] = [];
const noPeers: readonly DLedgerPeer[] = [];

export const brokerKeys = {
  // --- RocketMQ BrokerConfig
  rocketmqHome: key({ type: text(), default: '', env: 'ROCKETMQ_HOME', doc: 'Installation directory.' }),
  namesrvAddr: key({
    type: hostPortList(),
    default: noAddresses,
    env: 'NAMESRV_ADDR',
    doc: 'Name servers to register with; -n beats the file, which beats NAMESRV_ADDR.',
    important: true,
  }),
  brokerIP1: key({
    type: host(),
    default: (ctx) => ctx.host.localIPv4,
    doc: 'Address published to name servers for clients.',
    important: true,
  }),
  brokerIP2: key({ type: host(), default: (ctx) => ctx.host.localIPv4, doc: 'Address for master-slave HA.' }),
  brokerName: key({
    type: text({ nonEmpty: true }),
    default: (ctx) => ctx.host.hostName,
    doc: 'Broker group name; all replicas of a group share it.',
    important: true,
  }),
  brokerClusterName: key({
    type: text({ nonEmpty: true }),
    default: 'DefaultCluster',
    doc: 'Cluster name.',
    important: true,
  }),
  brokerId: key({
    type: int({ min: 0, max: Number.MAX_SAFE_INTEGER, expected: 'a number of bytes, 0 or more' }),
    default: 0,
    doc: '0 is the master; without DLedger a SLAVE needs > 0. With DLedger the Raft role decides.',
    important: true,
  }),
  brokerPermission: key({
    type: int({ min: 0, max: 7 }),
    default: 6,
    doc: 'Permission bits: 4 read, 2 write, 1 inherit.',
  }),
  defaultTopicQueueNums: key({ type: int({ min: 1, max: 1024 }), default: 8, doc: 'Queues of an auto-created topic.' }),
  autoCreateTopicEnable: key({
    type: bool(),
    default: true,
    doc: 'Create unknown topics on first send.',
    important: true,
  }),
  clusterTopicEnable: key({ type: bool(), default: true, doc: 'Keep a system topic named after the cluster.' }),
  brokerTopicEnable: key({ type: bool(), default: true, doc: 'Keep a system topic named after the broker.' }),
  autoCreateSubscriptionGroup: key({
    type: bool(),
    default: true,
    doc: 'Create unknown consumer groups on first use.',
    important: true,
  }),
  msgTraceTopicName: key({
    type: text({ nonEmpty: true }),
    default: 'RMQ_SYS_TRACE_TOPIC',
    doc: 'Topic of message traces.',
    important: true,
  }),
  traceTopicEnable: key({ type: bool(), default: false, doc: 'Create the trace topic.', important: true }),
  sendMessageThreadPoolNums: key({
    type: int({ min: 1, max: 1024 }),
    default: (ctx) => Math.min(ctx.host.cpus, 4),
    doc: 'Concurrent send requests in progress per broker.',
  }),
  rejectTransactionMessage: key({
    type: bool(),
    default: false,
    doc: 'Refuse transactional messages.',
    important: true,
  }),
  longPollingEnable: key({ type: bool(), default: true, doc: 'Hold pulls that find no message until one arrives.' }),
  shortPollingTimeMills: key({
    type: millis(),
    default: 1000,
    doc: 'Hold time (ms) of a pull when long polling is off.',
  }),
  notifyConsumerIdsChangedEnable: key({ type: bool(), default: true, doc: 'Tell consumers when their group changes.' }),
  regionId: key({ type: text(), default: 'DefaultRegion', doc: 'Region reported in message traces.' }),
  registerBrokerTimeoutMills: key({ type: millis(), default: 6000, doc: 'Timeout (ms) of one registration call.' }),
  slaveReadEnable: key({ type: bool(), default: false, doc: 'Let consumers read from followers.' }),
  brokerFastFailureEnable: key({ type: bool(), default: true, doc: 'Refuse requests that waited too long in queue.' }),
  waitTimeMillsInSendQueue: key({ type: millis(), default: 200, doc: 'Longest queue wait (ms) of a send.' }),
  waitTimeMillsInPullQueue: key({ type: millis(), default: 5000, doc: 'Longest queue wait (ms) of a pull.' }),
  traceOn: key({ type: bool(), default: true, doc: 'Attach trace context to messages.' }),
  forceRegister: key({ type: bool(), default: true, doc: 'Send full topic config on every registration.' }),
  registerNameServerPeriod: key({
    // RocketMQ clamps the period to 10..60 s when scheduling; we clamp at load and say so.
    type: int({ min: 1, max: JAVA_INT_MAX, clamp: [10_000, 60_000] }),
    default: 30_000,
    doc: 'Interval (ms) between registrations with the name servers, 10000..60000.',
  }),
  transactionTimeOut: key({
    type: millis(),
    default: 6000,
    doc: 'Age (ms) before a half message is checked.',
    important: true,
  }),
  transactionCheckMax: key({
    type: positiveInt(),
    default: 15,
    doc: 'Checks before a half message is dropped.',
    important: true,
  }),
  transactionCheckInterval: key({
    type: millis(),
    default: 60_000,
    doc: 'Interval (ms) of transaction checks.',
    important: true,
  }),
  aclEnable: key({ type: bool(), default: false, doc: 'Check access keys and signatures.', important: true }),
  ...metricsKeys,

  // --- RocketMQ NettyServerConfig (mqbroker sets 10911)
  listenPort: key({ type: port(), default: 10911, doc: 'Remoting port for clients and admin.', important: true }),
  serverSocketBacklog: key({ type: positiveInt(), default: 1024, doc: 'Listen backlog of the remoting socket.' }),
  serverChannelMaxIdleTimeSeconds: key({
    type: positiveInt(),
    default: 120,
    doc: 'Close a connection idle this long (s).',
  }),

  // --- RocketMQ MessageStoreConfig
  storePathRootDir: key({
    type: text({ nonEmpty: true }),
    default: (ctx) => path.join(ctx.host.homeDir, 'store'),
    doc: 'Root of the store: Raft log, indexes, metadata.',
    important: true,
  }),
  storePathCommitLog: key({
    type: text({ nonEmpty: true }),
    default: (ctx) => path.join(ctx.get('storePathRootDir') as string, 'commitlog'),
    doc: 'Commit log directory; <storePathRootDir>/commitlog by default.',
    important: true,
  }),
  mappedFileSizeCommitLog: key({
    type: positiveInt(),
    default: 1_073_741_824,
    doc: 'Size of one log data file (bytes).',
  }),
  mappedFileSizeConsumeQueue: key({
    type: positiveInt(),
    default: 300_000 * 20,
    doc: 'Accepted for compatibility: our consume queues live in RocksDB.',
  }),
  flushIntervalCommitLog: key({
    type: millis(),
    default: 500,
    doc: 'ASYNC_FLUSH: interval (ms) of the background fsync.',
    important: true,
  }),
  commitLogCacheWindow: key({
    // raftmq's own key; RocketMQ leaves the commit log's page cache to the kernel (0 here)
    type: int({ min: 0, max: Number.MAX_SAFE_INTEGER, expected: 'a number of bytes, 0 or more' }),
    default: 0,
    doc: 'Newest bytes of the commit log kept in the page cache; older fsynced pages are dropped. 0: the kernel decides.',
  }),
  deleteWhen: key({
    type: hoursOfDay(),
    default: '04',
    doc: 'Hours of the day at which expired files are deleted.',
    important: true,
  }),
  diskMaxUsedSpaceRatio: key({
    // RocketMQ's getter clamps to 10..95.
    type: int({ min: 0, max: 100, clamp: [10, 95] }),
    default: 75,
    doc: 'Disk use (%) above which expired files are deleted at once, 10..95.',
  }),
  fileReservedTime: key({ type: positiveInt(), default: 72, doc: 'Hours a log file is kept.', important: true }),
  maxMessageSize: key({ type: positiveInt(), default: 4_194_304, doc: 'Largest message body (bytes).' }),
  maxTransferBytesOnMessageInMemory: key({ type: positiveInt(), default: 262_144, doc: 'Most bytes of messages one pull answer carries.' }),
  maxTransferCountOnMessageInMemory: key({ type: positiveInt(), default: 32, doc: 'Most messages one pull answer carries.' }),
  messageIndexEnable: key({ type: bool(), default: true, doc: 'Index messages by key and id.', important: true }),
  haListenPort: key({
    type: port(),
    default: (ctx) => (ctx.get('listenPort') as number) + 1,
    doc: 'Master-slave HA port; listenPort + 1 by default.',
  }),
  brokerRole: key({
    type: oneOf(brokerRoles),
    default: 'ASYNC_MASTER',
    doc: 'Without DLedger: the fixed role. With DLedger the Raft role decides.',
    important: true,
  }),
  flushDiskType: key({
    type: oneOf(flushDiskTypes),
    default: 'ASYNC_FLUSH',
    doc: 'SYNC_FLUSH acknowledges after a quorum fsynced; ASYNC_FLUSH after a quorum wrote.',
    important: true,
  }),
  syncFlushTimeout: key({ type: millis(), default: 5000, doc: 'SYNC_FLUSH: longest wait (ms) for the fsync.' }),
  messageDelayLevel: key({
    type: delayLevels(),
    default: '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h',
    doc: 'Delay of each delay level, level 1 first.',
  }),
  cleanFileForciblyEnable: key({
    type: bool(),
    default: true,
    doc: 'Delete unexpired files when the disk is full.',
    important: true,
  }),
  enableDLegerCommitLog: key({
    type: bool(),
    default: false,
    doc: 'Replicate the commit log with Raft.',
    important: true,
  }),
  dLegerGroup: key({ type: text(), default: '', doc: 'Raft group name, usually brokerName.', important: true }),
  dLegerPeers: key({
    type: dledgerPeers(),
    default: noPeers,
    doc: 'Raft members: n0-host:port;n1-host:port;...',
    important: true,
  }),
  dLegerSelfId: key({ type: dledgerId(), default: '', doc: 'This node\'s id in dLegerPeers.', important: true }),
  preferredLeaderId: key({ type: dledgerId(), default: '', doc: 'Member to hand leadership to when it is healthy.' }),

  // --- DLedger's DLedgerConfig timers and limits (DLedger names, DLedger defaults)
  heartBeatTimeIntervalMs: key({ type: millis(), default: 100, doc: 'Leader heartbeat interval (ms); DLedger\'s default is 2000, ours detects a dead leader in well under a second.' }),
  maxHeartBeatLeak: key({
    type: int({ min: 1, max: 100 }),
    default: 5,
    doc: 'Missed heartbeats before a follower votes.',
  }),
  minVoteIntervalMs: key({ type: millis(), default: 300, doc: 'Smallest randomized election delay (ms).' }),
  maxVoteIntervalMs: key({ type: millis(), default: 1000, doc: 'Largest randomized election delay (ms).' }),
  maxPendingRequestsNum: key({ type: positiveInt(), default: 10_000, doc: 'Proposals waiting for a quorum.' }),
};

export type BrokerConfig = ConfigOf<typeof brokerKeys>;

export const brokerSchema = defineSchema({
  name: 'broker',
  keys: brokerKeys,
  check(c, ctx) {
    if (c.haListenPort > 65535) {
      ctx.fail('haListenPort', 'expected an integer port 1..65535 (the default is listenPort + 1; set haListenPort)');
    }
    if (c.minVoteIntervalMs > c.maxVoteIntervalMs) {
      ctx.fail('minVoteIntervalMs', `expected at most maxVoteIntervalMs (${c.maxVoteIntervalMs})`);
    }
    if (c.enableDLegerCommitLog) {
      const when = 'when enableDLegerCommitLog=true';
      if (c.dLegerGroup === '') ctx.fail('dLegerGroup', `expected a Raft group name ${when}`);
      if (c.dLegerPeers.length === 0) {
        ctx.fail('dLegerPeers', `expected the Raft members, e.g. "n0-127.0.0.1:40911;n1-127.0.0.1:40912" ${when}`);
      }
      const ids = c.dLegerPeers.map((p) => p.id).join(', ');
      if (!c.dLegerPeers.some((p) => p.id === c.dLegerSelfId)) {
        ctx.fail('dLegerSelfId', `expected one of the ids in dLegerPeers (${ids}) ${when}`);
      }
      if (c.preferredLeaderId !== '' && !c.dLegerPeers.some((p) => p.id === c.preferredLeaderId)) {
        ctx.fail('preferredLeaderId', `expected one of the ids in dLegerPeers (${ids})`);
      }
      if (ctx.isSet('brokerRole') && c.brokerRole === 'SLAVE') {
        ctx.warn('brokerRole', 'ignored with enableDLegerCommitLog=true: the Raft leader is the master');
      }
    } else if (c.brokerRole === 'SLAVE') {
      if (c.brokerId <= 0) ctx.fail('brokerId', 'expected > 0 for brokerRole = SLAVE');
    } else if (c.brokerId !== 0) {
      // RocketMQ silently makes every master broker 0.
      ctx.warn('brokerId', `set to 0: brokerRole = ${c.brokerRole} is a master`);
      c.brokerId = 0;
    }
  },
});
