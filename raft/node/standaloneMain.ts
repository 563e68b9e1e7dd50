// A Raft node as a process of its own (the real-process test and bench/raft start it).
//   node dist/raft/node/standaloneMain.js -c node.properties
//   node dist/raft/node/standaloneMain.js --dLegerGroup g --dLegerPeers 'n0-127.0.0.1:40911;...' \
//        --dLegerSelfId n0 --storePathRootDir /tmp/x [--controlPort 0] [--flushDiskType ASYNC_FLUSH]
//        [--logWriter worker|main] [--heartBeatTimeIntervalMs 100 ...]
//        [--maxCachedEntries N] [--maxCachedBytes N] [--cacheKeepApplied N] (the Raft entry cache)
// Flags override the file. Prints `READY <selfId> raft=<host:port> control=<port>` once serving,
// and `ROLE <role> <term> <leader|-> <epoch ms>` on every role or leader change. Committed
// entries are only counted. SIGTERM/SIGINT close the node cleanly.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseProperties } from '../../storage/log/termFiles.js';
import { formatAddress } from '../transport/index.js';
import { ControlServer } from './ControlServer.js';
import { applyHeapGrowth } from './heapGrowth.js';
import { RaftNode } from './RaftNode.js';
import { timingFromProperties } from './RaftTiming.js';

function parseArgs(argv: string[]): Map<string, string> {
  const props = new Map<string, string>();
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c') {
      const file = argv[++i];
      if (!file) throw new Error('-c needs a file');
      for (const [k, v] of parseProperties(fs.readFileSync(file, 'utf8'))) props.set(k, v);
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else {
        const v = argv[++i];
        if (v === undefined) throw new Error(`${a} needs a value`);
        flags.set(a.slice(2), v);
      }
    } else throw new Error(`unexpected argument ${a}`);
  }
  for (const [k, v] of flags) props.set(k, v);
  return props;
}

/** An optional positive integer option: absent gives {}, anything but digits is an error naming it. */
function positiveInt(p: Map<string, string>, k: string): Record<string, number> {
  const v = p.get(k);
  if (v === undefined) return {};
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new Error(`--${k} must be a positive integer, got ${JSON.stringify(v)}`);
  return { [k]: n };
}

function required(p: Map<string, string>, k: string): string {
  const v = p.get(k);
  if (!v) throw new Error(`${k} is required`);
  return v;
}

async function main(): Promise<void> {
  applyHeapGrowth();
  const p = parseArgs(process.argv.slice(2));
  const selfId = required(p, 'dLegerSelfId');
  const flushDiskType = (p.get('flushDiskType') ?? 'ASYNC_FLUSH') as 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  const logWriter = (p.get('logWriter') ?? 'worker') as 'worker' | 'main';
  let applied = 0;
  const node = await RaftNode.start({
    group: p.get('dLegerGroup') ?? 'default',
    selfId,
    peers: required(p, 'dLegerPeers'),
    storeDir: required(p, 'storePathRootDir'),
    flushDiskType,
    logWriter,
    writerSpinMicros: Number(p.get('writerSpinMicros') ?? 0),
    ...positiveInt(p, 'maxCachedEntries'),
    ...positiveInt(p, 'maxCachedBytes'),
    ...positiveInt(p, 'cacheKeepApplied'),
    timing: timingFromProperties(p),
    onApply: (entries) => {
      applied += entries.length;
    },
    onRoleChange: (c) => process.stdout.write(`ROLE ${c.role} ${c.term} ${c.leaderId ?? '-'} ${(performance.timeOrigin + performance.now()).toFixed(3)}\n`),
  });
  const control = await ControlServer.start(node, Number(p.get('controlPort') ?? 0));
  process.stdout.write(`READY ${selfId} raft=${formatAddress(node.address)} control=${control.port}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void control
      .close()
      .then(() => node.close())
      .then(() => {
        process.stdout.write(`STOPPED ${selfId} applied=${applied}\n`);
        process.exit(0);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  node.on('fatal', (e) => {
    process.stderr.write(`fatal: ${e.message}\n`);
    process.exit(2);
  });
}

main().catch((e: Error) => {
  process.stderr.write(`standaloneMain: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
