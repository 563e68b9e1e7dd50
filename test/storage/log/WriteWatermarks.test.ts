import t from 'tap';
import { WriteWatermarks } from '../../../storage/log/WriteWatermarks.js';
import { ScriptedWriter } from './logTestKit.js';

for (const counting of ['highest', 'latest'] as const) {
  t.test(`positions follow the writer (${counting} counting)`, async (t) => {
    const w = new ScriptedWriter(counting);
    const freed: number[] = [];
    const m = new WriteWatermarks(w, 100, (p) => freed.push(p));
    t.equal(m.written, 100, 'recovered bytes count as written and durable');
    await m.whenDurable(100);
    const order: string[] = [];
    w.submit({ ops: [], endPosition: 200, sync: false });
    m.track(200);
    w.submit({ ops: [], endPosition: 300, sync: true });
    m.track(300);
    const a = m.whenWritten(200).then(() => order.push('w200'));
    const b = m.whenDurable(300).then(() => order.push('d300'));
    const c = m.whenWritten(300).then(() => order.push('w300'));
    w.complete(1);
    await a;
    t.same([m.written, m.durable], [200, 100]);
    w.complete(1);
    await Promise.all([b, c]);
    t.same([m.written, m.durable], [300, 300]);
    t.same(order, ['w200', 'w300', 'd300']);
    t.same(freed, [200, 300]);
  });

  t.test(`after a suffix truncation, old high-water marks do not confirm new bytes (${counting})`, async (t) => {
    const w = new ScriptedWriter(counting);
    const m = new WriteWatermarks(w, 0, () => undefined);
    w.submit({ ops: [], endPosition: 1000, sync: true });
    m.track(1000);
    const lost = m.whenWritten(1000);
    // the log cut back to 400; the writer has settled everything before
    await w.flush();
    m.truncated(400);
    await t.resolves(lost, 'a waiter at or below the old end settles with the flush');
    const beyond = m.whenWritten(1200);
    t.same([m.written, m.durable], [400, 400]);
    // a new group ending below the old high-water mark: a "written 1000" report must not count for it
    w.submit({ ops: [], endPosition: 600, sync: false });
    const flushesBefore = w.flushes;
    m.track(600);
    t.equal(w.flushes, flushesBefore + 1, 'confirmed by a flush instead');
    await m.whenDurable(600);
    t.same([m.written, m.durable], [600, 600]);
    // beyond the old mark, progress numbers count again
    w.submit({ ops: [], endPosition: 1200, sync: false });
    m.track(1200);
    t.equal(w.flushes, flushesBefore + 1, 'no flush needed past the old mark');
    w.complete(1);
    await beyond;
    t.equal(m.written, 1200);
  });
}

t.test('waiters beyond a truncation are rejected; close settles the rest', async (t) => {
  const w = new ScriptedWriter('latest');
  const m = new WriteWatermarks(w, 0, () => undefined);
  w.submit({ ops: [], endPosition: 500, sync: false });
  m.track(500);
  const gone = m.whenDurable(500);
  m.abandon(300); // the log starts cutting back
  await w.flush();
  m.truncated(300);
  await t.rejects(gone, /truncated to position 300 before position 500/);
  w.submit({ ops: [], endPosition: 700, sync: false });
  m.track(700);
  const closing = m.whenDurable(700);
  m.finish(700);
  await t.resolves(closing);
});
