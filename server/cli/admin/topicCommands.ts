// Topic sub-commands: updateTopic, deleteTopic, topicStatus (RocketMQ 4.9.8 flags and output).
import type { Command } from 'commander';
import type { AdminApi } from '../../../client/AdminApi.js';
import { permToString, topicConfig, type TopicConfig } from '../../../protocol/body/TopicConfig.js';
import type { TopicStatsTable } from '../../../protocol/body/TopicStatsTable.js';
import { frontStringAtLeast, humanTime2, left } from '../format.js';
import { boolOption, brokerOrCluster, intOption, masterAddrsOfCluster, NAMESRV_OPTION, withApi, type AdminIo, type NamesrvOption } from './context.js';

/** TopicConfig.toString of 4.9.8. */
export function topicConfigToString(c: TopicConfig): string {
  return (
    `TopicConfig [topicName=${c.topicName}, readQueueNums=${c.readQueueNums}, writeQueueNums=${c.writeQueueNums}, ` +
    `perm=${permToString(c.perm)}, topicFilterType=${c.topicFilterType}, topicSysFlag=${c.topicSysFlag}, order=${c.order}]`
  );
}

export function renderTopicStatus(table: TopicStatsTable): string {
  let s = `${left('#Broker Name', 32)}  ${left('#QID', 4)}  ${left('#Min Offset', 20)}  ${left('#Max Offset', 20)}    #Last Updated\n`;
  for (const [mq, o] of table.offsetTable.sorted()) {
    const updated = o.lastUpdateTimestamp > 0 ? humanTime2(o.lastUpdateTimestamp) : '';
    s += `${left(frontStringAtLeast(mq.brokerName, 32), 32)}  ${left(mq.queueId, 4)}  ${left(o.minOffset, 20)}  ${left(o.maxOffset, 20)}    ${updated}\n`;
  }
  return s;
}

interface UpdateTopicOptions extends NamesrvOption {
  brokerAddr?: string;
  clusterName?: string;
  topic: string;
  readQueueNums?: string;
  writeQueueNums?: string;
  perm?: string;
  order?: string;
  unit?: string;
  hasUnitSub?: string;
}

async function updateTopic(api: AdminApi, io: AdminIo, opts: UpdateTopicOptions): Promise<void> {
  const target = brokerOrCluster(opts);
  const isUnit = opts.unit !== undefined && boolOption(opts.unit);
  const hasUnitSub = opts.hasUnitSub !== undefined && boolOption(opts.hasUnitSub);
  const isOrder = opts.order !== undefined && boolOption(opts.order);
  const cfg = topicConfig(opts.topic.trim(), {
    readQueueNums: opts.readQueueNums !== undefined ? intOption(opts.readQueueNums, '-r') : 8,
    writeQueueNums: opts.writeQueueNums !== undefined ? intOption(opts.writeQueueNums, '-w') : 8,
    perm: opts.perm !== undefined ? intOption(opts.perm, '-p') : 6,
    // TopicSysFlag.buildSysFlag(unit, hasUnitSub)
    topicSysFlag: (isUnit ? 1 : 0) | (hasUnitSub ? 2 : 0),
    order: isOrder,
  });
  if (target.brokerAddr !== undefined) {
    const addr = target.brokerAddr;
    await api.createTopic(addr, cfg);
    if (isOrder) {
      const info = await api.getClusterInfo();
      const brokerName = [...info.brokerAddrTable.values()].find((b) => [...b.brokerAddrs.values()].includes(addr))?.brokerName;
      if (!brokerName) throw new Error(`broker ${addr} is not registered with the name server`);
      const orderConf = `${brokerName}:${cfg.writeQueueNums}`;
      await api.putKvConfig('ORDER_TOPIC_CONFIG', cfg.topicName, orderConf);
      io.out(`set broker orderConf. isOrder=${isOrder}, orderConf=[${orderConf}]`);
    }
    io.out(`create topic to ${addr} success.\n`);
    io.out(topicConfigToString(cfg));
    return;
  }
  const cluster = target.clusterName as string;
  for (const addr of await masterAddrsOfCluster(api, cluster)) {
    await api.createTopic(addr, cfg);
    io.out(`create topic to ${addr} success.\n`);
  }
  if (isOrder) {
    const info = await api.getClusterInfo();
    const names = [...(info.clusterAddrTable.get(cluster) ?? [])];
    const orderConf = names.map((n) => `${n}:${cfg.writeQueueNums}`).join(';');
    await api.putKvConfig('ORDER_TOPIC_CONFIG', cfg.topicName, orderConf);
    io.out(`set cluster orderConf. isOrder=${isOrder}, orderConf=[${orderConf}]`);
  }
  io.out(topicConfigToString(cfg));
}

export function registerTopicCommands(program: Command, io: AdminIo): void {
  program
    .command('updateTopic')
    .description('Update or create topic')
    .option(...NAMESRV_OPTION)
    .option('-b, --brokerAddr <addr>', 'create topic to which broker')
    .option('-c, --clusterName <cluster>', 'create topic to which cluster')
    .requiredOption('-t, --topic <topic>', 'topic name')
    .option('-r, --readQueueNums <n>', 'set read queue nums')
    .option('-w, --writeQueueNums <n>', 'set write queue nums')
    .option('-p, --perm <perm>', "set topic's permission(2|4|6), intro[2:W 4:R; 6:RW]")
    .option('-o, --order <bool>', "set topic's order(true|false)")
    .option('-u, --unit <bool>', 'is unit topic (true|false)')
    .option('-s, --hasUnitSub <bool>', 'has unit sub (true|false)')
    .action(async (opts: UpdateTopicOptions) => {
      brokerOrCluster(opts);
      await withApi(opts, io, (api) => updateTopic(api, io, opts));
    });

  program
    .command('deleteTopic')
    .description('Delete topic from broker and NameServer.')
    .option(...NAMESRV_OPTION)
    .requiredOption('-t, --topic <topic>', 'topic name')
    .requiredOption('-c, --clusterName <cluster>', 'delete topic from which cluster')
    .action(async (opts: NamesrvOption & { topic: string; clusterName: string }) => {
      await withApi(opts, io, async (api) => {
        const topic = opts.topic.trim();
        const cluster = opts.clusterName.trim();
        for (const addr of await masterAddrsOfCluster(api, cluster)) await api.deleteTopicInBroker(addr, topic);
        io.out(`delete topic [${topic}] from cluster [${cluster}] success.\n`);
        await api.deleteTopicInNamesrv(topic, cluster);
        io.out(`delete topic [${topic}] from NameServer success.\n`);
      });
    });

  program
    .command('topicStatus')
    .description('Examine topic Status info')
    .option(...NAMESRV_OPTION)
    .requiredOption('-t, --topic <topic>', 'topic name')
    .action(async (opts: NamesrvOption & { topic: string }) => {
      await withApi(opts, io, async (api) => io.out(renderTopicStatus(await api.examineTopicStats(opts.topic.trim()))));
    });
}
