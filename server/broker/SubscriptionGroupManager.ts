// Consumer groups' settings, kept as metadata entries in the commit log like topics. System
// groups exist on every node without being written.
import type { AppliedBatch, CommitLog } from './commitlog/CommitLog.js';
import { subscriptionGroupRecord } from './metadata/BrokerMetadata.js';
import {
  subscriptionGroupConfig,
  subscriptionGroupConfigFromJson,
  type SubscriptionGroupConfig,
} from '../../protocol/body/SubscriptionGroupConfig.js';

/** A stored or sent config; the name it is kept under wins over a missing groupName. */
export function groupConfigFromJson(name: string, v: unknown): SubscriptionGroupConfig {
  const c = subscriptionGroupConfigFromJson(v);
  return c.groupName === '' ? { ...c, groupName: name } : c;
}

/** Groups Java's SubscriptionGroupManager creates at start. */
const SYSTEM_GROUPS = [
  'TOOLS_CONSUMER',
  'FILTERSRV_CONSUMER',
  'SELF_TEST_C_GROUP',
  'CID_ONS-HTTP-PROXY',
  'CID_ONSAPI_PULL',
  'CID_ONSAPI_PERMISSION',
  'CID_ONSAPI_OWNER',
  'CID_RMQ_SYS_TRANS',
];

export class GroupLimitError extends Error {
  override readonly name = 'GroupLimitError';
}

export class SubscriptionGroupManager {
  private readonly system = new Map<string, SubscriptionGroupConfig>();
  private readonly user = new Map<string, SubscriptionGroupConfig>();
  private readonly creating = new Map<string, Promise<SubscriptionGroupConfig>>();

  constructor(
    private readonly log: CommitLog,
    readonly maxGroups = 100_000,
  ) {
    for (const g of SYSTEM_GROUPS) this.system.set(g, subscriptionGroupConfig(g, g === 'TOOLS_CONSUMER' || g === 'FILTERSRV_CONSUMER' ? { consumeBroadcastEnable: true } : {}));
  }

  async load(): Promise<void> {
    for (const [name, json] of await this.log.index.listMetadata('subscriptionGroup')) {
      this.user.set(name, groupConfigFromJson(name, JSON.parse(json)));
    }
    this.log.onApplied((batch) => this.onApplied(batch));
  }

  /** Reads the groups again (a segment copy replaced the index). */
  async reload(): Promise<void> {
    const fresh = await this.log.index.listMetadata('subscriptionGroup');
    this.user.clear();
    for (const [name, json] of fresh) this.user.set(name, groupConfigFromJson(name, JSON.parse(json)));
  }

  private onApplied(batch: AppliedBatch): void {
    for (const m of batch.metadata) {
      if (m.kind !== 'subscriptionGroup') continue;
      if (m.value === null) this.user.delete(m.name);
      else this.user.set(m.name, groupConfigFromJson(m.name, JSON.parse(m.value)));
    }
  }

  get(group: string): SubscriptionGroupConfig | undefined {
    return this.user.get(group) ?? this.system.get(group);
  }

  all(): Map<string, SubscriptionGroupConfig> {
    const out = new Map(this.system);
    for (const [k, v] of this.user) out.set(k, v);
    return out;
  }

  async put(config: SubscriptionGroupConfig): Promise<SubscriptionGroupConfig> {
    if (!this.user.has(config.groupName) && this.user.size >= this.maxGroups) {
      throw new GroupLimitError(`the broker holds ${this.user.size} subscription groups, the limit is ${this.maxGroups}`);
    }
    await this.log.append([subscriptionGroupRecord(config.groupName, config)]);
    this.user.set(config.groupName, config);
    return config;
  }

  async delete(group: string): Promise<boolean> {
    if (!this.user.has(group)) return false;
    await this.log.append([subscriptionGroupRecord(group, null)]);
    this.user.delete(group);
    return true;
  }

  /**
   * The group, created with Java's defaults when `autoCreate` allows; undefined otherwise. A
   * node that does not take writes (a follower) answers with the defaults without writing
   * them: the master creates the group when the consumer reaches it.
   */
  findOrCreate(group: string, autoCreate: boolean): Promise<SubscriptionGroupConfig | undefined> {
    const existing = this.get(group);
    if (existing) return Promise.resolve(existing);
    if (!autoCreate) return Promise.resolve(undefined);
    if (!this.log.isWritable) return Promise.resolve(subscriptionGroupConfig(group));
    let p = this.creating.get(group);
    if (!p) {
      p = this.put(subscriptionGroupConfig(group)).finally(() => this.creating.delete(group));
      this.creating.set(group, p);
    }
    return p;
  }
}
