// What the request processors share: the config, the commit log, the managers, and who this
// broker is right now. One object built by BrokerController.
import type { UniqKeyGenerator } from '../../protocol/message/index.js';
import type { BrokerConfig } from '../config/BrokerConfig.js';
import type { Logger } from '../log.js';
import type { BrokerStats } from './BrokerStats.js';
import type { ClientRegistry } from './client/ClientRegistry.js';
import type { CommitLog } from './commitlog/CommitLog.js';
import type { ConsumerOffsetManager } from './ConsumerOffsetManager.js';
import type { PullHoldService } from './PullHoldService.js';
import type { SubscriptionGroupManager } from './SubscriptionGroupManager.js';
import type { TopicConfigManager } from './TopicConfigManager.js';

export interface BrokerContext {
  config: BrokerConfig;
  commitLog: CommitLog;
  topics: TopicConfigManager;
  groups: SubscriptionGroupManager;
  offsets: ConsumerOffsetManager;
  clients: ClientRegistry;
  holds: PullHoldService;
  stats: BrokerStats;
  uniqKeys: UniqKeyGenerator;
  /** "ip:port" clients reach this broker at (brokerIP1:listenPort): the STOREHOST of every record */
  storeHost: string;
  /** delay of each level in ms, level 1 first */
  delayLevelMillis: readonly number[];
  log: Logger;
  now: () => number;
  /** 0 while this node is the master, else its slave id */
  brokerId(): number;
  /** tells the name servers now (a topic was created or changed) */
  registerSoon(): void;
  /** registers with every name server and resolves when they answered (admin topic changes, as Java does) */
  registerNow(): Promise<void>;
}
