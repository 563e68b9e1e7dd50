import { execFileSync } from 'node:child_process';
import t from 'tap';
import { RetentionService, diskUsageRatio, type SegmentSource, type TimerApi } from '../../../storage/retention/DiskSpace.js';
import { hourOfDayAtOffset, type RetainFloor, type RetentionSegment } from '../../../storage/retention/RetentionPolicy.js';
import { tempDir } from '../../helpers/processes.js';

const HOUR = 3_600_000;
const SIZE = 1000;
/** 04:30 UTC */
const AT_0430 = Date.UTC(2026, 0, 10, 4, 30);
const UTC = hourOfDayAtOffset(0);

/** A log's segment list in memory; records what was deleted and can fail on request. */
class FakeSource implements SegmentSource {
  segments: RetentionSegment[];
  floors: RetainFloor[] = [];
  deleted: string[] = [];
  failOn: string | undefined;
  listCalls = 0;

  constructor(now: number, ages: number[]) {
    this.segments = ages.map((age, i) => ({
      name: String(i * SIZE).padStart(20, '0'),
      start: i * SIZE,
      end: (i + 1) * SIZE,
      lastModifiedMs: now - age * HOUR,
    }));
  }

  async listSegments(): Promise<readonly RetentionSegment[]> {
    this.listCalls++;
    return [...this.segments];
  }

  async deleteSegment(segment: RetentionSegment): Promise<void> {
    if (segment.name === this.failOn) throw new Error(`EBUSY: ${segment.name} is open`);
    this.deleted.push(segment.name);
    this.segments = this.segments.filter((s) => s !== segment);
  }

  async retainFloors(): Promise<readonly RetainFloor[]> {
    return this.floors;
  }
}

function service(source: FakeSource, usage: { value: number | Error }, lines: string[], extra: Partial<ConstructorParameters<typeof RetentionService>[0]> = {}) {
  return new RetentionService({
    source,
    storePath: '/store',
    fileReservedTime: 72,
    deleteWhen: '04',
    hourOfDay: UTC,
    now: () => AT_0430,
    diskUsage: async () => {
      if (usage.value instanceof Error) throw usage.value;
      return usage.value;
    },
    log: (line) => lines.push(line),
    ...extra,
  });
}

t.test('diskUsageRatio reads the filesystem of a path', async (t) => {
  const dir = tempDir(t);
  const ratio = await diskUsageRatio(dir);
  t.ok(ratio >= 0 && ratio <= 1, `ratio ${ratio}`);
  // df's Use% is the same figure, rounded up to a whole percent.
  const df = execFileSync('df', ['-P', dir], { encoding: 'utf8' }).trim().split('\n')[1] ?? '';
  const percent = Number(/(\d+)%/.exec(df)?.[1]);
  if (Number.isFinite(percent)) t.ok(Math.abs(percent - ratio * 100) <= 1.5, `df says ${percent}%, we say ${(ratio * 100).toFixed(2)}%`);
  await t.rejects(diskUsageRatio(`${dir}/missing/folder`), { code: 'ENOENT' });
});

t.test('runOnce deletes what the policy allows and logs one line per segment', async (t) => {
  const source = new FakeSource(AT_0430, [100, 90, 10, 1]);
  const lines: string[] = [];
  const svc = service(source, { value: 0.5 }, lines);
  const result = await svc.runOnce();
  t.same(source.deleted, ['00000000000000000000', '00000000000000001000']);
  t.same(
    result.deleted.map((d) => d.segment.name),
    source.deleted,
  );
  t.equal(lines.length, 2);
  t.match(lines[0], /^deleted log segment 00000000000000000000 \[0, 1000\): expired \(last modified 100\.0 h ago, fileReservedTime 72 h; deleteWhen hour 04\)$/);
  t.match(lines[1], /^deleted log segment 00000000000000001000 \[1000, 2000\)/);
  t.match(result.held, { segment: { start: 2000 }, reason: /not expired/ });
  t.equal(result.diskUsageRatio, 0.5);
  t.same(svc.guard, { writable: true });
  t.equal(result.error, undefined);

  // Next pass: nothing more is due.
  const again = await svc.runOnce();
  t.same(again.deleted, []);
  t.equal(lines.length, 2, 'a quiet pass logs nothing');
});

t.test('runOnce uses the now it is given (the hour gate moves with it)', async (t) => {
  const source = new FakeSource(AT_0430, [100, 1]);
  const svc = service(source, { value: 0.5 }, []);
  t.same((await svc.runOnce(AT_0430 + 2 * HOUR)).deleted, [], '06:30');
  t.same(source.deleted, []);
  t.equal((await svc.runOnce(AT_0430 + 24 * HOUR)).deleted.length, 1, '04:30 the next day');
});

t.test('floors from the source hold segments back, and the holder is named when space is short', async (t) => {
  const source = new FakeSource(AT_0430, [500, 500, 500, 500]);
  source.floors = [
    { position: 2500, holder: 'the index checkpoint' },
    { position: 1200, holder: 'follower n1' },
  ];
  const lines: string[] = [];
  const svc = service(source, { value: 0.87 }, lines);
  const result = await svc.runOnce();
  t.same(source.deleted, ['00000000000000000000']);
  t.match(result.held?.reason, 'it holds position 1200, still needed by follower n1');
  t.equal(lines.length, 2);
  t.match(lines[1], /disk use of \/store is above 75%, but segment 00000000000000001000 stays: it holds position 1200, still needed by follower n1/);
  await svc.runOnce();
  t.equal(lines.length, 2, 'the same problem is not logged again');
  source.floors = [{ position: 2500, holder: 'the index checkpoint' }];
  await svc.runOnce();
  t.same(source.deleted, ['00000000000000000000', '00000000000000001000']);
  t.match(lines[lines.length - 1], /stays: it holds position 2500, still needed by the index checkpoint/);
});

t.test('the disk-full guard follows the usage, with hysteresis, and logs each change', async (t) => {
  const source = new FakeSource(AT_0430, [1]); // one segment: nothing can go, only the guard moves
  const usage: { value: number | Error } = { value: 0.5 };
  const lines: string[] = [];
  const svc = service(source, usage, lines);
  t.same(svc.guard, { writable: true }, 'writable before the first pass');
  usage.value = 0.93;
  let r = await svc.runOnce();
  t.equal(r.guard.writable, false);
  t.equal(svc.guard.writable, false);
  t.match(svc.guard.reason, /^service not available now: the broker's disk is full \[CL:  0\.93\]/);
  t.equal(svc.diskUsageRatio, 0.93);
  t.equal(lines.length, 1);
  t.match(lines[0], /disk use 0\.93 of \/store is above 90%: writes refused, reads go on/);
  usage.value = 0.87;
  r = await svc.runOnce();
  t.equal(r.guard.writable, false, 'still refused between 85% and 90%');
  usage.value = new Error('EIO');
  r = await svc.runOnce();
  t.equal(r.guard.writable, false, 'an unreadable disk keeps the last state');
  t.equal(r.diskUsageRatio, undefined);
  t.match(lines[lines.length - 1], /cannot read disk usage of \/store: EIO/);
  usage.value = 0.8;
  r = await svc.runOnce();
  t.equal(r.guard.writable, true);
  t.match(lines[lines.length - 1], /disk use 0\.80 of \/store is back to 85% or less: writes accepted again/);
  t.same(source.deleted, [], 'the only segment stays, however full the disk');
});

t.test('a failed deletion stops the pass, is logged and reported', async (t) => {
  const source = new FakeSource(AT_0430, [100, 100, 100, 1]);
  source.failOn = '00000000000000001000';
  const lines: string[] = [];
  const svc = service(source, { value: 0.5 }, lines);
  const r = await svc.runOnce();
  t.same(source.deleted, ['00000000000000000000']);
  t.same(
    r.deleted.map((d) => d.segment.name),
    ['00000000000000000000'],
  );
  t.match(r.error?.message, /EBUSY/);
  t.match(lines[lines.length - 1], /retention pass stopped: EBUSY: 00000000000000001000 is open/);
  source.failOn = undefined;
  t.equal((await svc.runOnce()).deleted.length, 2, 'the next pass carries on');
});

t.test('concurrent runOnce calls share one pass', async (t) => {
  const source = new FakeSource(AT_0430, [100, 1]);
  const svc = service(source, { value: 0.5 }, []);
  const [a, b] = await Promise.all([svc.runOnce(), svc.runOnce()]);
  t.equal(a, b);
  t.equal(source.listCalls, 1);
  t.same(source.deleted, ['00000000000000000000']);
});

t.test('start/stop: an unref-ed interval that skips a tick while a pass runs', async (t) => {
  let tick: (() => void) | undefined;
  let unrefs = 0;
  let cleared = 0;
  let interval = 0;
  const handle = { unref: () => unrefs++ };
  const timers: TimerApi = {
    setInterval: (fn, ms) => {
      tick = fn;
      interval = ms;
      return handle;
    },
    clearInterval: (h) => {
      t.equal(h, handle);
      cleared++;
    },
  };
  const source = new FakeSource(AT_0430, [100, 100, 1]);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const list = source.listSegments.bind(source);
  source.listSegments = async () => {
    await gate;
    return list();
  };
  const svc = service(source, { value: 0.5 }, [], { timers, intervalMs: 2500, maxDeletesPerPass: 1 });
  svc.start();
  svc.start();
  t.equal(interval, 2500);
  t.equal(unrefs, 1, 'one timer, unref-ed');
  tick?.();
  tick?.(); // the first pass is still waiting: this tick is skipped
  release();
  await svc.runOnce(); // joins the pass in flight
  t.equal(source.listCalls, 1);
  t.same(source.deleted, ['00000000000000000000']);
  tick?.();
  await svc.runOnce();
  t.same(source.deleted, ['00000000000000000000', '00000000000000001000']);
  svc.stop();
  svc.stop();
  t.equal(cleared, 1);
});

t.test('a bad deleteWhen or interval is refused when the service is built', async (t) => {
  const source = new FakeSource(AT_0430, [1]);
  t.throws(() => service(source, { value: 0.5 }, [], { deleteWhen: '4am' }), /deleteWhen "4am"/);
  t.throws(() => service(source, { value: 0.5 }, [], { intervalMs: 0 }), /intervalMs/);
});
