// Leadership transfer in a DLedger group: on demand with mqadmin transferLeadership, and by
// preferredLeaderId (the group hands leadership to the preferred member once it is caught up).
import t from 'tap';
import * as H from '../../protocol/header/broker.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { runBin } from '../helpers/processes.js';
import { startGroup } from './groupKit.js';

t.test('mqadmin transferLeadership moves the master to the named member', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const nsAddr = `127.0.0.1:${ns.port}`;
  const g = await startGroup(t, nsAddr);
  const before = await g.master();
  const target = g.nodes.find((n) => n !== before)!;
  const r = await runBin('mqadmin', ['transferLeadership', '-n', nsAddr, '-b', 'RaftNode00', '-t', target.id], { NODE_OPTIONS: '' }, 30_000);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`to ${target.id}: OK`));
  const after = await g.master(30_000, before.id);
  t.equal(after.id, target.id, 'the name server routes the new master');

  const refused = await runBin('mqadmin', ['transferLeadership', '-n', nsAddr, '-b', 'RaftNode00', '-t', 'n7'], { NODE_OPTIONS: '' }, 30_000);
  t.not(refused.code, 0, 'an unknown member is refused');
  t.match(refused.stderr, /UNKNOWN_PEER/);
});

t.test('offsets committed just before a transfer are on the new master', async (t) => {
  // The offsets reach the log every 100 ms; a transfer pauses the leader's writes at once and it
  // is a follower by the next flush. The old master must write what it holds before handing over.
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const g = await startGroup(t, `127.0.0.1:${ns.port}`);
  const before = await g.master();
  const target = g.nodes.find((n) => n !== before)!;
  const addr = `127.0.0.1:${before.port}`;
  await g.admin.createTopic(addr, { topicName: 'OffsetsT', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false });
  for (let q = 0; q < 4; q++) {
    const r = await g.admin.invokeBroker(addr, RequestCode.UPDATE_CONSUMER_OFFSET, H.UpdateConsumerOffsetRequestHeader.encode({ consumerGroup: 'OffsetsG', topic: 'OffsetsT', queueId: q, commitOffset: 40 + q }));
    t.equal(r.code, ResponseCode.SUCCESS);
  }
  const moved = await g.admin.invokeBroker(addr, RequestCode.RAFTMQ_TRANSFER_LEADERSHIP, { targetId: target.id }, undefined, 30_000);
  t.equal(moved.code, ResponseCode.SUCCESS, moved.remark ?? '');
  const after = await g.master(30_000, before.id);
  t.equal(after.id, target.id);
  for (let q = 0; q < 4; q++) {
    const r = await g.admin.invokeBroker(`127.0.0.1:${after.port}`, RequestCode.QUERY_CONSUMER_OFFSET, H.QueryConsumerOffsetRequestHeader.encode({ consumerGroup: 'OffsetsG', topic: 'OffsetsT', queueId: q }));
    t.equal(r.code, ResponseCode.SUCCESS, `queue ${q}: ${r.remark ?? ''}`);
    t.equal(H.QueryConsumerOffsetResponseHeader.decode(r.extFields).offset, 40 + q, `queue ${q}: the offset committed before the transfer`);
  }
});

t.test('preferredLeaderId: the group ends up led by the preferred member', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const g = await startGroup(t, `127.0.0.1:${ns.port}`, { preferredLeaderId: 'n2' });
  const deadline = Date.now() + 30_000;
  let master = await g.master();
  while (master.id !== 'n2' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    master = await g.master();
  }
  t.equal(master.id, 'n2');
});
