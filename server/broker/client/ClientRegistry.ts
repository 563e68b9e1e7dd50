// Who is connected: producer and consumer groups by client id, with the consumers'
// subscriptions from their heartbeats. Consumers of a group are told (NOTIFY_CONSUMER_IDS_CHANGED)
// when its members change; clients silent for channelExpiredTimeout are dropped.
import type { RemotingConnection } from '../../../client/RemotingConnection.js';
import type {
  ConsumeFromWhere,
  ConsumeType,
  ConsumerData,
  MessageModel,
  SubscriptionData as WireSubscription,
} from '../../../protocol/body/HeartbeatData.js';
import { parseTagSubscription, type TagSubscription } from '../../../protocol/message/index.js';

export interface ClientChannel {
  clientId: string;
  conn: RemotingConnection;
  language: string;
  version: number;
  lastUpdate: number;
}

/** A subscription from a heartbeat, with its tag filter parsed once for the pulls. */
export interface SubscriptionData extends WireSubscription {
  filter: TagSubscription;
}

export interface ConsumerGroupInfo {
  groupName: string;
  consumeType: ConsumeType;
  messageModel: MessageModel;
  consumeFromWhere: ConsumeFromWhere;
  channels: Map<string, ClientChannel>;
  subscriptions: Map<string, SubscriptionData>;
  lastUpdate: number;
}

export interface ClientRegistryOptions {
  channelExpiredTimeoutMs?: number;
  maxGroups?: number;
  maxClientsPerGroup?: number;
  now?: () => number;
  /** told when a consumer group's members changed (not for BROADCASTING groups) */
  onConsumerIdsChanged?: (group: ConsumerGroupInfo) => void;
  log?: (line: string) => void;
}

export class ClientLimitError extends Error {
  override readonly name = 'ClientLimitError';
}

export class ClientRegistry {
  readonly producers = new Map<string, Map<string, ClientChannel>>();
  readonly consumers = new Map<string, ConsumerGroupInfo>();
  private readonly now: () => number;
  readonly channelExpiredTimeoutMs: number;
  private readonly maxGroups: number;
  private readonly maxClientsPerGroup: number;

  constructor(private readonly opts: ClientRegistryOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.channelExpiredTimeoutMs = opts.channelExpiredTimeoutMs ?? 120_000;
    this.maxGroups = opts.maxGroups ?? 50_000;
    this.maxClientsPerGroup = opts.maxClientsPerGroup ?? 10_000;
  }

  private channel(clientId: string, conn: RemotingConnection, language: string, version: number): ClientChannel {
    return { clientId, conn, language, version, lastUpdate: this.now() };
  }

  registerProducer(group: string, clientId: string, conn: RemotingConnection, language: string, version: number): void {
    let g = this.producers.get(group);
    if (!g) {
      if (this.producers.size >= this.maxGroups) throw new ClientLimitError(`${this.producers.size} producer groups registered, the limit is ${this.maxGroups}`);
      this.producers.set(group, (g = new Map()));
    }
    const existing = g.get(clientId);
    if (existing && existing.conn === conn) existing.lastUpdate = this.now();
    else {
      if (!existing && g.size >= this.maxClientsPerGroup) throw new ClientLimitError(`producer group ${group} has ${g.size} clients, the limit is ${this.maxClientsPerGroup}`);
      g.set(clientId, this.channel(clientId, conn, language, version));
    }
  }

  /** Registers a consumer heartbeat; returns whether the group's members or subscriptions changed. */
  registerConsumer(data: ConsumerData, clientId: string, conn: RemotingConnection, language: string, version: number): boolean {
    let g = this.consumers.get(data.groupName);
    if (!g) {
      if (this.consumers.size >= this.maxGroups) throw new ClientLimitError(`${this.consumers.size} consumer groups registered, the limit is ${this.maxGroups}`);
      g = {
        groupName: data.groupName,
        consumeType: data.consumeType,
        messageModel: data.messageModel,
        consumeFromWhere: data.consumeFromWhere,
        channels: new Map(),
        subscriptions: new Map(),
        lastUpdate: this.now(),
      };
      this.consumers.set(data.groupName, g);
    }
    g.consumeType = data.consumeType;
    g.messageModel = data.messageModel;
    g.consumeFromWhere = data.consumeFromWhere;
    g.lastUpdate = this.now();
    let membersChanged = false;
    const existing = g.channels.get(clientId);
    if (existing && existing.conn === conn) existing.lastUpdate = this.now();
    else {
      if (!existing && g.channels.size >= this.maxClientsPerGroup) {
        throw new ClientLimitError(`consumer group ${g.groupName} has ${g.channels.size} clients, the limit is ${this.maxClientsPerGroup}`);
      }
      g.channels.set(clientId, this.channel(clientId, conn, language, version));
      membersChanged = !existing;
    }
    let subsChanged = false;
    const seen = new Set<string>();
    for (const s of data.subscriptionDataSet) {
      seen.add(s.topic);
      const prev = g.subscriptions.get(s.topic);
      if (prev && prev.subVersion >= s.subVersion) continue;
      const filter = parseTagSubscription(s.subString) ?? { subString: s.subString, all: false, tagsSet: s.tagsSet, codeSet: s.codeSet };
      g.subscriptions.set(s.topic, { ...s, filter });
      if (!prev || prev.subString !== s.subString) subsChanged = true;
    }
    // Java drops subscriptions a heartbeat no longer carries
    for (const topic of [...g.subscriptions.keys()]) {
      if (!seen.has(topic)) {
        g.subscriptions.delete(topic);
        subsChanged = true;
      }
    }
    const changed = membersChanged || subsChanged;
    if (membersChanged && g.messageModel !== 'BROADCASTING') this.opts.onConsumerIdsChanged?.(g);
    return changed;
  }

  unregister(clientId: string, producerGroup?: string, consumerGroup?: string): void {
    if (producerGroup) this.producers.get(producerGroup)?.delete(clientId);
    if (consumerGroup) this.removeConsumer(consumerGroup, clientId);
  }

  private removeConsumer(group: string, clientId: string): void {
    const g = this.consumers.get(group);
    if (!g || !g.channels.delete(clientId)) return;
    if (g.channels.size === 0) this.consumers.delete(group);
    else if (g.messageModel !== 'BROADCASTING') this.opts.onConsumerIdsChanged?.(g);
  }

  /** A connection closed: everything registered over it goes. */
  connectionClosed(conn: RemotingConnection): void {
    for (const [group, g] of this.producers) {
      for (const [id, ch] of g) if (ch.conn === conn) g.delete(id);
      if (g.size === 0) this.producers.delete(group);
    }
    for (const [group, g] of [...this.consumers]) {
      for (const [id, ch] of [...g.channels]) if (ch.conn === conn) this.removeConsumer(group, id);
    }
  }

  /** Drops clients not heard from within channelExpiredTimeout; returns how many. */
  scanExpired(): number {
    const limit = this.now() - this.channelExpiredTimeoutMs;
    let n = 0;
    for (const [group, g] of this.producers) {
      for (const [id, ch] of g) {
        if (ch.lastUpdate < limit) {
          g.delete(id);
          n++;
          this.opts.log?.(`producer ${id} of ${group} expired: no heartbeat for ${this.channelExpiredTimeoutMs} ms`);
          ch.conn.close();
        }
      }
      if (g.size === 0) this.producers.delete(group);
    }
    for (const [group, g] of [...this.consumers]) {
      for (const [id, ch] of [...g.channels]) {
        if (ch.lastUpdate < limit) {
          n++;
          this.opts.log?.(`consumer ${id} of ${group} expired: no heartbeat for ${this.channelExpiredTimeoutMs} ms`);
          this.removeConsumer(group, id);
          ch.conn.close();
        }
      }
    }
    return n;
  }

  consumerIds(group: string): string[] {
    const g = this.consumers.get(group);
    return g ? [...g.channels.keys()] : [];
  }

  /** Consumer groups subscribed to a topic. */
  groupsSubscribedTo(topic: string): string[] {
    const out: string[] = [];
    for (const [name, g] of this.consumers) if (g.subscriptions.has(topic)) out.push(name);
    return out;
  }

  get producerCount(): number {
    let n = 0;
    for (const g of this.producers.values()) n += g.size;
    return n;
  }

  get consumerCount(): number {
    let n = 0;
    for (const g of this.consumers.values()) n += g.channels.size;
    return n;
  }
}
