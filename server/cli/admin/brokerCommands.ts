// Broker sub-commands: brokerStatus, getBrokerConfig (RocketMQ 4.9.8 flags and output).
import type { Command } from 'commander';
import type { KVTable } from '../../../protocol/body/KVTable.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { left } from '../format.js';
import { allAddrsOfCluster, mastersAndSlavesOfCluster, NAMESRV_OPTION, withApi, type AdminIo, type NamesrvOption } from './context.js';

/** brokerStatus: the runtime table sorted by key (Java's TreeMap), prefixed by the address for -c. */
export function renderBrokerStatus(table: KVTable, addrPrefix?: string): string {
  let s = '';
  for (const key of [...table.keys()].sort()) {
    const value = table.get(key) as string;
    s += addrPrefix !== undefined ? `${left(addrPrefix, 24)} ${left(key, 32)}: ${value}\n` : `${left(key, 32)}: ${value}\n`;
  }
  return s;
}

/** getBrokerConfig: a banner, then "key=  value" lines in the order the broker sent them. */
export function renderBrokerConfig(banner: string, props: ReadonlyMap<string, string>): string {
  let s = banner;
  for (const [k, v] of props) s += `${left(k, 50)}=  ${v}\n`;
  return `${s}\n`;
}

type BrokerOrClusterOptions = NamesrvOption & { brokerAddr?: string; clusterName?: string };

function requireOne(opts: BrokerOrClusterOptions): void {
  if (opts.brokerAddr === undefined && opts.clusterName === undefined) throw new Error('one of -b <brokerAddr> and -c <clusterName> is required');
}

export function registerBrokerCommands(program: Command, io: AdminIo): void {
  program
    .command('transferLeadership')
    .description('Move the Raft leadership of a DLedger broker group to one of its members (raftmq)')
    .option(...NAMESRV_OPTION)
    .requiredOption('-b, --brokerName <name>', 'the broker group (brokerName / dLegerGroup)')
    .requiredOption('-t, --targetId <id>', 'the member to lead, as in dLegerPeers (n0, n1, ...)')
    .action(async (opts: NamesrvOption & { brokerName: string; targetId: string }) => {
      await withApi(opts, io, async (api) => {
        const name = opts.brokerName.trim();
        const master = (await api.getClusterInfo()).brokerAddrTable.get(name)?.brokerAddrs.get(0);
        if (!master) throw new Error(`broker group ${name} has no master in the routes of ${opts.namesrvAddr ?? 'the name server'}`);
        const res = await api.invokeBroker(master, RequestCode.RAFTMQ_TRANSFER_LEADERSHIP, { targetId: opts.targetId.trim() }, undefined, 15_000);
        if (res.code !== 0) throw new Error(`transfer refused by ${master}: ${res.remark ?? `code ${res.code}`}`);
        io.out(`transfer leadership of ${name} from ${master} to ${opts.targetId.trim()}: OK\n`);
      });
    });


  program
    .command('brokerStatus')
    .description('Fetch broker runtime status data')
    .option(...NAMESRV_OPTION)
    .option('-b, --brokerAddr <addr>', 'Broker address')
    .option('-c, --clusterName <cluster>', 'which cluster')
    .action(async (opts: BrokerOrClusterOptions) => {
      requireOne(opts);
      await withApi(opts, io, async (api) => {
        if (opts.brokerAddr !== undefined) {
          io.out(renderBrokerStatus(await api.getBrokerRuntimeInfo(opts.brokerAddr.trim())));
          return;
        }
        let failures = 0;
        for (const addr of await allAddrsOfCluster(api, (opts.clusterName as string).trim())) {
          try {
            io.out(renderBrokerStatus(await api.getBrokerRuntimeInfo(addr), addr));
          } catch (e) {
            failures++;
            io.err(`GET_BROKER_RUNTIME_INFO from ${addr} failed: ${(e as Error).message}\n`);
          }
        }
        if (failures > 0) throw new Error(`${failures} broker(s) did not answer`);
      });
    });

  program
    .command('getBrokerConfig')
    .description('Get broker config by cluster or special broker!')
    .option(...NAMESRV_OPTION)
    .option('-b, --brokerAddr <addr>', 'get which broker')
    .option('-c, --clusterName <cluster>', 'get which cluster')
    .action(async (opts: BrokerOrClusterOptions) => {
      requireOne(opts);
      await withApi(opts, io, async (api) => {
        if (opts.brokerAddr !== undefined) {
          const addr = opts.brokerAddr.trim();
          io.out(renderBrokerConfig(`============${addr}============\n`, await api.getBrokerConfig(addr)));
          return;
        }
        for (const [master, slaves] of await mastersAndSlavesOfCluster(api, (opts.clusterName as string).trim())) {
          io.out(renderBrokerConfig(`============Master: ${master}============\n`, await api.getBrokerConfig(master)));
          for (const slave of slaves) {
            io.out(renderBrokerConfig(`============My Master: ${master}=====Slave: ${slave}============\n`, await api.getBrokerConfig(slave)));
          }
        }
      });
    });
}
