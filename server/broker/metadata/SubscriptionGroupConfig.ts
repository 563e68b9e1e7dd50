// A consumer group's settings as the broker keeps them (RocketMQ's SubscriptionGroupConfig).
export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
}

/** Java's defaults for the fields not given. */
export function subscriptionGroupConfig(groupName: string, fields: Partial<SubscriptionGroupConfig> = {}): SubscriptionGroupConfig {
  return {
    groupName,
    consumeEnable: fields.consumeEnable ?? true,
    consumeFromMinEnable: fields.consumeFromMinEnable ?? true,
    consumeBroadcastEnable: fields.consumeBroadcastEnable ?? true,
    retryQueueNums: fields.retryQueueNums ?? 1,
    retryMaxTimes: fields.retryMaxTimes ?? 16,
    brokerId: fields.brokerId ?? 0,
    whichBrokerWhenConsumeSlowly: fields.whichBrokerWhenConsumeSlowly ?? 1,
    notifyConsumerIdsChangedEnable: fields.notifyConsumerIdsChangedEnable ?? true,
  };
}

function bool(v: unknown, d: boolean): boolean {
  return v === true || v === 'true' ? true : v === false || v === 'false' ? false : d;
}
function int(v: unknown, d: number): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : d;
}

/** From parsed JSON (ours, or fastjson's subscriptionGroup.json), with defaults for what is missing. */
export function subscriptionGroupFromJson(name: string, v: unknown): SubscriptionGroupConfig {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const d = subscriptionGroupConfig(typeof o.groupName === 'string' && o.groupName !== '' ? o.groupName : name);
  return {
    groupName: d.groupName,
    consumeEnable: bool(o.consumeEnable, d.consumeEnable),
    consumeFromMinEnable: bool(o.consumeFromMinEnable, d.consumeFromMinEnable),
    consumeBroadcastEnable: bool(o.consumeBroadcastEnable, d.consumeBroadcastEnable),
    retryQueueNums: int(o.retryQueueNums, d.retryQueueNums),
    retryMaxTimes: int(o.retryMaxTimes, d.retryMaxTimes),
    brokerId: int(o.brokerId, d.brokerId),
    whichBrokerWhenConsumeSlowly: int(o.whichBrokerWhenConsumeSlowly, d.whichBrokerWhenConsumeSlowly),
    notifyConsumerIdsChangedEnable: bool(o.notifyConsumerIdsChangedEnable, d.notifyConsumerIdsChangedEnable),
  };
}
