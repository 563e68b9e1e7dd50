// Three standalone nodes as real processes over TCP on loopback, default timers: kill -9 the
// leader and a new one commits. Generous limits; the speed is measured in bench/raft.
import t from 'tap';
import { ControlClient } from '../../../raft/node/ControlClient.js';
import { freePort, tempDir } from '../../helpers/processes.js';
import { nextLeader, startNodeProcess } from './helpers.js';

t.test('kill -9 the leader of three processes: a new leader commits proposals', { timeout: 60_000 }, async (t) => {
  const root = tempDir(t, 'raftmq-proc-');
  const ids = ['n0', 'n1', 'n2'];
  const peers = (await Promise.all(ids.map(async (id) => `${id}-127.0.0.1:${await freePort()}`))).join(';');
  const nodes = await Promise.all(ids.map((id) => startNodeProcess(t, ['--dLegerGroup', 'procTest', '--dLegerPeers', peers, '--dLegerSelfId', id, '--storePathRootDir', `${root}/${id}`])));

  const first = await nextLeader(nodes, 0);
  const c1 = await ControlClient.connect(first.node.controlPort);
  t.teardown(() => c1.close());
  const ok1 = await c1.propose(10, 1024);
  t.equal(ok1[0], 'ok', `the first leader ${first.node.id} commits (${ok1.join(' ')})`);
  const lastBefore = Number(ok1[3]);

  // a follower names the leader
  const follower = nodes.find((n) => n !== first.node)!;
  const cf = await ControlClient.connect(follower.controlPort);
  t.teardown(() => cf.close());
  const refused = await cf.propose(1, 16);
  t.same(refused.slice(0, 3), ['err', refused[1], 'NOT_LEADER']);

  first.node.child.kill('SIGKILL');
  await first.node.exited;
  const rest = nodes.filter((n) => n !== first.node);
  const second = await nextLeader(rest, first.term);
  t.not(second.node.id, first.node.id, `${second.node.id} leads term ${second.term}`);

  const c2 = await ControlClient.connect(second.node.controlPort);
  t.teardown(() => c2.close());
  let ok2 = await c2.propose(10, 1024);
  // the new leader may lose its term to the other survivor right after winning; ask whoever leads then
  for (let i = 0; ok2[0] !== 'ok' && i < 5; i++) {
    const again = await nextLeader(rest, second.term);
    const c = await ControlClient.connect(again.node.controlPort);
    t.teardown(() => c.close());
    ok2 = await c.propose(10, 1024);
  }
  t.equal(ok2[0], 'ok', `the new leader commits (${ok2.join(' ')})`);
  t.ok(Number(ok2[2]) > lastBefore, 'after everything the old leader committed');

  // the surviving follower holds the new entries too
  const other = rest.find((n) => n !== second.node)!;
  const co = await ControlClient.connect(other.controlPort);
  t.teardown(() => co.close());
  const applied = await co.waitApplied(Number(ok2[3]));
  t.ok(Number(applied[2]) >= Number(ok2[3]), `the follower applied up to ${ok2[3]} (${applied.join(' ')})`);
});
