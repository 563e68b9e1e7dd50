// The name server's routing state: which brokers are alive, which topics they serve. Pure
// in-memory state; the caller passes the clock, so expiry is testable without waiting.
import { sameDataVersion, type DataVersion } from '../../protocol/body/DataVersion.js';
import { Perm, type TopicConfig } from '../../protocol/body/TopicConfig.js';
import type { BrokerData, ClusterInfo, QueueData, TopicRouteData } from '../../protocol/body/route.js';

export const MASTER_ID = 0;

export interface BrokerLiveInfo {
  lastUpdateTimestamp: number;
  timeoutMillis: number;
  dataVersion: DataVersion;
  haServerAddr: string;
  /** The connection the broker registered on; closing it removes the broker at once. */
  channel: unknown;
}

export interface RegisterBrokerInput {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
  haServerAddr: string;
  dataVersion: DataVersion;
  topicConfigTable: Map<string, TopicConfig> | undefined;
  filterServerList: string[];
  channel: unknown;
  now: number;
  timeoutMillis?: number;
}

export interface RegisterBrokerResult {
  haServerAddr?: string;
  masterAddr?: string;
}

export class RouteInfoManager {
  readonly topicQueueTable = new Map<string, Map<string, QueueData>>();
  readonly brokerAddrTable = new Map<string, BrokerData>();
  readonly clusterAddrTable = new Map<string, Set<string>>();
  readonly brokerLiveTable = new Map<string, BrokerLiveInfo>();
  readonly filterServerTable = new Map<string, string[]>();

  constructor(private readonly defaultTimeoutMillis = 120_000) {}

  registerBroker(r: RegisterBrokerInput): RegisterBrokerResult {
    let names = this.clusterAddrTable.get(r.clusterName);
    if (!names) this.clusterAddrTable.set(r.clusterName, (names = new Set()));
    names.add(r.brokerName);

    let brokerData = this.brokerAddrTable.get(r.brokerName);
    let registerFirst = false;
    if (!brokerData) {
      registerFirst = true;
      brokerData = { cluster: r.clusterName, brokerName: r.brokerName, brokerAddrs: new Map() };
      this.brokerAddrTable.set(r.brokerName, brokerData);
    }
    // One address holds one id: a follower that becomes master (or back) moves, it is not copied.
    for (const [id, addr] of brokerData.brokerAddrs) {
      if (addr === r.brokerAddr && id !== r.brokerId) brokerData.brokerAddrs.delete(id);
    }
    const oldAddr = brokerData.brokerAddrs.get(r.brokerId);
    brokerData.brokerAddrs.set(r.brokerId, r.brokerAddr);
    registerFirst ||= oldAddr === undefined;

    if (r.topicConfigTable && r.brokerId === MASTER_ID) {
      const prev = this.brokerLiveTable.get(r.brokerAddr);
      if (registerFirst || !sameDataVersion(prev?.dataVersion, r.dataVersion) || oldAddr !== r.brokerAddr) {
        for (const cfg of r.topicConfigTable.values()) this.updateQueueData(r.brokerName, cfg);
      }
    }

    this.brokerLiveTable.set(r.brokerAddr, {
      lastUpdateTimestamp: r.now,
      timeoutMillis: r.timeoutMillis ?? this.defaultTimeoutMillis,
      dataVersion: r.dataVersion,
      haServerAddr: r.haServerAddr,
      channel: r.channel,
    });
    if (r.filterServerList.length > 0) this.filterServerTable.set(r.brokerAddr, r.filterServerList);
    else this.filterServerTable.delete(r.brokerAddr);

    const result: RegisterBrokerResult = {};
    if (r.brokerId !== MASTER_ID) {
      const masterAddr = brokerData.brokerAddrs.get(MASTER_ID);
      if (masterAddr) {
        result.masterAddr = masterAddr;
        const live = this.brokerLiveTable.get(masterAddr);
        if (live) result.haServerAddr = live.haServerAddr;
      }
    }
    return result;
  }

  private updateQueueData(brokerName: string, cfg: TopicConfig): void {
    const queueData: QueueData = {
      brokerName,
      readQueueNums: cfg.readQueueNums,
      writeQueueNums: cfg.writeQueueNums,
      perm: cfg.perm,
      topicSysFlag: cfg.topicSysFlag,
    };
    let byBroker = this.topicQueueTable.get(cfg.topicName);
    if (!byBroker) this.topicQueueTable.set(cfg.topicName, (byBroker = new Map()));
    byBroker.set(brokerName, queueData);
  }

  /**
   * Remove one broker address. Unlike Java 4.9 (which removes whatever sits at that id) the id is
   * cleared only if it still holds this address, so a stale unregister of an old master cannot
   * remove the new one.
   */
  unregisterBroker(clusterName: string, brokerAddr: string, brokerName: string, brokerId: number): void {
    this.brokerLiveTable.delete(brokerAddr);
    this.filterServerTable.delete(brokerAddr);
    const brokerData = this.brokerAddrTable.get(brokerName);
    if (!brokerData) return;
    if (brokerData.brokerAddrs.get(brokerId) === brokerAddr) brokerData.brokerAddrs.delete(brokerId);
    if (brokerData.brokerAddrs.size === 0) this.removeBrokerName(brokerName, clusterName);
  }

  /** The broker's connection closed (or it expired): forget its address everywhere. */
  removeBrokerAddr(brokerAddr: string): void {
    this.brokerLiveTable.delete(brokerAddr);
    this.filterServerTable.delete(brokerAddr);
    for (const [name, data] of [...this.brokerAddrTable]) {
      for (const [id, addr] of [...data.brokerAddrs]) if (addr === brokerAddr) data.brokerAddrs.delete(id);
      if (data.brokerAddrs.size === 0) this.removeBrokerName(name, data.cluster);
    }
  }

  /** Addresses registered on this connection. */
  addrsOfChannel(channel: unknown): string[] {
    const out: string[] = [];
    for (const [addr, live] of this.brokerLiveTable) if (live.channel === channel) out.push(addr);
    return out;
  }

  /** Remove brokers not heard from within their timeout; returns what was removed. */
  scanNotActiveBroker(now: number): Array<{ addr: string; channel: unknown }> {
    const expired: Array<{ addr: string; channel: unknown }> = [];
    for (const [addr, live] of this.brokerLiveTable) {
      if (live.lastUpdateTimestamp + live.timeoutMillis < now) expired.push({ addr, channel: live.channel });
    }
    for (const e of expired) this.removeBrokerAddr(e.addr);
    return expired;
  }

  private removeBrokerName(brokerName: string, clusterName: string): void {
    this.brokerAddrTable.delete(brokerName);
    for (const [cluster, names] of this.clusterAddrTable) {
      if (cluster !== clusterName && !names.has(brokerName)) continue;
      names.delete(brokerName);
      if (names.size === 0) this.clusterAddrTable.delete(cluster);
    }
    for (const [topic, byBroker] of this.topicQueueTable) {
      byBroker.delete(brokerName);
      if (byBroker.size === 0) this.topicQueueTable.delete(topic);
    }
  }

  /** Whether the broker's topic table differs from what we hold; refreshes its liveness (QUERY_DATA_VERSION). */
  queryDataVersion(brokerAddr: string, dataVersion: DataVersion, now: number): { changed: boolean; current?: DataVersion } {
    const live = this.brokerLiveTable.get(brokerAddr);
    if (!live) return { changed: true };
    live.lastUpdateTimestamp = now;
    return { changed: !sameDataVersion(live.dataVersion, dataVersion), current: live.dataVersion };
  }

  getRouteInfo(topic: string): TopicRouteData | undefined {
    const byBroker = this.topicQueueTable.get(topic);
    if (!byBroker || byBroker.size === 0) return undefined;
    const queueDatas = [...byBroker.values()].map((q) => ({ ...q }));
    const brokerDatas: BrokerData[] = [];
    const filterServerTable: Record<string, string[]> = {};
    for (const brokerName of byBroker.keys()) {
      const data = this.brokerAddrTable.get(brokerName);
      if (!data) continue;
      brokerDatas.push({ cluster: data.cluster, brokerName: data.brokerName, brokerAddrs: new Map(data.brokerAddrs) });
      for (const addr of data.brokerAddrs.values()) {
        const filters = this.filterServerTable.get(addr);
        if (filters) filterServerTable[addr] = [...filters];
      }
    }
    if (brokerDatas.length === 0) return undefined;
    return { queueDatas, brokerDatas, filterServerTable };
  }

  getClusterInfo(): ClusterInfo {
    return { brokerAddrTable: this.brokerAddrTable, clusterAddrTable: this.clusterAddrTable };
  }

  getAllTopicList(): string[] {
    return [...this.topicQueueTable.keys()];
  }

  getTopicsByCluster(cluster: string): string[] {
    const names = this.clusterAddrTable.get(cluster);
    if (!names) return [];
    const out: string[] = [];
    for (const [topic, byBroker] of this.topicQueueTable) {
      for (const name of byBroker.keys()) {
        if (names.has(name)) {
          out.push(topic);
          break;
        }
      }
    }
    return out;
  }

  /** Set or clear PERM_WRITE on every topic of a broker; returns how many queue datas changed. */
  setWritePerm(brokerName: string, writable: boolean): number {
    let count = 0;
    for (const byBroker of this.topicQueueTable.values()) {
      const q = byBroker.get(brokerName);
      if (!q) continue;
      q.perm = writable ? q.perm | Perm.WRITE : q.perm & ~Perm.WRITE;
      count++;
    }
    return count;
  }

  deleteTopic(topic: string, clusterName?: string): void {
    if (!clusterName) {
      this.topicQueueTable.delete(topic);
      return;
    }
    const byBroker = this.topicQueueTable.get(topic);
    const names = this.clusterAddrTable.get(clusterName);
    if (!byBroker || !names) return;
    for (const name of names) byBroker.delete(name);
    if (byBroker.size === 0) this.topicQueueTable.delete(topic);
  }
}
