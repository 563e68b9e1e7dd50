// bin/fast-try.sh start|stop: a name server and the three brokers of conf/dledger, tracked by
// pid files. Run here on generated copies of the seed's confs with free ports and a temp home.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { projectRoot } from '../helpers/fixtures.js';
import { freePort, runBin, tempDir } from '../helpers/processes.js';


/** Whether a process is gone (or a zombie waiting for whoever inherited it to reap it), within 5 s. */
async function ended(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    let state: string | undefined;
    try {
      state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    } catch {
      return true;
    }
    if (state === 'Z') return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

t.test('fast-try starts a name server and a 3-node group, clusterList shows one master, stop ends exactly those processes', async (t) => {
  const home = tempDir(t, 'raftmq-fasttry-');
  const confDir = path.join(home, 'conf');
  fs.mkdirSync(confDir);
  const nsPort = await freePort();
  const ports = [await freePort(), await freePort(), await freePort()];
  const raft = [await freePort(), await freePort(), await freePort()];
  const metricsPorts = [await freePort(), await freePort(), await freePort()];
  // the seed's confs with this test's ports and folders
  for (let i = 0; i < 3; i++) {
    const seed = fs.readFileSync(path.join(projectRoot, `conf/dledger/broker-n${i}.conf`), 'utf8');
    const conf = seed
      .replace(/^listenPort=.*$/m, `listenPort=${ports[i]}`)
      .replace(/^namesrvAddr=.*$/m, `namesrvAddr=127.0.0.1:${nsPort}`)
      .replace(/^storePathRootDir=.*$/m, `storePathRootDir=${path.join(home, `node0${i}`)}`)
      .replace(/^storePathCommitLog=.*$/m, `storePathCommitLog=${path.join(home, `node0${i}`, 'commitlog')}`)
      .replace(/^metricsPromExporterPort=.*$/m, `metricsPromExporterPort=${metricsPorts[i]}`)
      .replace(/^dLegerPeers=.*$/m, `dLegerPeers=${raft.map((p, j) => `n${j}-127.0.0.1:${p}`).join(';')}`);
    t.match(conf, new RegExp(`dLegerSelfId=n${i}`), 'the seed conf names its node');
    fs.writeFileSync(path.join(confDir, `broker-n${i}.conf`), conf);
  }
  fs.writeFileSync(path.join(home, 'namesrv.conf'), `listenPort=${nsPort}\n`);
  const env = { FAST_TRY_CONF_DIR: confDir, FAST_TRY_NAMESRV_CONF: path.join(home, 'namesrv.conf'), FAST_TRY_HOME: home, NODE_OPTIONS: '' };
  t.teardown(() => runBin('fast-try.sh', ['stop'], env, 30_000).catch(() => undefined));

  const started = await runBin('fast-try.sh', ['start'], env, 60_000);
  t.equal(started.code, 0, started.stderr);
  t.match(started.stdout, /broker n2 started/);
  const pids = ['namesrv', 'broker-n0', 'broker-n1', 'broker-n2'].map((n) => Number(fs.readFileSync(path.join(home, 'pids', `${n}.pid`), 'utf8')));
  for (const pid of pids) t.doesNotThrow(() => process.kill(pid, 0), `process ${pid} runs`);

  // the group elects a master and both followers register
  let rows: string[][] = [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const out = await runBin('mqadmin', ['clusterList', '-n', `127.0.0.1:${nsPort}`], { NODE_OPTIONS: '' });
    rows = out.stdout.split('\n').slice(1).filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/));
    if (rows.length === 3 && rows.some((r) => r[2] === '0')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.equal(rows.length, 3, 'three brokers listed');
  t.same(rows.map((r) => r[0]), ['RaftCluster', 'RaftCluster', 'RaftCluster']);
  t.same(rows.map((r) => r[1]), ['RaftNode00', 'RaftNode00', 'RaftNode00']);
  t.equal(rows.filter((r) => r[2] === '0').length, 1, 'exactly one master (BID 0)');
  t.same(new Set(rows.map((r) => r[3])), new Set(ports.map((p) => `127.0.0.1:${p}`)), 'every node by its address');

  const again = await runBin('fast-try.sh', ['start'], env, 30_000);
  t.match(again.stdout, /namesrv is already running/, 'a second start does not start a second name server');
  t.match(again.stdout, /broker n2 is already running/, 'nor second brokers');

  const stopped = await runBin('fast-try.sh', ['stop'], env, 60_000);
  t.equal(stopped.code, 0, stopped.stderr);
  t.match(stopped.stdout, /namesrv \(pid \d+\) stopped/);
  for (const pid of pids) t.ok(await ended(pid), `process ${pid} ended`);
  t.notOk(fs.existsSync(path.join(home, 'pids', 'namesrv.pid')), 'pid files are removed');
});
