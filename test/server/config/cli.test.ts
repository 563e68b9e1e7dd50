import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { brokerKeys } from '../../../server/config/BrokerConfig.js';
import { LauncherUsageError, parseLauncherArgs, prepareLaunch, type LaunchIO } from '../../../server/config/cli.js';
import { ConfigError } from '../../../server/config/ConfigError.js';
import type { HostInfo } from '../../../server/config/HostInfo.js';
import { namesrvKeys } from '../../../server/config/NamesrvConfig.js';
import { projectRoot } from '../../helpers/fixtures.js';

const host: HostInfo = { homeDir: '/home/op', hostName: 'box1', localIPv4: '10.1.2.3', cpus: 8 };
const n0 = path.join(projectRoot, 'conf/dledger/broker-n0.conf');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftmq-cli-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

const broker = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseLauncherArgs('broker', argv, env, host);
const namesrv = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseLauncherArgs('namesrv', argv, env, host);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

t.test('-c loads the file and runs', async (t) => {
  const r = broker(['-c', n0]);
  t.equal(r.action, 'run');
  if (r.action !== 'run') return;
  t.equal(r.file, n0);
  t.equal(r.config.listenPort, 30911);
  t.equal(r.config.dLegerSelfId, 'n0');
  t.same(r.warnings, []);
  const long = broker([`--configFile=${n0}`]);
  t.equal(long.action === 'run' && long.config.listenPort, 30911, '--configFile, as RocketMQ names it');
  const glued = broker([`-c${n0}`]);
  t.equal(glued.action === 'run' && glued.config.listenPort, 30911, '-cFILE');
  const none = broker([]);
  t.equal(none.action === 'run' && none.config.listenPort, 10911, 'no file: defaults');
});

t.test('-p prints every key as key=value in table order', async (t) => {
  const r = broker(['-c', n0, '-p']);
  t.equal(r.action, 'print');
  if (r.action !== 'print') return;
  const lines = r.output.trimEnd().split('\n');
  t.same(
    lines.map((l) => l.slice(0, l.indexOf('='))),
    Object.keys(brokerKeys),
    'one line per key, RocketMQ order (BrokerConfig, NettyServerConfig, MessageStoreConfig, DLedger)',
  );
  t.ok(r.output.endsWith('\n'));
  t.equal(lines[0], 'rocketmqHome=', 'unset values print empty, as RocketMQ prints null');
  for (const expected of [
    'namesrvAddr=127.0.0.1:9876',
    'brokerIP1=127.0.0.1',
    'brokerIP2=10.1.2.3',
    'brokerName=RaftNode00',
    'listenPort=30911',
    'haListenPort=30912',
    'storePathCommitLog=/tmp/rmqstore/node00/commitlog',
    'dLegerPeers=n0-127.0.0.1:40911;n1-127.0.0.1:40912;n2-127.0.0.1:40913',
    'dLegerSelfId=n0',
    'enableDLegerCommitLog=true',
    'messageDelayLevel=1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h',
    'sendMessageThreadPoolNums=16',
    'registerNameServerPeriod=30000',
  ]) {
    t.ok(lines.includes(expected), expected);
  }
  const both = broker(['-c', n0, '-m', '-p']);
  t.equal(both.action === 'print' && both.output, r.output, '-p wins over -m, as in RocketMQ');
});

t.test('-m prints only the important keys', async (t) => {
  const r = broker(['-c', n0, '-m']);
  if (r.action !== 'print') return t.fail('expected print');
  const keys = r.output.trimEnd().split('\n').map((l) => l.slice(0, l.indexOf('=')));
  const important = Object.entries(brokerKeys)
    .filter(([, s]) => s.important)
    .map(([k]) => k);
  t.same(keys, important);
  for (const k of ['namesrvAddr', 'brokerIP1', 'brokerName', 'brokerClusterName', 'brokerId', 'listenPort', 'brokerRole', 'flushDiskType', 'dLegerPeers', 'dLegerSelfId', 'storePathRootDir']) {
    t.ok(keys.includes(k), `${k} is important`);
  }
  for (const k of ['messageDelayLevel', 'haListenPort', 'rocketmqHome', 'heartBeatTimeIntervalMs']) {
    t.notOk(keys.includes(k), `${k} is not`);
  }
});

t.test('namesrv -p', async (t) => {
  const file = path.join(projectRoot, 'conf/namesrv.conf');
  const r = namesrv(['-c', file, '-p']);
  if (r.action !== 'print') return t.fail('expected print');
  t.same(
    r.output.trimEnd().split('\n').map((l) => l.slice(0, l.indexOf('='))),
    Object.keys(namesrvKeys),
  );
  t.ok(r.output.includes('\nlistenPort=9876\n'));
  t.ok(r.output.includes(`\nconfigStorePath=${file}\n`));
  t.ok(r.output.includes('\nkvConfigPath=/home/op/namesrv/kvConfig.json\n'));
});

t.test('namesrvAddr: -n beats the file, the file beats NAMESRV_ADDR', async (t) => {
  const noAddr = path.join(dir, 'noaddr.conf');
  fs.writeFileSync(noAddr, 'brokerName=b\n');
  const env = { NAMESRV_ADDR: '10.0.0.9:9876;10.0.0.8:9876' };
  const addrs = (r: ReturnType<typeof broker>) => (r.action === 'help' ? undefined : r.config.namesrvAddr);

  t.same(addrs(broker(['-c', noAddr], env)), [
    { host: '10.0.0.9', port: 9876 },
    { host: '10.0.0.8', port: 9876 },
  ], 'NAMESRV_ADDR when neither -n nor the file sets it');
  t.same(addrs(broker(['-c', n0], env)), [{ host: '127.0.0.1', port: 9876 }], 'the file beats NAMESRV_ADDR');
  t.same(addrs(broker(['-c', n0, '-n', '192.168.0.1:9876;192.168.0.2:9876'], env)), [
    { host: '192.168.0.1', port: 9876 },
    { host: '192.168.0.2', port: 9876 },
  ], '-n beats the file');
  t.same(addrs(broker(['--namesrvAddr', 'ns.local:9876'], env)), [{ host: 'ns.local', port: 9876 }], '--namesrvAddr');
  t.same(addrs(broker(['-c', noAddr])), [], 'none at all');

  const e = thrown(() => broker(['-c', n0, '-n', '127.0.0.1']));
  t.ok(e instanceof ConfigError);
  t.equal(
    (e as ConfigError).message,
    `command line -n: namesrvAddr = "127.0.0.1": expected a ';'-separated list of host:port (port 1..65535), e.g. "127.0.0.1:9876;192.168.0.1:9876" ("127.0.0.1" is not host:port)`,
  );
  t.equal((e as ConfigError).file, undefined, 'not from a file');
  t.ok(namesrv([], env).action === 'run', 'NAMESRV_ADDR means nothing to the name server');
});

t.test('bad values and missing files throw ConfigError, also under -p', async (t) => {
  const bad = path.join(dir, 'bad.conf');
  fs.writeFileSync(bad, 'brokerName=b\nlistenPort=abc\n');
  const e = thrown(() => broker(['-c', bad, '-p']));
  t.ok(e instanceof ConfigError);
  t.equal((e as Error).message, `${bad}:2: listenPort = "abc": expected an integer port 1..65535`);
  const missing = path.join(dir, 'missing.conf');
  t.equal((thrown(() => namesrv(['-c', missing])) as Error).message, `${missing}: cannot read the config file (no such file)`);
});

t.test('warnings come back with the result', async (t) => {
  const f = path.join(dir, 'unknown.conf');
  fs.writeFileSync(f, 'listenPort=9877\nlistenport=9878\n');
  const r = namesrv(['-c', f]);
  t.same(r.warnings, [`${f}:2: unknown namesrv config key "listenport" is ignored; did you mean "listenPort"?`]);
});

t.test('-h prints usage; bad flags are usage errors', async (t) => {
  const help = broker(['-h']);
  t.equal(help.action, 'help');
  if (help.action === 'help') {
    t.match(help.output, /^Usage: mqbroker \[options\]/);
    for (const flag of ['-c, --configFile <file>', '-p, --printConfigItem', '-m, --printImportantConfig', '-n, --namesrvAddr <addr>', '-h, --help']) {
      t.ok(help.output.includes(flag), flag);
    }
  }
  const nsHelp = namesrv(['--help']);
  t.equal(nsHelp.action, 'help');
  if (nsHelp.action === 'help') {
    t.match(nsHelp.output, /^Usage: mqnamesrv \[options\]/);
    t.notOk(nsHelp.output.includes('--namesrvAddr'), 'the name server has no -n');
    t.notOk(nsHelp.output.includes('--printImportantConfig'), 'nor -m');
  }

  const cases: [() => unknown, string][] = [
    [() => broker(['-x']), "error: unknown option '-x'"],
    [() => broker(['-c']), "error: option '-c, --configFile <file>' argument missing"],
    [() => broker(['stray']), 'error: too many arguments. Expected 0 arguments but got 1.'],
    [() => namesrv(['-n', '127.0.0.1:9876']), "error: unknown option '-n'"],
    [() => namesrv(['-m']), "error: unknown option '-m'"],
  ];
  for (const [fn, message] of cases) {
    const e = thrown(fn);
    t.ok(e instanceof LauncherUsageError, message);
    t.equal((e as LauncherUsageError).message, message);
    t.match((e as LauncherUsageError).usage, /^Usage: mq(broker|namesrv) \[options\]/);
  }
});

t.test('prepareLaunch maps results to output and exit codes', async (t) => {
  const capture = (): LaunchIO & { out: string; err: string } => {
    const io = {
      out: '',
      err: '',
      stdout(s: string) {
        io.out += s;
      },
      stderr(s: string) {
        io.err += s;
      },
    };
    return io;
  };

  let io = capture();
  const run = prepareLaunch('broker', ['-c', n0], {}, io, host);
  t.ok('config' in run && run.config.listenPort === 30911, 'run: the config');
  t.equal(io.out + io.err, '', 'nothing printed');

  io = capture();
  t.same(prepareLaunch('broker', ['-c', n0, '-m'], {}, io, host), { exitCode: 0 });
  t.match(io.out, /^namesrvAddr=127\.0\.0\.1:9876\n/);

  io = capture();
  t.same(prepareLaunch('namesrv', ['-h'], {}, io, host), { exitCode: 0 });
  t.match(io.out, /^Usage: mqnamesrv/);

  io = capture();
  t.same(prepareLaunch('broker', ['-q'], {}, io, host), { exitCode: 1 });
  t.match(io.err, /^error: unknown option '-q'\nUsage: mqbroker/);

  io = capture();
  t.same(prepareLaunch('broker', ['-n', 'x'], {}, io, host), { exitCode: 1 });
  t.match(io.err, /^command line -n: namesrvAddr = "x": expected /);

  const f = path.join(dir, 'warn.conf');
  fs.writeFileSync(f, 'bogus=1\n');
  io = capture();
  const warned = prepareLaunch('namesrv', ['-c', f], {}, io, host);
  t.ok('config' in warned);
  t.equal(io.err, `warning: ${f}:1: unknown namesrv config key "bogus" is ignored\n`);
});
