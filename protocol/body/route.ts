// Route and cluster bodies served by the name server (spec §4.12.4-4.12.6). We always write
// quoted map keys and compact, key-sorted JSON: Java (fastjson), Go (split on , and :) and
// ali-ons (JSON2) all read that form.
import { stringifySorted } from '../json/lenientJson.js';

export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId -> "ip:port"; id 0 is the master */
  brokerAddrs: Map<number, string>;
}

export interface TopicRouteData {
  orderTopicConf?: string | undefined;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  filterServerTable: Record<string, string[]>;
}

export interface ClusterInfo {
  brokerAddrTable: Map<string, BrokerData>;
  clusterAddrTable: Map<string, Set<string>>;
}

function brokerDataJson(b: BrokerData): Record<string, unknown> {
  const addrs: Record<string, string> = {};
  for (const id of [...b.brokerAddrs.keys()].sort((x, y) => x - y)) addrs[String(id)] = b.brokerAddrs.get(id) as string;
  return { brokerAddrs: addrs, brokerName: b.brokerName, cluster: b.cluster };
}

export function encodeTopicRouteData(r: TopicRouteData): Buffer {
  return Buffer.from(
    stringifySorted({
      brokerDatas: r.brokerDatas.map(brokerDataJson),
      filterServerTable: r.filterServerTable,
      orderTopicConf: r.orderTopicConf,
      queueDatas: r.queueDatas,
    }),
    'utf8',
  );
}

export function encodeClusterInfo(c: ClusterInfo): Buffer {
  const brokers: Record<string, unknown> = {};
  for (const [name, b] of c.brokerAddrTable) brokers[name] = brokerDataJson(b);
  const clusters: Record<string, string[]> = {};
  for (const [name, set] of c.clusterAddrTable) clusters[name] = [...set].sort();
  return Buffer.from(stringifySorted({ brokerAddrTable: brokers, clusterAddrTable: clusters }), 'utf8');
}

function asObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function brokerDataFromJson(v: unknown): BrokerData {
  const o = asObject(v);
  const addrs = new Map<number, string>();
  for (const [id, addr] of Object.entries(asObject(o.brokerAddrs))) addrs.set(Number(id), String(addr));
  return { cluster: String(o.cluster ?? ''), brokerName: String(o.brokerName ?? ''), brokerAddrs: addrs };
}

/** Read a route from parsed (lenient) JSON, as a client does. */
export function topicRouteDataFromJson(v: unknown): TopicRouteData {
  const o = asObject(v);
  const queueDatas = (Array.isArray(o.queueDatas) ? o.queueDatas : []).map((q): QueueData => {
    const x = asObject(q);
    return {
      brokerName: String(x.brokerName ?? ''),
      readQueueNums: Number(x.readQueueNums ?? 0),
      writeQueueNums: Number(x.writeQueueNums ?? 0),
      perm: Number(x.perm ?? 0),
      topicSysFlag: Number(x.topicSysFlag ?? x.topicSynFlag ?? 0),
    };
  });
  const brokerDatas = (Array.isArray(o.brokerDatas) ? o.brokerDatas : []).map(brokerDataFromJson);
  const filterServerTable: Record<string, string[]> = {};
  for (const [k, list] of Object.entries(asObject(o.filterServerTable))) {
    filterServerTable[k] = Array.isArray(list) ? list.map(String) : [];
  }
  const route: TopicRouteData = { queueDatas, brokerDatas, filterServerTable };
  if (typeof o.orderTopicConf === 'string') route.orderTopicConf = o.orderTopicConf;
  return route;
}

export function clusterInfoFromJson(v: unknown): ClusterInfo {
  const o = asObject(v);
  const brokerAddrTable = new Map<string, BrokerData>();
  for (const [name, b] of Object.entries(asObject(o.brokerAddrTable))) brokerAddrTable.set(name, brokerDataFromJson(b));
  const clusterAddrTable = new Map<string, Set<string>>();
  for (const [name, list] of Object.entries(asObject(o.clusterAddrTable))) {
    clusterAddrTable.set(name, new Set(Array.isArray(list) ? list.map(String) : []));
  }
  return { brokerAddrTable, clusterAddrTable };
}

export function encodeTopicList(topics: Iterable<string>, brokerAddr?: string): Buffer {
  return Buffer.from(stringifySorted({ brokerAddr, topicList: [...topics] }), 'utf8');
}

export function encodeKVTable(table: Map<string, string>): Buffer {
  return Buffer.from(stringifySorted({ table: Object.fromEntries(table) }), 'utf8');
}
