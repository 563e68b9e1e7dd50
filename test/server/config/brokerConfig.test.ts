import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { brokerKeys, brokerSchema } from '../../../server/config/BrokerConfig.js';
import { ConfigError } from '../../../server/config/ConfigError.js';
import type { KeyTable } from '../../../server/config/ConfigSchema.js';
import type { HostInfo } from '../../../server/config/HostInfo.js';
import { loadBrokerConfig, loadNamesrvConfig } from '../../../server/config/loadConfig.js';
import { namesrvKeys } from '../../../server/config/NamesrvConfig.js';
import { delayLevelsMs } from '../../../server/config/valueTypes.js';
import { projectRoot } from '../../helpers/fixtures.js';

const host: HostInfo = { homeDir: '/home/op', hostName: 'box1', localIPv4: '10.1.2.3', cpus: 2 };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftmq-config-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function conf(text: string): string {
  const file = path.join(dir, `c${fileNo++}.conf`);
  fs.writeFileSync(file, text);
  return file;
}
const broker = (text: string, env: NodeJS.ProcessEnv = {}) => loadBrokerConfig({ file: conf(text), env, host });

/** The ConfigError thrown by fn; fails the test if none is thrown. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const PEERS = 'n0-127.0.0.1:40911;n1-127.0.0.1:40912;n2-127.0.0.1:40913';

t.test('broker defaults', async (t) => {
  const { config: c, warnings } = loadBrokerConfig({ env: {}, host });
  t.same(warnings, []);
  t.equal(c.listenPort, 10911);
  t.equal(c.haListenPort, 10912, 'listenPort + 1');
  t.equal(c.brokerClusterName, 'DefaultCluster');
  t.equal(c.brokerName, 'box1', 'host name, as RocketMQ');
  t.equal(c.brokerIP1, '10.1.2.3');
  t.equal(c.brokerIP2, '10.1.2.3');
  t.equal(c.brokerId, 0);
  t.equal(c.brokerRole, 'ASYNC_MASTER');
  t.equal(c.flushDiskType, 'ASYNC_FLUSH');
  t.equal(c.flushIntervalCommitLog, 500);
  t.equal(c.commitLogCacheWindow, 0, "the kernel manages the commit log's page cache unless asked");
  t.equal(c.storePathRootDir, '/home/op/store');
  t.equal(c.storePathCommitLog, '/home/op/store/commitlog');
  t.equal(c.deleteWhen, '04');
  t.equal(c.fileReservedTime, 72);
  t.equal(c.diskMaxUsedSpaceRatio, 75);
  t.equal(c.mappedFileSizeCommitLog, 1073741824);
  t.equal(c.mappedFileSizeConsumeQueue, 6000000);
  t.equal(c.maxMessageSize, 4194304);
  t.equal(c.defaultTopicQueueNums, 8);
  t.equal(c.autoCreateTopicEnable, true);
  t.equal(c.autoCreateSubscriptionGroup, true);
  t.equal(c.slaveReadEnable, false);
  t.equal(c.registerNameServerPeriod, 30000);
  t.equal(c.brokerPermission, 6);
  t.equal(c.longPollingEnable, true);
  t.equal(c.shortPollingTimeMills, 1000);
  t.equal(c.regionId, 'DefaultRegion');
  t.equal(c.traceOn, true);
  t.equal(c.sendMessageThreadPoolNums, 2, 'min(cpus, 4)');
  t.equal(c.enableDLegerCommitLog, false);
  t.same(c.namesrvAddr, []);
  t.same(c.dLegerPeers, []);
  t.equal(c.preferredLeaderId, '');
  t.equal(c.metricsExporterType, 'DISABLE');
  t.equal(c.metricsPromExporterHost, '');
  t.equal(c.metricsPromExporterPort, 5557);
  // faster than DLedger's 2000 ms x 3: a dead leader is noticed after 500 ms
  t.equal(c.heartBeatTimeIntervalMs, 100);
  t.equal(c.maxHeartBeatLeak, 5);
  t.equal(c.minVoteIntervalMs, 300);
  t.equal(c.maxVoteIntervalMs, 1000);
  t.same(delayLevelsMs(c.messageDelayLevel)?.slice(0, 5), [1000, 5000, 10000, 30000, 60000]);
  t.equal(delayLevelsMs(c.messageDelayLevel)?.length, 18);
  t.ok(Object.isFrozen(c), 'the config cannot be changed by accident');
});

t.test('namesrv defaults', async (t) => {
  const { config: c, warnings } = loadNamesrvConfig({ env: {}, host });
  t.same(warnings, []);
  t.equal(c.listenPort, 9876);
  t.equal(c.kvConfigPath, '/home/op/namesrv/kvConfig.json');
  t.equal(c.configStorePath, '/home/op/namesrv/namesrv.properties');
  t.equal(c.orderMessageEnable, false);
  t.equal(c.clusterTest, false);
  t.equal(c.scanNotActiveBrokerInterval, 10000);
  t.equal(c.brokerChannelExpiredTime, 120000);
  t.equal(c.enableAllTopicList, true);
  t.equal(c.metricsExporterType, 'DISABLE');
  t.equal(c.metricsPromExporterPort, 5557);
  t.equal(c.rocketmqHome, '');
  const withFile = loadNamesrvConfig({ file: conf('listenPort=9877\n'), env: { ROCKETMQ_HOME: '/opt/rmq' }, host });
  t.equal(withFile.config.listenPort, 9877);
  t.equal(withFile.config.configStorePath, withFile.file, 'config changes are saved back to the -c file');
  t.equal(withFile.config.rocketmqHome, '/opt/rmq');
});

t.test('every default is a valid value of its own type', async (t) => {
  for (const [kind, keys] of [['broker', brokerKeys], ['namesrv', namesrvKeys]] as [string, KeyTable][]) {
    const cfg = kind === 'broker' ? loadBrokerConfig({ env: {}, host }).config : loadNamesrvConfig({ env: {}, host }).config;
    for (const [name, spec] of Object.entries(keys)) {
      t.ok(spec.doc.length > 0, `${kind}.${name} has a doc string`);
      const text = spec.type.format((cfg as Record<string, unknown>)[name]);
      const again = spec.type.parse(text);
      // An empty string is how an unset list or id prints; it must read back as the default.
      t.ok(again.ok, `${kind}.${name}: default "${text}" parses`);
      if (again.ok) t.same(again.value, (cfg as Record<string, unknown>)[name], `${kind}.${name} round-trips`);
    }
  }
  t.ok(Object.keys(brokerKeys).length >= 40 && Object.keys(brokerKeys).length <= 70, 'broker table size');
});

t.test('values from a file: trimmed, typed, derived defaults follow', async (t) => {
  const { config: c, warnings } = broker(
    [
      'listenPort = 30911   ',
      'storePathRootDir=/data/rmq',
      'autoCreateTopicEnable = FALSE',
      'slaveReadEnable=True',
      'brokerRole=SYNC_MASTER',
      'flushDiskType=SYNC_FLUSH',
      'deleteWhen=04;16',
      'namesrvAddr=10.0.0.1:9876; 10.0.0.2:9876;',
      'brokerIP1 = broker-1.example.com',
    ].join('\n'),
  );
  t.same(warnings, []);
  t.equal(c.listenPort, 30911);
  t.equal(c.haListenPort, 30912);
  t.equal(c.storePathCommitLog, '/data/rmq/commitlog');
  t.equal(c.autoCreateTopicEnable, false);
  t.equal(c.slaveReadEnable, true);
  t.equal(c.brokerRole, 'SYNC_MASTER');
  t.equal(c.flushDiskType, 'SYNC_FLUSH');
  t.equal(c.deleteWhen, '04;16');
  t.same(c.namesrvAddr, [
    { host: '10.0.0.1', port: 9876 },
    { host: '10.0.0.2', port: 9876 },
  ]);
  t.equal(c.brokerIP1, 'broker-1.example.com');
  const explicit = broker('listenPort=30911\nhaListenPort=40000\nstorePathCommitLog=/fast/cl\n').config;
  t.equal(explicit.haListenPort, 40000, 'an explicit haListenPort wins');
  t.equal(explicit.storePathCommitLog, '/fast/cl');
});

t.test('bad values name file, line, key, value and what was expected', async (t) => {
  const file = conf('brokerName=b\n\n# port\nlistenPort = abc\n');
  const e = configError(() => loadBrokerConfig({ file, env: {}, host }));
  t.equal(e.message, `${file}:4: listenPort = "abc": expected an integer port 1..65535`);
  t.equal(e.file, file);
  t.equal(e.line, 4);
  t.equal(e.key, 'listenPort');
  t.equal(e.value, 'abc');
  t.equal(e.expected, 'expected an integer port 1..65535');
  t.equal(e.name, 'ConfigError');

  const msg = (text: string): string => {
    const f = conf(text);
    return configError(() => loadBrokerConfig({ file: f, env: {}, host })).message.slice(f.length);
  };
  t.equal(msg('listenPort=70000'), ':1: listenPort = "70000": expected an integer port 1..65535');
  t.equal(msg('listenPort=0'), ':1: listenPort = "0": expected an integer port 1..65535');
  t.equal(msg('listenPort=1.5'), ':1: listenPort = "1.5": expected an integer port 1..65535');
  t.equal(msg('fileReservedTime=0x10'), ':1: fileReservedTime = "0x10": expected an integer 1..2147483647');
  t.equal(msg('mappedFileSizeCommitLog=4294967296'), ':1: mappedFileSizeCommitLog = "4294967296": expected an integer 1..2147483647');
  t.equal(msg('commitLogCacheWindow=-1'), ':1: commitLogCacheWindow = "-1": expected a number of bytes, 0 or more');
  t.equal(msg('commitLogCacheWindow=1g'), ':1: commitLogCacheWindow = "1g": expected a number of bytes, 0 or more');
  t.equal(msg('brokerPermission=8'), ':1: brokerPermission = "8": expected an integer 0..7');
  t.equal(msg('autoCreateTopicEnable=yes'), ':1: autoCreateTopicEnable = "yes": expected true or false');
  t.equal(msg('autoCreateTopicEnable='), ':1: autoCreateTopicEnable = "": expected true or false');
  t.equal(msg('brokerRole=MASTER'), ':1: brokerRole = "MASTER": expected one of ASYNC_MASTER, SYNC_MASTER, SLAVE');
  t.equal(msg('flushDiskType=async_flush'), ':1: flushDiskType = "async_flush": expected one of ASYNC_FLUSH, SYNC_FLUSH');
  t.equal(msg('metricsExporterType=OTLP_GRPC'), ':1: metricsExporterType = "OTLP_GRPC": expected one of DISABLE, PROM');
  t.equal(msg('deleteWhen=4am'), ':1: deleteWhen = "4am": expected hours 0..23 separated by \';\', e.g. "04" or "04;16"');
  t.equal(msg('deleteWhen=24'), ':1: deleteWhen = "24": expected hours 0..23 separated by \';\', e.g. "04" or "04;16"');
  t.equal(
    msg('messageDelayLevel=1s 5x'),
    ':1: messageDelayLevel = "1s 5x": expected delays like "1s 5s 10m 2h" (a number and s, m, h or d, separated by single spaces)',
  );
  t.equal(msg('brokerName ='), ':1: brokerName = "": expected a non-empty string');
  t.equal(msg('brokerIP1=999.1.1.1'), ':1: brokerIP1 = "999.1.1.1": expected an IP address or host name');
  t.equal(
    msg('namesrvAddr=127.0.0.1'),
    `:1: namesrvAddr = "127.0.0.1": expected a ';'-separated list of host:port (port 1..65535), e.g. "127.0.0.1:9876;192.168.0.1:9876" ("127.0.0.1" is not host:port)`,
  );
  t.equal(
    msg('namesrvAddr=127.0.0.1:9876;127.0.0.1:99999'),
    `:1: namesrvAddr = "127.0.0.1:9876;127.0.0.1:99999": expected a ';'-separated list of host:port (port 1..65535), e.g. "127.0.0.1:9876;192.168.0.1:9876" ("127.0.0.1:99999" is not host:port)`,
  );
  t.equal(msg('a=1\nb=\\u12x4'), ':2: malformed \\uXXXX escape "\\u12x4": expected 4 hex digits');
});

t.test('dLegerPeers and dLegerSelfId', async (t) => {
  const dledger = (extra: string): string =>
    `enableDLegerCommitLog=true\ndLegerGroup=RaftNode00\n${extra}`;
  const peersExpected = `expected a ';'-separated list of id-host:port with ids n<digits>, e.g. "n0-127.0.0.1:40911;n1-127.0.0.1:40912"`;
  const msg = (text: string): string => {
    const f = conf(text);
    return configError(() => loadBrokerConfig({ file: f, env: {}, host })).message.slice(f.length);
  };

  const ok = broker(dledger(`dLegerPeers=${PEERS}\ndLegerSelfId=n1\npreferredLeaderId=n0\n`)).config;
  t.same(ok.dLegerPeers, [
    { id: 'n0', host: '127.0.0.1', port: 40911 },
    { id: 'n1', host: '127.0.0.1', port: 40912 },
    { id: 'n2', host: '127.0.0.1', port: 40913 },
  ]);
  t.equal(ok.dLegerSelfId, 'n1');
  t.same(broker(dledger('dLegerPeers=n0-node-a.local:40911\ndLegerSelfId=n0')).config.dLegerPeers, [
    { id: 'n0', host: 'node-a.local', port: 40911 },
  ], 'a host name with dashes');

  t.equal(
    msg(dledger('dLegerPeers=n0-127.0.0.1:40911;x1-127.0.0.1:40912\ndLegerSelfId=n0')),
    `:3: dLegerPeers = "n0-127.0.0.1:40911;x1-127.0.0.1:40912": ${peersExpected} ("x1-127.0.0.1:40912" does not start with an id n<digits> and '-')`,
  );
  t.equal(
    msg(dledger('dLegerPeers=n0-127.0.0.1;n1-127.0.0.1:40912\ndLegerSelfId=n0')),
    `:3: dLegerPeers = "n0-127.0.0.1;n1-127.0.0.1:40912": ${peersExpected} ("n0-127.0.0.1" has no valid host:port after the id)`,
  );
  t.equal(
    msg(dledger('dLegerPeers=n0-127.0.0.1:40911;n0-127.0.0.1:40912\ndLegerSelfId=n0')),
    `:3: dLegerPeers = "n0-127.0.0.1:40911;n0-127.0.0.1:40912": ${peersExpected} (n0 appears twice)`,
  );
  t.equal(
    msg(dledger('dLegerPeers=n1-127.0.0.1:40911;n01-127.0.0.1:40912\ndLegerSelfId=n1')),
    `:3: dLegerPeers = "n1-127.0.0.1:40911;n01-127.0.0.1:40912": ${peersExpected} (n1 and n01 are the same node number)`,
  );
  t.equal(
    msg(dledger('dLegerPeers=n0-127.0.0.1:40911;n1-127.0.0.1:40911\ndLegerSelfId=n0')),
    `:3: dLegerPeers = "n0-127.0.0.1:40911;n1-127.0.0.1:40911": ${peersExpected} (n0 and n1 have the same address 127.0.0.1:40911)`,
  );
  t.equal(
    msg(dledger(`dLegerPeers=${PEERS}\ndLegerSelfId=n3`)),
    ':4: dLegerSelfId = "n3": expected one of the ids in dLegerPeers (n0, n1, n2) when enableDLegerCommitLog=true',
  );
  t.equal(
    msg(dledger(`dLegerPeers=${PEERS}\n`)),
    ': dLegerSelfId: expected one of the ids in dLegerPeers (n0, n1, n2) when enableDLegerCommitLog=true (not set)',
  );
  t.equal(msg(dledger(`dLegerPeers=${PEERS}\ndLegerSelfId=node0`)), ':4: dLegerSelfId = "node0": expected a peer id n<digits>, e.g. n0');
  t.equal(
    msg('enableDLegerCommitLog=true\ndLegerSelfId=n0'),
    ': dLegerGroup: expected a Raft group name when enableDLegerCommitLog=true (not set)',
  );
  t.equal(
    msg(dledger('dLegerSelfId=n0')),
    ': dLegerPeers: expected the Raft members, e.g. "n0-127.0.0.1:40911;n1-127.0.0.1:40912" when enableDLegerCommitLog=true (not set)',
  );
  t.equal(
    msg(dledger(`dLegerPeers=${PEERS}\ndLegerSelfId=n0\npreferredLeaderId=n5`)),
    ':5: preferredLeaderId = "n5": expected one of the ids in dLegerPeers (n0, n1, n2)',
  );
  t.equal(msg('minVoteIntervalMs=2000'), ':1: minVoteIntervalMs = "2000": expected at most maxVoteIntervalMs (1000)');
  // Without DLedger the peers are not required, but a bad list is still an error.
  t.same(broker('dLegerSelfId=n7').warnings, []);
});

t.test('roles and broker ids, as RocketMQ settles them', async (t) => {
  const f = conf('brokerRole=SLAVE\nbrokerId=0\n');
  t.equal(
    configError(() => loadBrokerConfig({ file: f, env: {}, host })).message,
    `${f}:2: brokerId = "0": expected > 0 for brokerRole = SLAVE`,
  );
  t.equal(broker('brokerRole=SLAVE\nbrokerId=1').config.brokerId, 1);
  const master = broker('brokerRole=ASYNC_MASTER\nbrokerId=3\n');
  t.equal(master.config.brokerId, 0, 'a master is always broker 0');
  t.match(master.warnings, [/:2: brokerId: set to 0: brokerRole = ASYNC_MASTER is a master$/]);
  const raft = broker(`enableDLegerCommitLog=true\ndLegerGroup=g\ndLegerPeers=${PEERS}\ndLegerSelfId=n2\nbrokerRole=SLAVE\n`);
  t.match(raft.warnings, [/:5: brokerRole: ignored with enableDLegerCommitLog=true: the Raft leader is the master$/]);
  const edge = conf('listenPort=65535');
  t.equal(
    configError(() => loadBrokerConfig({ file: edge, env: {}, host })).message,
    `${edge}: haListenPort = "65536": expected an integer port 1..65535 (the default is listenPort + 1; set haListenPort)`,
  );
  t.equal(broker('listenPort=65535\nhaListenPort=10912').config.haListenPort, 10912);
});

t.test('clamped values warn', async (t) => {
  const low = broker('registerNameServerPeriod=5000\ndiskMaxUsedSpaceRatio=99\n');
  t.equal(low.config.registerNameServerPeriod, 10000);
  t.equal(low.config.diskMaxUsedSpaceRatio, 95);
  t.match(low.warnings, [
    /:1: registerNameServerPeriod = "5000": raised to 10000, the smallest value used$/,
    /:2: diskMaxUsedSpaceRatio = "99": lowered to 95, the largest value used$/,
  ]);
  t.equal(broker('registerNameServerPeriod=90000').config.registerNameServerPeriod, 60000);
});

t.test('unknown keys warn with file and line, and do not stop the load', async (t) => {
  const file = conf('brokerName=b\nfooBar=1\n\ndledgerPeers=n0-127.0.0.1:40911\npullMessageThreadPoolNums=8\n');
  const { config, warnings } = loadBrokerConfig({ file, env: {}, host });
  t.equal(config.brokerName, 'b');
  t.same(warnings, [
    `${file}:2: unknown broker config key "fooBar" is ignored`,
    `${file}:4: unknown broker config key "dledgerPeers" is ignored; did you mean "dLegerPeers"?`,
    `${file}:5: unknown broker config key "pullMessageThreadPoolNums" is ignored`,
  ]);
  t.same(loadNamesrvConfig({ file: conf('brokerName=x'), env: {}, host }).warnings.length, 1, 'broker keys are unknown to namesrv');
});

t.test('missing or unreadable file', async (t) => {
  const missing = path.join(dir, 'nope.conf');
  const e = configError(() => loadBrokerConfig({ file: missing, env: {}, host }));
  t.equal(e.message, `${missing}: cannot read the config file (no such file)`);
  t.equal(e.file, missing);
  t.equal(e.line, undefined);
  t.equal(configError(() => loadNamesrvConfig({ file: dir, env: {}, host })).message, `${dir}: cannot read the config file (it is a directory)`);
});

t.test('precedence: override > file > environment > default', async (t) => {
  const env = { NAMESRV_ADDR: '10.9.9.9:9876', ROCKETMQ_HOME: '/opt/rocketmq' };
  const none = loadBrokerConfig({ env, host }).config;
  t.same(none.namesrvAddr, [{ host: '10.9.9.9', port: 9876 }], 'NAMESRV_ADDR when nothing else sets it');
  t.equal(none.rocketmqHome, '/opt/rocketmq');
  const fromFile = broker('namesrvAddr=10.1.1.1:9876', env).config;
  t.same(fromFile.namesrvAddr, [{ host: '10.1.1.1', port: 9876 }], 'the file beats NAMESRV_ADDR');
  const over = loadBrokerConfig({ file: conf('namesrvAddr=10.1.1.1:9876'), env, host, overrides: { namesrvAddr: '10.2.2.2:9876' } });
  t.same(over.config.namesrvAddr, [{ host: '10.2.2.2', port: 9876 }], 'an override beats the file');
  t.same(loadBrokerConfig({ env: { NAMESRV_ADDR: '  ' }, host }).config.namesrvAddr, [], 'a blank NAMESRV_ADDR is unset');
  t.equal(
    configError(() => loadBrokerConfig({ env: { NAMESRV_ADDR: 'nohost' }, host })).message,
    `environment NAMESRV_ADDR: namesrvAddr = "nohost": expected a ';'-separated list of host:port (port 1..65535), e.g. "127.0.0.1:9876;192.168.0.1:9876" ("nohost" is not host:port)`,
  );
  t.equal(
    configError(() => loadBrokerConfig({ env: {}, host, overrides: { listenPort: 'x' }, overrideSource: 'command line' })).message,
    'command line: listenPort = "x": expected an integer port 1..65535',
  );
});

t.test('a UTF-8 byte order mark is not part of the first key', async (t) => {
  const { config, warnings } = broker('\ufeffbrokerName=bom\n');
  t.same(warnings, []);
  t.equal(config.brokerName, 'bom');
});

t.test('the sample conf files load without warnings', async (t) => {
  const load = (rel: string) => loadBrokerConfig({ file: path.join(projectRoot, rel), env: {}, host });
  const single = load('conf/broker.conf');
  t.same(single.warnings, []);
  t.equal(single.config.brokerClusterName, 'DefaultCluster');
  t.equal(single.config.brokerName, 'broker-a');
  t.equal(single.config.fileReservedTime, 48);
  t.equal(single.config.deleteWhen, '04');
  t.equal(single.config.enableDLegerCommitLog, false);
  for (const i of [0, 1, 2]) {
    const { config: c, warnings } = load(`conf/dledger/broker-n${i}.conf`);
    t.same(warnings, [], `broker-n${i}.conf`);
    t.equal(c.brokerClusterName, 'RaftCluster');
    t.equal(c.brokerName, 'RaftNode00');
    t.equal(c.listenPort, 30911 + 10 * i);
    t.same(c.namesrvAddr, [{ host: '127.0.0.1', port: 9876 }]);
    t.equal(c.storePathRootDir, `/tmp/rmqstore/node0${i}`);
    t.equal(c.storePathCommitLog, `/tmp/rmqstore/node0${i}/commitlog`);
    t.equal(c.enableDLegerCommitLog, true);
    t.equal(c.dLegerGroup, 'RaftNode00');
    t.equal(brokerSchema.keys.dLegerPeers.type.format(c.dLegerPeers), PEERS);
    t.equal(c.dLegerSelfId, `n${i}`);
    t.equal(c.sendMessageThreadPoolNums, 16);
  }
  const ns = loadNamesrvConfig({ file: path.join(projectRoot, 'conf/namesrv.conf'), env: {}, host });
  t.same(ns.warnings, []);
  t.equal(ns.config.listenPort, 9876);
});
