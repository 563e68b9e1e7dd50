// A three-node broker group on DLedger for tests: real bin/mqbroker processes on free loopback
// ports (client and Raft ports), each with its own store folder, and a name server.
import type { Test } from 'tap';
import { AdminApi } from '../../client/AdminApi.js';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker.js';
import { freePort, tempDir } from '../helpers/processes.js';

export interface GroupNode {
  id: string;
  port: number;
  raftPort: number;
  storeDir: string;
  proc: BrokerProcess | undefined;
  conf: Record<string, string>;
}

export interface Group {
  nodes: GroupNode[];
  namesrvAddr: string;
  admin: AdminApi;
  start(node: GroupNode): Promise<void>;
  /** the node whose address the name server lists as broker id 0 */
  master(timeoutMs?: number, not?: string): Promise<GroupNode>;
}

/** `storeDirs` puts a node on an existing store folder (an upgraded Java store). */
/** Starts the three nodes (those named in `deferStart` are left for the caller's group.start). */
export async function startGroup(t: Test, namesrvAddr: string, extra: Record<string, string> = {}, storeDirs: Record<string, string> = {}, deferStart: string[] = []): Promise<Group> {
  const ids = ['n0', 'n1', 'n2'];
  const ports = await Promise.all(ids.map(() => freePort()));
  const raftPorts = await Promise.all(ids.map(() => freePort()));
  const peers = ids.map((id, i) => `${id}-127.0.0.1:${raftPorts[i]}`).join(';');
  const nodes: GroupNode[] = ids.map((id, i) => ({
    id,
    port: ports[i]!,
    raftPort: raftPorts[i]!,
    storeDir: storeDirs[id] ?? tempDir(t, `raftmq-${id}-`),
    proc: undefined,
    conf: {
      brokerClusterName: 'RaftCluster',
      enableDLegerCommitLog: 'true',
      dLegerGroup: 'RaftNode00',
      dLegerPeers: peers,
      dLegerSelfId: id,
      ...extra,
    },
  }));
  const admin = new AdminApi(namesrvAddr, 3000);
  t.teardown(() => admin.close());
  const group: Group = {
    nodes,
    namesrvAddr,
    admin,
    async start(node) {
      node.proc = await startBrokerProcess(t, { namesrvAddr, port: node.port, storeDir: node.storeDir, brokerName: 'RaftNode00', conf: node.conf });
    },
    async master(timeoutMs = 30_000, not) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const info = await admin.getClusterInfo();
          const addr = info.brokerAddrTable.get('RaftNode00')?.brokerAddrs.get(0);
          const node = nodes.find((n) => `127.0.0.1:${n.port}` === addr);
          if (node && node.id !== not) return node;
        } catch {
          // the name server may not know the group yet
        }
        if (Date.now() > deadline) throw new Error(`no master registered within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
  await Promise.all(nodes.filter((n) => !deferStart.includes(n.id)).map((n) => group.start(n)));
  return group;
}

/** Polls `check` every 50 ms until it returns true or the time runs out. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
