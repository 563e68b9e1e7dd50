// bench/consumer against an in-process broker: with pulls asked ahead (--pipeline) every
// message of a backlog is counted exactly once, answers that start elsewhere are dropped, and
// --drain stops at the backlog's end; --repeat reads it again until the duration is over.
import t from 'tap';
import { parseConsumerArgs, runConsumer } from '../../bench/consumer.js';
import { parseProducerArgs, runProducer } from '../../bench/producer.js';
import { queueReaches, startWireBroker } from '../server/broker/wire.js';

t.test('a drained backlog counts each message once, however many pulls are in flight', async (t) => {
  const wb = await startWireBroker(t);
  const ns = `127.0.0.1:${wb.namesrv.port}`;
  // batches of 10 over 3 queues: each queue ends on a short pull, which drops what was asked ahead
  const sent = await runProducer(parseProducerArgs(['-n', ns, '-t', 'PipeTopic', '--create', '3', '--cluster', 'DefaultCluster', '-s', '64', '-w', '4', '-b', '10', '--count', '770', '--duration', '60', '-q']));
  t.equal(sent.sent, 770);
  t.ok(sent.cpuMicros > 0, 'the producer reports its CPU time (bench/suite reads it)');
  for (const pipeline of ['1', '4']) {
    const s = await runConsumer(parseConsumerArgs(['-n', ns, '-t', 'PipeTopic', '-g', `G${pipeline}`, '--duration', '2', '--pipeline', pipeline, '-q']));
    t.equal(s.received, 770, `--pipeline ${pipeline}: every message once`);
    t.same(s.errors, {}, `--pipeline ${pipeline}: no errors`);
    if (pipeline === '4') t.ok(s.dropped > 0, `answers asked ahead of a short batch were dropped (${s.dropped})`);
  }
  const drained = await runConsumer(parseConsumerArgs(['-n', ns, '-t', 'PipeTopic', '-g', 'GD', '--duration', '60', '--drain', '-q']));
  t.equal(drained.received, 770, '--drain reads the backlog');
  t.ok(drained.seconds < 30, `and stops there (${drained.seconds.toFixed(1)} s of the 60 allowed)`);
  t.equal(drained.passes, 3, 'one pass per queue');

  const repeated = await runConsumer(parseConsumerArgs(['-n', ns, '-t', 'PipeTopic', '-g', 'GR', '--duration', '2', '--drain', '--repeat', '-q']));
  t.ok(repeated.seconds >= 2, `--repeat runs the whole duration (${repeated.seconds.toFixed(1)} s)`);
  t.ok(repeated.passes > 3, `reading each queue again from its start (${repeated.passes} passes over 3 queues)`);
  t.ok(repeated.received > 770, `more messages than the backlog holds (${repeated.received})`);
  t.same(repeated.errors, {}, 'no errors');
  t.ok(repeated.cpuMicros > 0, 'the consumer reports its CPU time');
  t.throws(() => parseConsumerArgs(['-n', ns, '--repeat']), /--repeat needs --drain/, '--repeat without --drain is refused');
  t.equal(parseProducerArgs(['-n', ns]).uniqKey, true, 'the producer gives every message a UNIQ_KEY, as RocketMQ\'s clients do');
  t.equal(parseProducerArgs(['-n', ns, '--no-uniq-key']).uniqKey, false, 'or leaves it to the broker');
  t.throws(() => parseConsumerArgs(['-n', ns, '--drain', '--repeat', '--from', 'last']), /--from first/, 'and from the last offset');
});

t.test('--warmup sends first and leaves those sends out of the figures', async (t) => {
  const wb = await startWireBroker(t);
  const ns = `127.0.0.1:${wb.namesrv.port}`;
  const s = await runProducer(parseProducerArgs(['-n', ns, '-t', 'WarmTopic', '--create', '1', '--cluster', 'DefaultCluster', '-s', '64', '-w', '4', '--rate', '300', '--warmup', '1', '--duration', '1', '-q']));
  t.equal(s.warmupSeconds, 1);
  t.ok(s.warmupSent > 0, `the warm-up sent (${s.warmupSent})`);
  t.ok(s.sent > 0, `the measured second sent (${s.sent})`);
  t.ok(s.seconds < 1.9, `the figures cover the measured part only (${s.seconds.toFixed(2)} s)`);
  t.ok(s.sent <= 300 * s.seconds + 4 + 8, `at the rate (${s.sent} in ${s.seconds.toFixed(2)} s)`);
  t.equal(s.perSecond.length, 1, 'one per-second rate: the warm-up\'s is not among them');
  // every message is in one of the two counts
  await queueReaches(wb.broker, 'WarmTopic', 0, s.sent + s.warmupSent);
  t.equal(wb.broker.commitLog.maxOffset('WarmTopic', 0), s.sent + s.warmupSent, 'sent + warmupSent is what the broker stored');
  t.throws(() => parseProducerArgs(['-n', ns, '--warmup', '-1']), /--warmup/, 'a negative warm-up is refused');
});
