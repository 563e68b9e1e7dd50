// What every mqadmin sub-command shares: its I/O, the admin client, cluster lookups and option parsing.
import { AdminApi } from '../../../client/AdminApi.js';

export interface AdminIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  now: () => number;
  /** where queryMsgById writes message bodies (Java: /tmp/rocketmq/msgbodys) */
  msgBodyDir?: string;
}

export interface NamesrvOption {
  namesrvAddr?: string;
}

export const NAMESRV_OPTION = ['-n, --namesrvAddr <addr>', 'Name server address list, eg: 192.168.0.1:9876;192.168.0.2:9876'] as const;

export function namesrvOf(opts: NamesrvOption, io: AdminIo): string {
  const addr = opts.namesrvAddr ?? io.env.NAMESRV_ADDR;
  if (!addr) throw new Error('no name server address: give -n host:port or set NAMESRV_ADDR');
  return addr;
}

export async function withApi<T>(opts: NamesrvOption, io: AdminIo, fn: (api: AdminApi) => Promise<T>): Promise<T> {
  const api = new AdminApi(namesrvOf(opts, io));
  try {
    return await fn(api);
  } finally {
    api.close();
  }
}

/** CommandUtil's message for a cluster the name server does not know. */
export const UNKNOWN_CLUSTER = 'Make sure the specified clusterName exists or the name server connected to is correct.';

/** Java prints the message and goes on with no broker; we stop with it (non-zero exit). */
async function brokersOfCluster(api: AdminApi, cluster: string): Promise<Array<{ brokerName: string; addrs: Array<[number, string]> }>> {
  const info = await api.getClusterInfo();
  const names = info.clusterAddrTable.get(cluster);
  if (!names) throw new Error(`cluster "${cluster}" not found. ${UNKNOWN_CLUSTER}`);
  const out: Array<{ brokerName: string; addrs: Array<[number, string]> }> = [];
  for (const brokerName of [...names].sort()) {
    const data = info.brokerAddrTable.get(brokerName);
    if (data) out.push({ brokerName, addrs: [...data.brokerAddrs].sort((a, b) => a[0] - b[0]) });
  }
  return out;
}

/** CommandUtil.fetchMasterAddrByClusterName */
export async function masterAddrsOfCluster(api: AdminApi, cluster: string): Promise<string[]> {
  const out: string[] = [];
  for (const b of await brokersOfCluster(api, cluster)) {
    const master = b.addrs.find(([id]) => id === 0);
    if (master) out.push(master[1]);
  }
  return out;
}

/** CommandUtil.fetchMasterAndSlaveAddrByClusterName */
export async function allAddrsOfCluster(api: AdminApi, cluster: string): Promise<string[]> {
  return (await brokersOfCluster(api, cluster)).flatMap((b) => b.addrs.map(([, a]) => a));
}

/** CommandUtil.fetchMasterAndSlaveDistinguish: master address -> slave addresses. */
export async function mastersAndSlavesOfCluster(api: AdminApi, cluster: string): Promise<Array<[string, string[]]>> {
  return (await brokersOfCluster(api, cluster)).map((b) => [
    b.addrs.find(([id]) => id === 0)?.[1] ?? 'null',
    b.addrs.filter(([id]) => id !== 0).map(([, a]) => a),
  ]);
}

/** Integer.parseInt / Long.parseLong of an option, with a clear message when it is not one. */
export function intOption(value: string, flag: string): number {
  const text = value.trim();
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new Error(`option ${flag} expects an integer, got "${value}"`);
  return Number(text);
}

/** Boolean.parseBoolean: true iff "true" ignoring case. */
export function boolOption(value: string): boolean {
  return value.trim().toLowerCase() === 'true';
}

/** Exactly one of -b / -c, as Java's required OptionGroup. */
export function brokerOrCluster(opts: { brokerAddr?: string; clusterName?: string }): { brokerAddr?: string; clusterName?: string } {
  if (opts.brokerAddr !== undefined && opts.clusterName !== undefined) throw new Error('give only one of -b <brokerAddr> and -c <clusterName>');
  if (opts.brokerAddr === undefined && opts.clusterName === undefined) throw new Error('one of -b <brokerAddr> and -c <clusterName> is required');
  return opts.brokerAddr !== undefined ? { brokerAddr: opts.brokerAddr.trim() } : { clusterName: (opts.clusterName as string).trim() };
}
