// KVTable {"table":{...}}: the GET_BROKER_RUNTIME_INFO (28) answer and namesrv KV lists. All
// values are strings (spec §4.11).
import { encodeKVTable as encodeTable } from './route.js';
import { asObject, parseBody, stringField } from './fastjson.js';

export type KVTable = Map<string, string>;

export function encodeKVTable(v: KVTable): Buffer {
  return encodeTable(v);
}

export function decodeKVTable(body: Buffer): KVTable {
  const table = new Map<string, string>();
  for (const [k, v] of Object.entries(asObject(parseBody(body, 'KVTable').table))) table.set(k, stringField(v, String(v)));
  return table;
}

/** The runtime-info keys mqadmin clusterList and brokerStatus read (RocketMQ 4.9.8 names, typos included). */
export const BrokerRuntimeKey = {
  brokerVersionDesc: 'brokerVersionDesc',
  brokerVersion: 'brokerVersion',
  putTps: 'putTps',
  getTransferedTps: 'getTransferedTps',
  sendThreadPoolQueueSize: 'sendThreadPoolQueueSize',
  sendThreadPoolQueueHeadWaitTimeMills: 'sendThreadPoolQueueHeadWaitTimeMills',
  pullThreadPoolQueueSize: 'pullThreadPoolQueueSize',
  pullThreadPoolQueueHeadWaitTimeMills: 'pullThreadPoolQueueHeadWaitTimeMills',
  pageCacheLockTimeMills: 'pageCacheLockTimeMills',
  earliestMessageTimeStamp: 'earliestMessageTimeStamp',
  commitLogDiskRatio: 'commitLogDiskRatio',
  commitLogMinOffset: 'commitLogMinOffset',
  commitLogMaxOffset: 'commitLogMaxOffset',
  bootTimestamp: 'bootTimestamp',
  runtime: 'runtime',
  msgPutTotalYesterdayMorning: 'msgPutTotalYesterdayMorning',
  msgPutTotalTodayMorning: 'msgPutTotalTodayMorning',
  msgPutTotalTodayNow: 'msgPutTotalTodayNow',
  msgGetTotalYesterdayMorning: 'msgGetTotalYesterdayMorning',
  msgGetTotalTodayMorning: 'msgGetTotalTodayMorning',
  msgGetTotalTodayNow: 'msgGetTotalTodayNow',
} as const;
