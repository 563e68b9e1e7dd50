// RocketMQ-on-DLedger end to end (issue 6, check 5): the leader is frozen (SIGSTOP) for several
// election timeouts while the others elect a new one, then resumes (SIGCONT). Sends that reached
// it while it was frozen, and sends right after it resumes, are never acknowledged: it steps
// down and refuses sends with SYSTEM_BUSY, so no two masters ever accept writes. The name server
// ends with one master, and the replicas agree.
import t from 'tap';
import { AdminApi, type SendResponse } from '../../client/AdminApi.js';
import * as H from '../../protocol/header/broker.js';
import { serializeProperties } from '../../protocol/message/index.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import { createTopic } from '../helpers/broker.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { eventually, startGroup, type GroupNode } from '../dledger/groupKit.js';
import { BROKER_NAME, addr, expectIdenticalReplicas, sendKeyed, waitRegistered } from './kit.js';

const TOPIC = 'DLedgerPaused';
const QUEUES = 4;

const send = (admin: AdminApi, to: GroupNode, key: string, queueId: number): Promise<SendResponse> => sendKeyed(admin, to, TOPIC, key, queueId);

/** "SEND_OK" or the failure, as text */
const outcome = (p: Promise<SendResponse>): Promise<string> =>
  p.then(
    (r) => r.sendStatus,
    (e: Error) => e.message.slice(0, 100),
  );

t.test('a frozen leader resumes as a follower and refuses sends; never two masters', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const namesrvAddr = `127.0.0.1:${ns.port}`;
  const g = await startGroup(t, namesrvAddr);
  const admin = g.admin;
  const old = await g.master(60_000);
  await waitRegistered(g, old);
  await createTopic(addr(old), namesrvAddr, TOPIC, QUEUES);
  for (let i = 0; i < 20; i++) t.equal((await send(admin, old, `before-${i}`, i % QUEUES)).sendStatus, 'SEND_OK');

  // a separate connection to the leader, opened before it freezes; long timeouts
  const toOld = new AdminApi(namesrvAddr, 20_000);
  t.teardown(() => toOld.close());
  t.equal((await send(toOld, old, 'warm', 0)).sendStatus, 'SEND_OK', 'the leader takes a send on the connection kept for later');

  const pid = old.proc!.child.pid!;
  const stoppedAt = Date.now();
  process.kill(pid, 'SIGSTOP');
  let resumed = false;
  t.teardown(() => {
    if (!resumed) process.kill(pid, 'SIGCONT');
  });
  // sends that reach the frozen leader: queued in its socket until it resumes
  const frozenSends = Array.from({ length: 4 }, (_, i) => outcome(send(toOld, old, `frozen-${i}`, i % QUEUES)));

  const next = await g.master(60_000, old.id);
  t.comment(`new master ${next.id} routed ${Date.now() - stoppedAt} ms after SIGSTOP`);
  // from here on, watch the name server: the old leader must never be routed as master again
  const seenMasters: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const m = await admin.getClusterInfo().then(
        (i) => i.brokerAddrTable.get(BROKER_NAME)?.brokerAddrs.get(0) ?? 'none',
        () => 'error',
      );
      if (seenMasters.at(-1) !== m) seenMasters.push(m);
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  let r: SendResponse | undefined;
  await eventually('the new master takes sends', async () => (r = await send(admin, next, 'next-0', 0)).sendStatus === 'SEND_OK', 30_000);
  // frozen for several election timeouts (default at most 1 s each) in all
  const frozenFor = 4000 - (Date.now() - stoppedAt);
  if (frozenFor > 0) await new Promise((res) => setTimeout(res, frozenFor));
  for (let i = 1; i < 10; i++) t.equal((await send(admin, next, `next-${i}`, i % QUEUES)).sendStatus, 'SEND_OK');

  process.kill(pid, 'SIGCONT');
  resumed = true;
  const resumedAt = Date.now();
  // sends right after it resumes, on a new connection as well as the kept one
  const rightAfter = [
    ...Array.from({ length: 4 }, (_, i) => outcome(send(toOld, old, `resumed-${i}`, i % QUEUES))),
    ...Array.from({ length: 4 }, (_, i) => outcome(send(admin, old, `resumed-new-${i}`, i % QUEUES))),
  ];
  const frozen = await Promise.all(frozenSends);
  const after = await Promise.all(rightAfter);
  t.comment(`sends queued while frozen: ${frozen.join(' | ')}`);
  t.comment(`sends right after SIGCONT: ${after.join(' | ')}`);
  t.ok(frozen.every((o) => o !== 'SEND_OK'), 'no send queued at the frozen leader is acknowledged');
  t.ok(after.every((o) => o !== 'SEND_OK'), 'no send right after it resumes is acknowledged');

  // it steps down: a follower's answer, SYSTEM_BUSY, and a follower's broker id at the name server
  let refused = -1;
  await eventually(
    'the old leader refuses sends with SYSTEM_BUSY',
    async () => {
      const res = await admin.invokeBroker(
        addr(old),
        RequestCode.SEND_MESSAGE_V2,
        H.SendMessageRequestHeaderV2.encode({ a: 'PausedPG', b: TOPIC, c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0, i: serializeProperties([['KEYS', 'refused']]) }),
        Buffer.from('to the old leader'),
      );
      refused = res.code;
      return res.code === ResponseCode.SYSTEM_BUSY;
    },
    30_000,
  );
  t.equal(refused, ResponseCode.SYSTEM_BUSY, `the old leader refuses sends with SYSTEM_BUSY (${Date.now() - resumedAt} ms after SIGCONT)`);
  await waitRegistered(g, next);
  t.comment(`the name server lists the old leader at n + 1 ${Date.now() - resumedAt} ms after SIGCONT`);
  watching = false;
  await watcher;
  t.same(seenMasters, [addr(next)], `from the election on, the name server routed only the new master as broker id 0 (saw ${seenMasters.join(' -> ')})`);
  const ids = (await admin.getClusterInfo()).brokerAddrTable.get(BROKER_NAME)?.brokerAddrs;
  t.same([...ids!.entries()].sort((x, y) => x[0] - y[0]), g.nodes.map((n) => [n === next ? 0 : Number(n.id.slice(1)) + 1, addr(n)] as [number, string]).sort((x, y) => x[0] - y[0]), 'one master at the name server, the old leader at n + 1');

  const view = await expectIdenticalReplicas(t, admin, g.nodes, TOPIC, QUEUES, 30); // before-0..19 and next-0..9
  const stored = new Set(view.flat().map((l) => l.split(' ')[2]!));
  t.ok([...Array(20).keys()].every((i) => stored.has(`before-${i}`)) && [...Array(10).keys()].every((i) => stored.has(`next-${i}`)), 'every acknowledged send is stored');
  const unacked = [...stored].filter((k) => k.startsWith('frozen-') || k.startsWith('resumed-') || k === 'refused');
  t.same(unacked, [], 'nothing the frozen leader took in after it lost its term is stored');
});
