// mqnamesrv's settings: RocketMQ's NamesrvConfig and NettyServerConfig key names and defaults,
// plus brokerChannelExpiredTime, which RocketMQ hard-codes.
import path from 'node:path';
import { defineSchema, key, type ConfigOf } from './ConfigSchema.js';
import { bool, int, JAVA_INT_MAX, oneOf, port, text } from './valueTypes.js';

const ONE_DAY_MS = 86_400_000;

export const metricsExporterTypes = ['DISABLE', 'PROM'] as const;
export type MetricsExporterType = (typeof metricsExporterTypes)[number];

/** RocketMQ 5's metrics exporter keys, shared by the name server and the broker. */
export const metricsKeys = {
  metricsExporterType: key({
    type: oneOf(metricsExporterTypes),
    default: 'DISABLE',
    doc: 'PROM serves Prometheus metrics over HTTP at /metrics; DISABLE serves none.',
  }),
  metricsPromExporterHost: key({ type: text(), default: '', doc: 'Metrics listen address; empty means all.' }),
  metricsPromExporterPort: key({ type: port(), default: 5557, doc: 'Metrics listen port.' }),
};

export const namesrvKeys = {
  rocketmqHome: key({
    type: text(),
    default: '',
    env: 'ROCKETMQ_HOME',
    doc: 'Installation directory; taken from ROCKETMQ_HOME when not set.',
  }),
  kvConfigPath: key({
    type: text({ nonEmpty: true }),
    default: (ctx) => path.join(ctx.host.homeDir, 'namesrv', 'kvConfig.json'),
    doc: 'File that keeps the KV config (namespaces such as ORDER_TOPIC_CONFIG).',
    important: true,
  }),
  configStorePath: key({
    type: text({ nonEmpty: true }),
    // RocketMQ points this at the -c file so that updateNamesrvConfig rewrites it.
    default: (ctx) => ctx.file ?? path.join(ctx.host.homeDir, 'namesrv', 'namesrv.properties'),
    doc: 'Where config changes made by mqadmin updateNamesrvConfig are saved; the -c file by default.',
  }),
  productEnvName: key({ type: text(), default: 'center', doc: 'Environment name, informational.' }),
  clusterTest: key({ type: bool(), default: false, doc: 'Route unknown topics to a per-cluster test topic.' }),
  orderMessageEnable: key({
    type: bool(),
    default: false,
    doc: 'Return ORDER_TOPIC_CONFIG kv entries with topic routes.',
  }),
  // RocketMQ 4.9 scans every 10 s (fixed); 5.x made it this key with 5 s. We keep 4.9's timing.
  scanNotActiveBrokerInterval: key({
    type: int({ min: 1, max: ONE_DAY_MS }),
    default: 10_000,
    doc: 'How often (ms) to look for brokers whose registration has expired.',
  }),
  brokerChannelExpiredTime: key({
    type: int({ min: 1, max: ONE_DAY_MS }),
    default: 120_000,
    doc: 'A broker not heard from for this long (ms) is dropped from routes (RocketMQ: fixed 120 s).',
    important: true,
  }),
  enableAllTopicList: key({ type: bool(), default: true, doc: 'Serve GET_ALL_TOPIC_LIST_FROM_NAMESERVER.' }),
  ...metricsKeys,
  listenPort: key({ type: port(), default: 9876, doc: 'Remoting port for clients and brokers.', important: true }),
  serverSocketBacklog: key({
    type: int({ min: 1, max: JAVA_INT_MAX }),
    default: 1024,
    doc: 'Listen backlog of the remoting socket.',
  }),
  serverChannelMaxIdleTimeSeconds: key({
    type: int({ min: 1, max: JAVA_INT_MAX }),
    default: 120,
    doc: 'Close a remoting connection idle this long (s).',
  }),
};

export const namesrvSchema = defineSchema({ name: 'namesrv', keys: namesrvKeys });

export type NamesrvConfig = ConfigOf<typeof namesrvKeys>;
