// Consumer offsets gather in memory and go to the log in batches: many commits make one
// entry, stop() writes what is left, and a refused write keeps the commits for the next try.
import t from 'tap';
import { ConsumerOffsetManager } from '../../../server/broker/ConsumerOffsetManager.js';
import { FakeCommitLog } from './fakeCommitLog.js';

/** the offsets the log holds, as "topic@group/queueId" -> offset, applied in order */
function written(log: FakeCommitLog): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of log.applied) {
    if (m.kind === 'consumerOffsets') for (const o of m.offsets) out.set(`${m.topic}@${m.group}/${o.queueId}`, o.offset);
  }
  return out;
}

function manager(log: FakeCommitLog, opts: { maxDirtyQueues?: number; maxTopicGroups?: number } = {}): ConsumerOffsetManager {
  // an interval that never fires during a test: flushes happen when the test calls them
  return new ConsumerOffsetManager(log.asCommitLog, { flushIntervalMs: 1e9, log: () => undefined, ...opts });
}

t.test('many commits within one interval become one log entry with the latest values', async (t) => {
  const log = new FakeCommitLog();
  const m = manager(log);
  await m.load();
  for (let round = 0; round < 50; round++) {
    for (let q = 0; q < 4; q++) m.commit('G', 'T', q, round * 10 + q);
  }
  m.commit('G2', 'T', 0, 7);
  m.commit('G', 'U', 3, 9);
  t.equal(log.appends.length, 0, 'nothing written before the flush');
  t.equal(m.query('G', 'T', 2), 492, 'answered from memory at once');
  await m.flush();
  t.equal(log.appends.length, 1, 'one append');
  t.equal(log.appends[0]!.length, 1, 'holding one record');
  t.same(
    written(log),
    new Map([
      ['T@G/0', 490],
      ['T@G/1', 491],
      ['T@G/2', 492],
      ['T@G/3', 493],
      ['T@G2/0', 7],
      ['U@G/3', 9],
    ]),
    'the last offset of every queue',
  );
  await m.flush();
  t.equal(log.appends.length, 1, 'nothing dirty: no second append');
  m.commit('G', 'T', 0, 490);
  await m.flush();
  t.equal(log.appends.length, 1, 'committing the offset it already has is not a change');
  await m.stop();
});

t.test('stop writes what was committed since the last flush', async (t) => {
  const log = new FakeCommitLog();
  const m = manager(log);
  await m.load();
  m.commit('G', 'T', 1, 11);
  m.commit('G', 'T', 2, 12);
  await m.stop();
  t.equal(log.appends.length, 1);
  t.same(written(log), new Map([['T@G/1', 11], ['T@G/2', 12]]));
});

t.test('a refused write puts the commits back; newer commits of the same queue win', async (t) => {
  const log = new FakeCommitLog();
  const lines: string[] = [];
  const m = new ConsumerOffsetManager(log.asCommitLog, { flushIntervalMs: 1e9, log: (l) => lines.push(l) });
  await m.load();
  m.commit('G', 'T', 0, 5);
  m.commit('G', 'T', 1, 6);
  log.failNext = 1;
  await m.flush();
  t.equal(log.appends.length, 0, 'the append was refused');
  t.match(lines.join('\n'), /consumer offsets not written, retrying: the disk said no/);
  m.commit('G', 'T', 0, 8);
  await m.flush();
  t.equal(log.appends.length, 1, 'the retry wrote');
  t.same(written(log), new Map([['T@G/0', 8], ['T@G/1', 6]]), 'both queues, the newer offset for queue 0');
  await m.stop();
  t.equal(log.appends.length, 1, 'nothing left for stop');
});

t.test('dirty queues past maxDirtyQueues flush at once', async (t) => {
  const log = new FakeCommitLog();
  const m = manager(log, { maxDirtyQueues: 3 });
  await m.load();
  m.commit('G', 'T', 0, 1);
  m.commit('G', 'T', 1, 1);
  t.equal(log.appends.length, 0);
  m.commit('G', 'T', 2, 1);
  await m.flush();
  t.equal(log.appends.length, 1, 'the third dirty queue started the flush');
  t.equal(written(log).size, 3);
  await m.stop();
});

t.test('load reads the stored offsets; the group/topic table is bounded', async (t) => {
  const log = new FakeCommitLog();
  log.stored.offsets = [
    { group: 'G', topic: 'T', queueId: 0, offset: 100 },
    { group: 'G', topic: 'U', queueId: 3, offset: 7 },
  ];
  const m = manager(log, { maxTopicGroups: 2 });
  await m.load();
  t.equal(m.query('G', 'T', 0), 100);
  t.equal(m.query('G', 'U', 3), 7);
  t.equal(m.query('G', 'T', 1), undefined, 'unknown queue');
  t.same(m.topicsOfGroup('G').sort(), ['T', 'U']);
  t.same(m.groupsOfTopic('T'), ['G']);
  t.notOk(m.commit('H', 'T', 0, 1), 'a new pair past maxTopicGroups is refused');
  t.ok(m.commit('G', 'T', 1, 1), 'a known pair still commits');
  await m.delete('G', 'U');
  t.equal(m.query('G', 'U', 3), undefined, 'deleted');
  t.same(log.applied.at(-1), { index: 1, pos: 100, kind: 'deleteConsumerOffsets', group: 'G', topic: 'U' }, 'through a delete entry in the log');
  await m.stop();
});

t.test('on a node that does not take writes, applied entries update the table', async (t) => {
  const leader = new FakeCommitLog();
  const follower = new FakeCommitLog();
  follower.isWritable = false;
  const m = manager(follower);
  await m.load();
  const lm = manager(leader);
  await lm.load();
  lm.commit('G', 'T', 4, 44);
  await lm.flush();
  // replay the leader's records on the follower
  await follower.append(leader.appends[0]!);
  t.equal(m.query('G', 'T', 4), 44, 'the follower learned the offset from the entry');
  await m.stop();
  await lm.stop();
});
