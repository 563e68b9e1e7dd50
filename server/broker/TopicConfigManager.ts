// The broker's topics: system topics built from the config on every node (never written to
// the log, so every replica has the same ones), and user topics kept as metadata entries in
// the commit log, cached here and followed through apply on every replica.
import { Perm, topicConfig, type TopicConfig } from '../../protocol/body/TopicConfig.js';
import type { DataVersion } from '../../protocol/body/DataVersion.js';
import { SCHEDULE_TOPIC } from '../../storage/index/DispatchRequest.js';
import type { AppliedBatch, CommitLog } from './commitlog/CommitLog.js';
import { topicConfigFromStored, topicRecord } from './metadata/BrokerMetadata.js';

export const TBW102 = 'TBW102';
export const SELF_TEST_TOPIC = 'SELF_TEST_TOPIC';
export const BENCHMARK_TOPIC = 'BenchmarkTest';
export const OFFSET_MOVED_EVENT = 'OFFSET_MOVED_EVENT';
export const RETRY_GROUP_TOPIC_PREFIX = '%RETRY%';
export const DLQ_GROUP_TOPIC_PREFIX = '%DLQ%';
export const TRANS_HALF_TOPIC = 'RMQ_SYS_TRANS_HALF_TOPIC';
export const TRANS_OP_HALF_TOPIC = 'RMQ_SYS_TRANS_OP_HALF_TOPIC';

/** Java's TopicValidator: letters, digits, % | _ - ; at most 127 characters (255 for retry and DLQ topics). */
const TOPIC_CHARS = /^[%|a-zA-Z0-9_-]+$/;
export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'the topic name is empty';
  if (!TOPIC_CHARS.test(topic)) return `the topic name "${topic}" has characters other than [%|a-zA-Z0-9_-]`;
  const max = topic.startsWith(RETRY_GROUP_TOPIC_PREFIX) || topic.startsWith(DLQ_GROUP_TOPIC_PREFIX) ? 255 : 127;
  if (topic.length > max) return `the topic name is longer than ${max} characters`;
  return undefined;
}

/** Topics producers may not send to directly. */
export function isSystemOnlyTopic(topic: string): boolean {
  return topic === SCHEDULE_TOPIC || topic === TRANS_HALF_TOPIC || topic === TRANS_OP_HALF_TOPIC;
}

export interface TopicConfigManagerOptions {
  brokerName: string;
  brokerClusterName: string;
  defaultTopicQueueNums: number;
  autoCreateTopicEnable: boolean;
  clusterTopicEnable: boolean;
  brokerTopicEnable: boolean;
  traceTopicEnable: boolean;
  msgTraceTopicName: string;
  delayLevels: number;
  now?: () => number;
  /** most user topics kept (each is a cache entry and part of every registration) */
  maxTopics?: number;
}

export class TopicLimitError extends Error {
  override readonly name = 'TopicLimitError';
}

export class TopicConfigManager {
  private readonly system = new Map<string, TopicConfig>();
  private readonly user = new Map<string, TopicConfig>();
  private readonly creating = new Map<string, Promise<TopicConfig>>();
  private readonly changeListeners: Array<(topic: string) => void> = [];
  private readonly now: () => number;
  readonly maxTopics: number;
  private version: DataVersion;

  constructor(
    private readonly log: CommitLog,
    private readonly opts: TopicConfigManagerOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.maxTopics = opts.maxTopics ?? 100_000;
    this.version = { timestamp: this.now(), counter: 0 };
    const add = (name: string, fields: Partial<Omit<TopicConfig, 'topicName'>>): void => {
      this.system.set(name, topicConfig(name, fields));
    };
    add(SELF_TEST_TOPIC, { readQueueNums: 1, writeQueueNums: 1 });
    if (opts.autoCreateTopicEnable) {
      add(TBW102, { readQueueNums: opts.defaultTopicQueueNums, writeQueueNums: opts.defaultTopicQueueNums, perm: Perm.INHERIT | Perm.READ | Perm.WRITE });
    }
    add(BENCHMARK_TOPIC, { readQueueNums: 1024, writeQueueNums: 1024 });
    add(opts.brokerClusterName, { readQueueNums: 16, writeQueueNums: 16, perm: opts.clusterTopicEnable ? Perm.INHERIT | Perm.READ | Perm.WRITE : Perm.INHERIT });
    add(opts.brokerName, { readQueueNums: 1, writeQueueNums: 1, perm: opts.brokerTopicEnable ? Perm.INHERIT | Perm.READ | Perm.WRITE : Perm.INHERIT });
    add(OFFSET_MOVED_EVENT, { readQueueNums: 1, writeQueueNums: 1 });
    add(SCHEDULE_TOPIC, { readQueueNums: opts.delayLevels, writeQueueNums: opts.delayLevels });
    if (opts.traceTopicEnable) add(opts.msgTraceTopicName, { readQueueNums: 1, writeQueueNums: 1 });
    add(`${opts.brokerClusterName}_REPLY_TOPIC`, { readQueueNums: 1, writeQueueNums: 1 });
  }

  /** Loads the user topics the index holds and follows applied topic entries from now on. */
  async load(): Promise<void> {
    for (const [name, json] of await this.log.index.listMetadata('topic')) {
      this.user.set(name, topicConfigFromStored(name, json));
    }
    this.log.onApplied((batch) => this.onApplied(batch));
  }

  /** Reads the user topics again (a segment copy replaced the index): topics gone are removed. */
  async reload(): Promise<void> {
    const fresh = await this.log.index.listMetadata('topic');
    for (const name of [...this.user.keys()]) if (!fresh.has(name)) this.setUser(name, null);
    for (const [name, json] of fresh) this.setUser(name, topicConfigFromStored(name, json));
  }

  private onApplied(batch: AppliedBatch): void {
    for (const m of batch.metadata) {
      if (m.kind === 'topic') this.setUser(m.name, m.value === null ? null : topicConfigFromStored(m.name, m.value));
    }
  }

  /** The one place the cache changes: by a write here (at commit) or by apply, whichever comes first. */
  private setUser(name: string, config: TopicConfig | null): void {
    const prev = this.user.get(name);
    if (config === null) {
      if (this.user.delete(name)) this.changed(name);
      return;
    }
    this.user.set(name, config);
    if (!prev || JSON.stringify(prev) !== JSON.stringify(config)) this.changed(name);
  }

  private changed(topic: string): void {
    this.version = { timestamp: this.now(), counter: this.version.counter + 1 };
    for (const l of this.changeListeners) l(topic);
  }

  onChange(listener: (topic: string) => void): void {
    this.changeListeners.push(listener);
  }

  get dataVersion(): DataVersion {
    return this.version;
  }

  get(topic: string): TopicConfig | undefined {
    return this.user.get(topic) ?? this.system.get(topic);
  }

  isSystemTopic(topic: string): boolean {
    return this.system.has(topic);
  }

  /** Every topic, system ones first; a user topic of the same name wins. */
  all(): Map<string, TopicConfig> {
    const out = new Map(this.system);
    for (const [k, v] of this.user) out.set(k, v);
    return out;
  }

  get userTopicCount(): number {
    return this.user.size;
  }

  /** Creates or replaces a topic through the log; resolves once applied here. */
  async put(config: TopicConfig): Promise<TopicConfig> {
    if (!this.user.has(config.topicName) && this.user.size >= this.maxTopics) {
      throw new TopicLimitError(`the broker holds ${this.user.size} topics, the limit (maxTopics) is ${this.maxTopics}`);
    }
    await this.log.append([topicRecord(config.topicName, config)]);
    this.setUser(config.topicName, config);
    return config;
  }

  async delete(topic: string): Promise<boolean> {
    if (!this.user.has(topic)) return false;
    await this.log.append([topicRecord(topic, null)]);
    this.setUser(topic, null);
    return true;
  }

  /** Creates the topic once even when many sends ask at the same time. */
  createOnce(topic: string, build: () => TopicConfig): Promise<TopicConfig> {
    const existing = this.get(topic);
    if (existing) return Promise.resolve(existing);
    let p = this.creating.get(topic);
    if (!p) {
      p = this.put(build()).finally(() => this.creating.delete(topic));
      this.creating.set(topic, p);
    }
    return p;
  }

  /**
   * Auto-creation on send, as Java's createTopicInSendMessageMethod: from a template topic
   * that has the INHERIT bit, with at most as many queues as the template writes to.
   * undefined when the template does not allow it.
   */
  autoCreateFromTemplate(topic: string, templateName: string, queueNums: number): Promise<TopicConfig> | undefined {
    const template = this.get(templateName);
    if (!template || (template.perm & Perm.INHERIT) === 0) return undefined;
    if (templateName === TBW102 && !this.opts.autoCreateTopicEnable) return undefined;
    const n = Math.max(1, Math.min(queueNums, template.writeQueueNums));
    return this.createOnce(topic, () =>
      topicConfig(topic, { readQueueNums: n, writeQueueNums: n, perm: template.perm & ~Perm.INHERIT, topicSysFlag: 0 }),
    );
  }

  /** Retry and DLQ topics, created on demand with the perm and queue count Java uses. */
  createSystemGroupTopic(topic: string, queueNums: number, perm: number): Promise<TopicConfig> {
    return this.createOnce(topic, () => topicConfig(topic, { readQueueNums: queueNums, writeQueueNums: queueNums, perm }));
  }
}
