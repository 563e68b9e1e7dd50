// Consumer sub-commands: consumerProgress, consumerConnection, updateSubGroup (RocketMQ 4.9.8 flags and output).
import type { Command } from 'commander';
import type { AdminApi } from '../../../client/AdminApi.js';
import { consumeStatsTotalDiff, type ConsumeStats } from '../../../protocol/body/ConsumeStats.js';
import { consumerConnectionMinVersion, type ConsumerConnection } from '../../../protocol/body/ConsumerConnection.js';
import { subscriptionGroupConfig, subscriptionGroupConfigToString } from '../../../protocol/body/SubscriptionGroupConfig.js';
import { fixed, formatDateTime, frontStringAtLeast, left, versionDesc } from '../format.js';
import { boolOption, brokerOrCluster, intOption, masterAddrsOfCluster, NAMESRV_OPTION, withApi, type AdminIo, type NamesrvOption } from './context.js';

/** consumerProgress -g: one row per queue, then the group's TPS and total lag. */
export function renderConsumerProgress(stats: ConsumeStats, clientIpOf?: (topic: string, brokerName: string, queueId: number) => string | undefined): string {
  const showIp = clientIpOf !== undefined;
  let s = showIp
    ? `${left('#Topic', 64)}  ${left('#Broker Name', 32)}  ${left('#QID', 4)}  ${left('#Broker Offset', 20)}  ${left('#Consumer Offset', 20)}  ${left('#Client IP', 20)} ${left('#Diff', 20)}  #LastTime\n`
    : `${left('#Topic', 64)}  ${left('#Broker Name', 32)}  ${left('#QID', 4)}  ${left('#Broker Offset', 20)}  ${left('#Consumer Offset', 20)}  ${left('#Diff', 20)}  #LastTime\n`;
  let diffTotal = 0;
  for (const [mq, o] of stats.offsetTable.sorted()) {
    const diff = o.brokerOffset - o.consumerOffset;
    diffTotal += diff;
    const lastTime = o.lastTimestamp === 0 ? 'N/A' : formatDateTime(o.lastTimestamp);
    const head = `${left(frontStringAtLeast(mq.topic, 64), 64)}  ${left(frontStringAtLeast(mq.brokerName, 32), 32)}  ${left(mq.queueId, 4)}  ${left(o.brokerOffset, 20)}  ${left(o.consumerOffset, 20)}  `;
    s += showIp
      ? `${head}${left(clientIpOf(mq.topic, mq.brokerName, mq.queueId) ?? 'N/A', 20)} ${left(diff, 20)}  ${lastTime}\n`
      : `${head}${left(diff, 20)}  ${lastTime}\n`;
  }
  return `${s}\nConsume TPS: ${fixed(stats.consumeTps, 2)}\nDiff Total: ${diffTotal}\n`;
}

export const GROUP_LIST_HEADER = `${left('#Group', 64)}  ${left('#Count', 6)}  ${left('#Version', 24)} ${left('#Type', 5)}  ${left('#Model', 14)}  ${left('#TPS', 7)}  #Diff Total\n`;

/** consumerProgress without -g: one row per group (GroupConsumeInfo). */
export function renderGroupRow(group: string, stats: ConsumeStats | undefined, cc: ConsumerConnection | undefined): string {
  const count = cc ? cc.connectionSet.length : 0;
  const tps = stats ? Math.trunc(stats.consumeTps) : 0;
  const diffTotal = stats ? consumeStatsTotalDiff(stats) : 0;
  const version = count > 0 && cc ? versionDesc(consumerConnectionMinVersion(cc)) : 'OFFLINE';
  const type = count > 0 && cc ? (cc.consumeType === 'CONSUME_ACTIVELY' ? 'PULL' : 'PUSH') : '';
  const model = count > 0 && cc && cc.consumeType === 'CONSUME_PASSIVELY' ? String(cc.messageModel) : '';
  return `${left(frontStringAtLeast(group, 64), 64)}  ${left(count, 6)}  ${left(version, 24)} ${left(type, 5)}  ${left(model, 14)}  ${left(tps, 7)}  ${diffTotal}\n`;
}

export function renderConsumerConnection(cc: ConsumerConnection): string {
  let s = `${left('#ClientId', 36)} ${left('#ClientAddr', 22)} ${left('#Language', 10)} #Version\n`;
  for (const c of cc.connectionSet) s += `${left(c.clientId, 36)} ${left(c.clientAddr, 22)} ${left(c.language, 10)} ${versionDesc(c.version)}\n`;
  s += '\nBelow is subscription:\n';
  s += `${left('#Topic', 20)} #SubExpression\n`;
  for (const sd of cc.subscriptionTable.values()) s += `${left(sd.topic, 20)} ${sd.subString}\n`;
  s += '\n';
  s += `ConsumeType: ${cc.consumeType ?? 'null'}\nMessageModel: ${cc.messageModel ?? 'null'}\nConsumeFromWhere: ${cc.consumeFromWhere ?? 'null'}\n`;
  return s;
}

async function allGroupsProgress(api: AdminApi, io: AdminIo): Promise<void> {
  io.out(GROUP_LIST_HEADER);
  for (const topic of await api.getAllTopicList()) {
    if (!topic.startsWith('%RETRY%')) continue;
    const group = topic.slice('%RETRY%'.length);
    // As in Java, a group whose stats or connections cannot be read is still listed.
    const stats = await api.examineConsumeStats(group).catch(() => undefined);
    const cc = await api.examineConsumerConnection(group).catch(() => undefined);
    io.out(renderGroupRow(group, stats, cc));
  }
}

interface UpdateSubGroupOptions extends NamesrvOption {
  brokerAddr?: string;
  clusterName?: string;
  groupName: string;
  consumeEnable?: string;
  consumeFromMinEnable?: string;
  consumeBroadcastEnable?: string;
  retryQueueNums?: string;
  retryMaxTimes?: string;
  brokerId?: string;
  whichBrokerWhenConsumeSlowly?: string;
  notifyConsumerIdsChanged?: string;
}

export function registerConsumerCommands(program: Command, io: AdminIo): void {
  program
    .command('consumerProgress')
    .description("Query consumers's progress, speed")
    .option(...NAMESRV_OPTION)
    .option('-g, --groupName <group>', 'consumer group name')
    .option('-s, --showClientIP <bool>', 'Show Client IP per Queue')
    .action(async (opts: NamesrvOption & { groupName?: string; showClientIP?: string }) => {
      await withApi(opts, io, async (api) => {
        if (opts.groupName === undefined) return allGroupsProgress(api, io);
        const stats = await api.examineConsumeStats(opts.groupName.trim());
        // The queue-to-client mapping needs GET_CONSUMER_RUNNING_INFO from the clients; without it every queue shows N/A.
        const showIp = opts.showClientIP !== undefined && opts.showClientIP.toLowerCase() === 'true';
        io.out(renderConsumerProgress(stats, showIp ? () => undefined : undefined));
      });
    });

  program
    .command('consumerConnection')
    .description("Query consumer's socket connection, client version and subscription")
    .option(...NAMESRV_OPTION)
    .requiredOption('-g, --consumerGroup <group>', 'consumer group name')
    .option('-b, --brokerAddr <addr>', 'broker address')
    .action(async (opts: NamesrvOption & { consumerGroup: string; brokerAddr?: string }) => {
      await withApi(opts, io, async (api) => {
        io.out(renderConsumerConnection(await api.examineConsumerConnection(opts.consumerGroup.trim(), opts.brokerAddr?.trim())));
      });
    });

  program
    .command('updateSubGroup')
    .description('Update or create subscription group')
    .option(...NAMESRV_OPTION)
    .option('-b, --brokerAddr <addr>', 'create subscription group to which broker')
    .option('-c, --clusterName <cluster>', 'create subscription group to which cluster')
    .requiredOption('-g, --groupName <group>', 'consumer group name')
    .option('-s, --consumeEnable <bool>', 'consume enable')
    .option('-m, --consumeFromMinEnable <bool>', 'from min offset')
    .option('-d, --consumeBroadcastEnable <bool>', 'broadcast')
    .option('-q, --retryQueueNums <n>', 'retry queue nums')
    .option('-r, --retryMaxTimes <n>', 'retry max times')
    .option('-i, --brokerId <id>', 'consumer from which broker id')
    .option('-w, --whichBrokerWhenConsumeSlowly <id>', 'which broker id when consume slowly')
    .option('-a, --notifyConsumerIdsChanged <bool>', 'notify consumerId changed')
    .action(async (opts: UpdateSubGroupOptions) => {
      const target = brokerOrCluster(opts);
      // mqadmin starts from the class defaults but turns broadcast and from-min off.
      const cfg = subscriptionGroupConfig(opts.groupName.trim(), { consumeBroadcastEnable: false, consumeFromMinEnable: false });
      if (opts.consumeEnable !== undefined) cfg.consumeEnable = boolOption(opts.consumeEnable);
      if (opts.consumeFromMinEnable !== undefined) cfg.consumeFromMinEnable = boolOption(opts.consumeFromMinEnable);
      if (opts.consumeBroadcastEnable !== undefined) cfg.consumeBroadcastEnable = boolOption(opts.consumeBroadcastEnable);
      if (opts.retryQueueNums !== undefined) cfg.retryQueueNums = intOption(opts.retryQueueNums, '-q');
      if (opts.retryMaxTimes !== undefined) cfg.retryMaxTimes = intOption(opts.retryMaxTimes, '-r');
      if (opts.brokerId !== undefined) cfg.brokerId = intOption(opts.brokerId, '-i');
      if (opts.whichBrokerWhenConsumeSlowly !== undefined) cfg.whichBrokerWhenConsumeSlowly = intOption(opts.whichBrokerWhenConsumeSlowly, '-w');
      if (opts.notifyConsumerIdsChanged !== undefined) cfg.notifyConsumerIdsChangedEnable = boolOption(opts.notifyConsumerIdsChanged);
      await withApi(opts, io, async (api) => {
        const addrs = target.brokerAddr !== undefined ? [target.brokerAddr] : await masterAddrsOfCluster(api, target.clusterName as string);
        for (const addr of addrs) {
          await api.createSubscriptionGroup(addr, cfg);
          io.out(`create subscription group to ${addr} success.\n`);
        }
        io.out(subscriptionGroupConfigToString(cfg));
      });
    });
}
