import t from 'tap';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import {
  DEFAULT_DISK_RATIOS,
  decideRetention,
  diskGuard,
  hourOfDayAtOffset,
  parseDeleteWhen,
  type RetentionInput,
  type RetentionSegment,
} from '../../../storage/retention/RetentionPolicy.js';

const HOUR = 3_600_000;
const SIZE = 1000;
/** 2026-01-10 00:00 UTC */
const MIDNIGHT_UTC = Date.UTC(2026, 0, 10);
/** 04:30 in UTC+8 */
const AT_0430_CST = MIDNIGHT_UTC - 8 * HOUR + 4.5 * HOUR;
const CST = hourOfDayAtOffset(8 * 60);

/** `ages[i]` hours since segment i was last modified; segment i covers [i*SIZE, (i+1)*SIZE). */
function segments(now: number, ages: number[]): RetentionSegment[] {
  return ages.map((age, i) => ({
    name: String(i * SIZE).padStart(20, '0'),
    start: i * SIZE,
    end: (i + 1) * SIZE,
    lastModifiedMs: now - age * HOUR,
  }));
}

function input(over: Partial<RetentionInput> & { ages?: number[] } = {}): RetentionInput {
  const now = over.now ?? AT_0430_CST;
  const { ages, ...rest } = over;
  return {
    segments: segments(now, ages ?? [100, 90, 80, 10, 1]),
    now,
    fileReservedTime: 72,
    deleteWhen: '04',
    hourOfDay: CST,
    diskUsageRatio: 0.5,
    ...rest,
  };
}

const names = (d: ReturnType<typeof decideRetention>): number[] => d.delete.map((x) => x.segment.start / SIZE);

t.test('hour of day at a fixed offset, and the deleteWhen list', async (t) => {
  t.equal(CST(AT_0430_CST), 4);
  t.equal(hourOfDayAtOffset(0)(AT_0430_CST), 20);
  t.equal(hourOfDayAtOffset(-5 * 60)(MIDNIGHT_UTC), 19, 'negative offsets wrap to the previous day');
  t.equal(hourOfDayAtOffset(0)(-1), 23, 'before the epoch');
  t.same(parseDeleteWhen('04'), [4]);
  t.same(parseDeleteWhen('04;16'), [4, 16]);
  t.same(parseDeleteWhen('4; 23'), [4, 23]);
  t.throws(() => parseDeleteWhen('24'), /deleteWhen "24"/);
  t.throws(() => parseDeleteWhen('04,16'), RangeError);
  t.throws(() => parseDeleteWhen(''), RangeError);
  t.throws(() => decideRetention(input({ deleteWhen: 'x' })), /deleteWhen/);
});

t.test('expired segments go at a deleteWhen hour, oldest first; unexpired ones stay', async (t) => {
  const d = decideRetention(input());
  t.same(names(d), [0, 1, 2]);
  t.ok(d.delete.every((x) => x.reason === 'expired'));
  t.match(d.delete[0]?.detail, /expired \(last modified 100\.0 h ago, fileReservedTime 72 h; deleteWhen hour 04\)/);
  t.equal(d.held?.segment.start, 3 * SIZE);
  t.match(d.held?.reason, /not expired: last modified 10\.0 h ago, fileReservedTime 72 h, 62\.0 h to go/);
});

t.test('expiry is at exactly fileReservedTime hours', async (t) => {
  t.same(names(decideRetention(input({ ages: [72, 1] }))), [0]);
  const d = decideRetention(input({ ages: [71.99, 1] }));
  t.same(names(d), []);
  t.match(d.held?.reason, /not expired/);
  t.same(names(decideRetention(input({ ages: [0, 0], fileReservedTime: 0 }))), [0], 'fileReservedTime 0 keeps nothing');
});

t.test('outside the deleteWhen hours nothing goes while the disk has room', async (t) => {
  const at0530 = AT_0430_CST + HOUR;
  const d = decideRetention(input({ now: at0530 }));
  t.same(names(d), []);
  t.match(d.held?.reason, /expired, waiting for a deleteWhen hour \(04\) or disk use above 75%/);
  t.same(names(decideRetention(input({ now: at0530, deleteWhen: '04;05' }))), [0, 1, 2], 'a second hour in the list');
  t.same(names(decideRetention(input({ now: AT_0430_CST + 12 * HOUR, deleteWhen: '04;16' }))), [0, 1, 2], '16:30');
  // The same instant in another time zone is another hour.
  t.same(names(decideRetention(input({ hourOfDay: hourOfDayAtOffset(0) }))), [], '20:30 UTC');
});

t.test('above diskMaxUsedSpaceRatio expired segments go at any hour; unexpired ones still stay', async (t) => {
  const at1030 = AT_0430_CST + 6 * HOUR;
  t.same(names(decideRetention(input({ now: at1030, diskUsageRatio: 0.75 }))), [], 'at the ratio: not above it');
  const d = decideRetention(input({ now: at1030, diskUsageRatio: 0.76 }));
  t.same(names(d), [0, 1, 2]);
  t.match(d.delete[0]?.detail, /disk use 0\.76 above diskMaxUsedSpaceRatio 75%/);
  t.match(d.held?.reason, /not expired/);
  const custom = { ...DEFAULT_DISK_RATIOS, diskMaxUsedSpaceRatio: 60 };
  t.same(names(decideRetention(input({ now: at1030, diskUsageRatio: 0.61, ratios: custom }))), [0, 1, 2], 'the setting is honoured');
  t.same(names(decideRetention(input({ now: at1030, diskUsageRatio: undefined }))), [0, 1, 2], 'unknown disk use: as RocketMQ, expired ones go');
});

t.test('above the force-clean ratio the oldest go even unexpired, but never the last', async (t) => {
  const at1030 = AT_0430_CST + 6 * HOUR;
  t.same(names(decideRetention(input({ now: at1030, diskUsageRatio: 0.85 }))), [0, 1, 2], 'at 85%: expired only');
  const d = decideRetention(input({ now: at1030, diskUsageRatio: 0.86 }));
  t.same(names(d), [0, 1, 2, 3]);
  t.same(
    d.delete.map((x) => x.reason),
    ['expired', 'expired', 'expired', 'force-clean'],
  );
  t.match(d.delete[3]?.detail, /disk use 0\.86 above the force-clean ratio 85% \(last modified 10\.0 h ago/);
  t.equal(d.held, undefined, 'only the last segment is left');
  t.same(names(decideRetention(input({ now: at1030, diskUsageRatio: 0.99, ages: [0, 0, 0] }))), [0, 1], 'young segments too');
  t.same(
    names(decideRetention(input({ now: at1030, diskUsageRatio: 0.99, ages: [1, 0], cleanFileForciblyEnable: false }))),
    [],
    'cleanFileForciblyEnable=false',
  );
  t.same(names(decideRetention(input({ diskUsageRatio: 1, ages: [500] }))), [], 'a single segment never goes');
  t.same(names(decideRetention(input({ ages: [] }))), []);
});

t.test('an active segment stops the pass even if it is not the last', async (t) => {
  const segs = segments(AT_0430_CST, [100, 100, 100]);
  (segs[1] as RetentionSegment).active = true;
  const d = decideRetention(input({ segments: segs, diskUsageRatio: 0.99 }));
  t.same(names(d), [0]);
  t.match(d.held, { segment: { start: SIZE }, reason: 'it is the active segment' });
});

t.test('floors: the applied-index position and a follower position are never deleted', async (t) => {
  const indexFloor = { position: 1500, holder: 'the index checkpoint' };
  const d = decideRetention(input({ retainFrom: [indexFloor] }));
  t.same(names(d), [0], 'segment 1 holds position 1500');
  t.match(d.held, { segment: { start: 1000 }, reason: 'it holds position 1500, still needed by the index checkpoint' });

  t.same(names(decideRetention(input({ retainFrom: [{ position: 2000, holder: 'x' }] }))), [0, 1], 'a floor at a segment boundary');
  t.same(names(decideRetention(input({ retainFrom: [{ position: 1999, holder: 'x' }] }))), [0]);
  t.same(names(decideRetention(input({ retainFrom: [{ position: 0, holder: 'x' }] }))), []);

  // Over force-clean and everything expired: the lowest floor still wins.
  const both = [indexFloor, { position: 700, holder: 'follower n2' }];
  for (const usage of [0.8, 0.86, 0.95, 1]) {
    const f = decideRetention(input({ retainFrom: both, diskUsageRatio: usage, ages: [500, 500, 500, 500, 500] }));
    t.same(names(f), [], `disk at ${usage}`);
    t.match(f.held?.reason, /position 700, still needed by follower n2/);
  }
  const followerAhead = [indexFloor, { position: 3500, holder: 'follower n2' }];
  t.same(names(decideRetention(input({ retainFrom: followerAhead, diskUsageRatio: 0.99 }))), [0], 'the index floor is the lower one');
  t.throws(() => decideRetention(input({ retainFrom: [{ position: NaN, holder: 'follower n1' }] })), /follower n1/);
});

t.test('at most N per pass, the rest next pass', async (t) => {
  const ages = Array.from({ length: 15 }, () => 200);
  const d = decideRetention(input({ ages }));
  t.same(names(d), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'RocketMQ default 10');
  t.match(d.held, { segment: { start: 10 * SIZE }, reason: 'the limit of 10 deletions per pass was reached' });
  t.same(names(decideRetention(input({ ages, maxDeletesPerPass: 3 }))), [0, 1, 2]);
  t.throws(() => decideRetention(input({ maxDeletesPerPass: 0 })), /maxDeletesPerPass/);
});

t.test('segments in any order are taken oldest position first; a gap in mtimes does not skip ahead', async (t) => {
  const segs = segments(AT_0430_CST, [100, 10, 100, 1]).reverse();
  const d = decideRetention(input({ segments: segs }));
  t.same(names(d), [0], 'segment 2 is expired but 1 is not: only a prefix goes');
  t.equal(d.held?.segment.start, SIZE);
});

t.test('bad inputs are refused with the name of the setting', async (t) => {
  t.throws(() => decideRetention(input({ diskUsageRatio: 1.2 })), /diskUsageRatio/);
  t.throws(() => decideRetention(input({ fileReservedTime: -1 })), /fileReservedTime/);
  t.throws(() => decideRetention(input({ ratios: { ...DEFAULT_DISK_RATIOS, diskFullRatio: 0 } })), /diskFullRatio/);
  t.throws(() => diskGuard(0.5, { ...DEFAULT_DISK_RATIOS, diskForceCleanRatio: 101 }), /diskForceCleanRatio/);
});

t.test('diskGuard: writes refused above the disk-full ratio with a RocketMQ remark, reads never', async (t) => {
  t.same(diskGuard(0.5), { writable: true });
  t.same(diskGuard(0.9), { writable: true }, 'at 90%: not above it');
  const full = diskGuard(0.9234);
  t.equal(full.writable, false);
  t.equal(full.code, ResponseCode.SERVICE_NOT_AVAILABLE);
  t.equal(
    full.reason,
    "service not available now: the broker's disk is full [CL:  0.92], above the disk-full ratio 90%; writes are refused until old segments are deleted, reads go on",
  );
  t.equal(diskGuard(0.96, { ...DEFAULT_DISK_RATIOS, diskFullRatio: 95 }).writable, false);
  t.equal(diskGuard(0.94, { ...DEFAULT_DISK_RATIOS, diskFullRatio: 95 }).writable, true);
  t.same(diskGuard(undefined), { writable: true }, 'unknown use with no history refuses nothing');
  t.same(diskGuard(undefined, DEFAULT_DISK_RATIOS, full), full, 'unknown use keeps the last state');
});

t.test('diskGuard: once refused, writes stay refused until use is back to the force-clean ratio', async (t) => {
  const full = diskGuard(0.91);
  const between = diskGuard(0.88, DEFAULT_DISK_RATIOS, full);
  t.equal(between.writable, false);
  t.match(between.reason, /\[CL:  0\.88\], not yet back to the force-clean ratio 85% since it passed 90%/);
  t.equal(diskGuard(0.851, DEFAULT_DISK_RATIOS, between).writable, false);
  const back = diskGuard(0.85, DEFAULT_DISK_RATIOS, between);
  t.same(back, { writable: true });
  t.same(diskGuard(0.88, DEFAULT_DISK_RATIOS, back), { writable: true }, 'rising again: refused only above 90%');
});
