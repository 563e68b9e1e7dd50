// SubscriptionGroupConfig: the UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200) body and what the broker
// keeps per consumer group, with RocketMQ 4.9.8's field defaults.
import { booleanField, fastJsonBody, numberField, parseBody, stringField } from './fastjson.js';

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

/** A config with Java's defaults for every field not given. */
export function subscriptionGroupConfig(
  groupName: string,
  fields: Partial<Omit<SubscriptionGroupConfig, 'groupName'>> = {},
): SubscriptionGroupConfig {
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

export function subscriptionGroupConfigFromJson(v: unknown): SubscriptionGroupConfig {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const d = subscriptionGroupConfig(stringField(o.groupName));
  return {
    groupName: d.groupName,
    consumeEnable: booleanField(o.consumeEnable, d.consumeEnable),
    consumeFromMinEnable: booleanField(o.consumeFromMinEnable, d.consumeFromMinEnable),
    consumeBroadcastEnable: booleanField(o.consumeBroadcastEnable, d.consumeBroadcastEnable),
    retryQueueNums: numberField(o.retryQueueNums, d.retryQueueNums),
    retryMaxTimes: numberField(o.retryMaxTimes, d.retryMaxTimes),
    brokerId: numberField(o.brokerId, d.brokerId),
    whichBrokerWhenConsumeSlowly: numberField(o.whichBrokerWhenConsumeSlowly, d.whichBrokerWhenConsumeSlowly),
    notifyConsumerIdsChangedEnable: booleanField(o.notifyConsumerIdsChangedEnable, d.notifyConsumerIdsChangedEnable),
  };
}

export function encodeSubscriptionGroupConfig(v: SubscriptionGroupConfig): Buffer {
  return fastJsonBody({ ...v });
}

export function decodeSubscriptionGroupConfig(body: Buffer): SubscriptionGroupConfig {
  return subscriptionGroupConfigFromJson(parseBody(body, 'SubscriptionGroupConfig'));
}

/** SubscriptionGroupConfig.toString, as mqadmin updateSubGroup prints it. */
export function subscriptionGroupConfigToString(v: SubscriptionGroupConfig): string {
  return (
    `SubscriptionGroupConfig [groupName=${v.groupName}, consumeEnable=${v.consumeEnable}, ` +
    `consumeFromMinEnable=${v.consumeFromMinEnable}, consumeBroadcastEnable=${v.consumeBroadcastEnable}, ` +
    `retryQueueNums=${v.retryQueueNums}, retryMaxTimes=${v.retryMaxTimes}, brokerId=${v.brokerId}, ` +
    `whichBrokerWhenConsumeSlowly=${v.whichBrokerWhenConsumeSlowly}, notifyConsumerIdsChangedEnable=${v.notifyConsumerIdsChangedEnable}]`
  );
}
