// mqadmin: RocketMQ's admin command line, with its sub-command names, options and output.
import { Command, CommanderError } from 'commander';
import { AdminApi, expectOk, jsonBody } from '../../client/AdminApi.js';
import type { ClusterInfo, TopicRouteData } from '../../protocol/body/route.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { fixed, left, prettyFastJson, right, type PrettyValue } from './format.js';
import { withApi, type AdminIo } from './admin/context.js';
import { registerBrokerCommands } from './admin/brokerCommands.js';
import { registerConsumerCommands } from './admin/consumerCommands.js';
import { registerMessageCommands } from './admin/messageCommands.js';
import { registerTopicCommands } from './admin/topicCommands.js';

export type { AdminIo };

/** Java iterates a HashMap<Long, String> of small ids in ascending order. */
function sortedAddrs(addrs: Map<number, string>): Array<[number, string]> {
  return [...addrs].sort((a, b) => a[0] - b[0]);
}

async function runtimeTable(api: AdminApi, addr: string): Promise<Record<string, string>> {
  const res = expectOk(await api.invokeBroker(addr, RequestCode.GET_BROKER_RUNTIME_INFO));
  return (jsonBody(res) as { table?: Record<string, string> }).table ?? {};
}

export async function clusterList(api: AdminApi, io: AdminIo, more: boolean): Promise<void> {
  const info: ClusterInfo = await api.getClusterInfo();
  if (more) {
    io.out(`${left('#Cluster Name', 16)}  ${left('#Broker Name', 32)} ${right('#InTotalYest', 14)} ${right('#OutTotalYest', 14)} ${right('#InTotalToday', 14)} ${right('#OutTotalToday', 14)}\n`);
  } else {
    io.out(
      `${left('#Cluster Name', 16)}  ${left('#Broker Name', 22)}  ${left('#BID', 4)}  ${left('#Addr', 22)} ${left('#Version', 16)} ` +
        `${right('#InTPS(LOAD)', 19)} ${right('#OutTPS(LOAD)', 19)} ${right('#PCWait(ms)', 10)} ${right('#Hour', 5)} ${right('#SPACE', 6)}\n`,
    );
  }
  for (const [cluster, names] of info.clusterAddrTable) {
    for (const brokerName of [...names].sort()) {
      const data = info.brokerAddrTable.get(brokerName);
      if (!data) continue;
      for (const [id, addr] of sortedAddrs(data.brokerAddrs)) {
        let table: Record<string, string> = {};
        let failed = false;
        try {
          table = await runtimeTable(api, addr);
        } catch (e) {
          failed = true;
          io.err(`GET_BROKER_RUNTIME_INFO from ${addr} failed: ${(e as Error).message}\n`);
        }
        if (more) {
          const n = (k: string): number => Number(table[k] ?? NaN);
          const diff = (a: string, b: string): number => (Number.isFinite(n(a) - n(b)) ? n(a) - n(b) : 0);
          io.out(
            `${left(cluster, 16)}  ${left(brokerName, 32)} ${right(diff('msgPutTotalTodayMorning', 'msgPutTotalYesterdayMorning'), 14)} ` +
              `${right(diff('msgGetTotalTodayMorning', 'msgGetTotalYesterdayMorning'), 14)} ${right(diff('msgPutTotalTodayNow', 'msgPutTotalTodayMorning'), 14)} ` +
              `${right(diff('msgGetTotalTodayNow', 'msgGetTotalTodayMorning'), 14)}\n`,
          );
          continue;
        }
        const first = (s: string | undefined): number => Number((s ?? '').split(' ')[0]) || 0;
        const earliest = table.earliestMessageTimeStamp;
        const hour = earliest ? (io.now() - Number(earliest)) / 1000 / 60 / 60 : 0;
        const space = table.commitLogDiskRatio ? Number(table.commitLogDiskRatio) : 0;
        const text = (k: string): string => (failed ? '' : (table[k] ?? 'null'));
        io.out(
          `${left(cluster, 16)}  ${left(brokerName, 22)}  ${left(id, 4)}  ${left(addr, 22)} ${left(failed ? '' : (table.brokerVersionDesc ?? 'null'), 16)} ` +
            `${right(`${right(fixed(first(table.putTps), 2), 9)}(${text('sendThreadPoolQueueSize')},${text('sendThreadPoolQueueHeadWaitTimeMills')}ms)`, 19)} ` +
            `${right(`${right(fixed(first(table.getTransferedTps), 2), 9)}(${text('pullThreadPoolQueueSize')},${text('pullThreadPoolQueueHeadWaitTimeMills')}ms)`, 19)} ` +
            `${right(text('pageCacheLockTimeMills'), 10)} ${right(fixed(hour, 2), 5)} ${right(fixed(space, 4), 6)}\n`,
        );
      }
    }
  }
}

export function routeToPretty(r: TopicRouteData): PrettyValue {
  const scalar = (value: string | number | boolean): PrettyValue => ({ kind: 'scalar', value });
  const fields: Array<[string, PrettyValue]> = [
    [
      'brokerDatas',
      {
        kind: 'array',
        items: r.brokerDatas.map((b) => ({
          kind: 'bean',
          fields: [
            ['brokerAddrs', { kind: 'map', entries: sortedAddrs(b.brokerAddrs).map(([id, a]) => [id, scalar(a)]) }],
            ['brokerName', scalar(b.brokerName)],
            ['cluster', scalar(b.cluster)],
          ],
        })),
      },
    ],
    [
      'filterServerTable',
      {
        kind: 'map',
        entries: Object.entries(r.filterServerTable).map(([k, list]) => [k, { kind: 'array', items: list.map(scalar) }]),
      },
    ],
  ];
  if (r.orderTopicConf) fields.push(['orderTopicConf', scalar(r.orderTopicConf)]);
  fields.push([
    'queueDatas',
    {
      kind: 'array',
      items: r.queueDatas.map((q) => ({
        kind: 'bean',
        fields: [
          ['brokerName', scalar(q.brokerName)],
          ['perm', scalar(q.perm)],
          ['readQueueNums', scalar(q.readQueueNums)],
          ['topicSysFlag', scalar(q.topicSysFlag)],
          ['writeQueueNums', scalar(q.writeQueueNums)],
        ],
      })),
    },
  ]);
  return { kind: 'bean', fields };
}

async function topicList(api: AdminApi, io: AdminIo, withClusters: boolean): Promise<void> {
  const topics = await api.getAllTopicList();
  if (!withClusters) {
    for (const t of topics) io.out(`${t}\n`);
    return;
  }
  const info = await api.getClusterInfo();
  const clusterOfBroker = new Map<string, string>();
  for (const [cluster, names] of info.clusterAddrTable) for (const n of names) clusterOfBroker.set(n, cluster);
  io.out(`${left('#Cluster Name', 20)}  ${left('#Topic', 48)}  ${left('#Consumer Group', 48)}\n`);
  for (const topic of topics) {
    if (topic.startsWith('%RETRY%') || topic.startsWith('%DLQ%')) continue;
    let cluster = '';
    const groups: string[] = [];
    try {
      const route = await api.getTopicRoute(topic);
      const brokerName = route.brokerDatas[0]?.brokerName;
      cluster = (brokerName && clusterOfBroker.get(brokerName)) || '';
      const master = route.brokerDatas[0]?.brokerAddrs.get(0);
      if (master) {
        const res = await api.invokeBroker(master, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic });
        if (res.code === 0) {
          const list = (jsonBody(res) as { groupList?: unknown[] }).groupList ?? [];
          groups.push(...list.map(String));
        }
      }
    } catch {
      // A topic whose broker cannot answer is still listed, without its consumer groups.
    }
    if (groups.length === 0) groups.push('');
    for (const g of groups) io.out(`${left(cluster, 20)}  ${left(topic, 48)}  ${left(g, 48)}\n`);
  }
}

export function buildAdminProgram(io: AdminIo): Command {
  const program = new Command('mqadmin');
  program
    .description('raftmq admin tool (RocketMQ mqadmin sub-commands)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();

  program
    .command('clusterList')
    .description('List all of clusters')
    .option('-n, --namesrvAddr <addr>', 'Name server address list, eg: 192.168.0.1:9876;192.168.0.2:9876')
    .option('-m, --moreStats', 'Print more stats')
    .action(async (opts: { namesrvAddr?: string; moreStats?: boolean }) => {
      await withApi(opts, io, (api) => clusterList(api, io, opts.moreStats === true));
    });

  program
    .command('topicList')
    .description('Fetch all topic list from name server')
    .option('-n, --namesrvAddr <addr>', 'Name server address list')
    .option('-c, --clusterModel', 'clusterModel')
    .action(async (opts: { namesrvAddr?: string; clusterModel?: boolean }) => {
      await withApi(opts, io, (api) => topicList(api, io, opts.clusterModel === true));
    });

  program
    .command('topicRoute')
    .description('Examine topic route info')
    .option('-n, --namesrvAddr <addr>', 'Name server address list')
    .requiredOption('-t, --topic <topic>', 'topic name')
    .action(async (opts: { namesrvAddr?: string; topic: string }) => {
      await withApi(opts, io, async (api) => {
        const route = await api.getTopicRoute(opts.topic.trim());
        io.out(prettyFastJson(routeToPretty(route)) + '\n');
      });
    });

  program
    .command('getKvConfig')
    .description('get KV config.')
    .option('-n, --namesrvAddr <addr>', 'Name server address list')
    .requiredOption('-s, --namespace <namespace>', 'set the namespace')
    .requiredOption('-k, --key <key>', 'set the key name')
    .action(async (opts: { namesrvAddr?: string; namespace: string; key: string }) => {
      await withApi(opts, io, async (api) => {
        const ns = opts.namespace.trim();
        const key = opts.key.trim();
        const value = await api.getKvConfig(ns, key);
        if (value === undefined) throw new Error(`CODE: 22 DESC: No config item, Namespace: ${ns} Key: ${key}`);
        io.out(`get kv config success, namespace: ${ns}, key: ${key}, value: ${value}.\n`);
      });
    });

  program
    .command('updateKvConfig')
    .description('Create or update KV config.')
    .option('-n, --namesrvAddr <addr>', 'Name server address list')
    .requiredOption('-s, --namespace <namespace>', 'set the namespace')
    .requiredOption('-k, --key <key>', 'set the key name')
    .requiredOption('-v, --value <value>', 'set the key value')
    .action(async (opts: { namesrvAddr?: string; namespace: string; key: string; value: string }) => {
      await withApi(opts, io, async (api) => {
        await api.putKvConfig(opts.namespace.trim(), opts.key.trim(), opts.value.trim());
        io.out('create or update kv config to namespace success.\n');
      });
    });

  program
    .command('deleteKvConfig')
    .description('Delete KV config.')
    .option('-n, --namesrvAddr <addr>', 'Name server address list')
    .requiredOption('-s, --namespace <namespace>', 'set the namespace')
    .requiredOption('-k, --key <key>', 'set the key name')
    .action(async (opts: { namesrvAddr?: string; namespace: string; key: string }) => {
      await withApi(opts, io, async (api) => {
        await api.deleteKvConfig(opts.namespace.trim(), opts.key.trim());
        io.out('delete kv config from namespace success.\n');
      });
    });

  registerTopicCommands(program, io);
  registerConsumerCommands(program, io);
  registerBrokerCommands(program, io);
  registerMessageCommands(program, io);
  return program;
}

/** Runs one mqadmin command line; returns the process exit code. */
export async function runAdmin(argv: string[], io: AdminIo): Promise<number> {
  const program = buildAdminProgram(io);
  if (argv.length === 0) {
    io.out(program.helpInformation());
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    const name = argv[0] ?? '';
    io.err(`${name} command failed: ${(e as Error).message}\n`);
    return 1;
  }
}
