import t from 'tap';
import {
  UniqKeyGenerator,
  decodeOffsetMsgId,
  encodeOffsetMsgId,
  encodeUniqKey,
  localMonthBounds,
  parseUniqKey,
  type MonthBounds,
} from '../../../protocol/message/index.js';

t.test('offset message id', async (t) => {
  t.equal(encodeOffsetMsgId({ address: '10.0.0.1', port: 10911 }, 0xa3f4), '0A00000100002A9F000000000000A3F4');
  t.strictSame(decodeOffsetMsgId('0A00000100002A9F000000000000A3F4'), { address: '10.0.0.1', port: 10911, offset: 0xa3f4 });
  t.strictSame(decodeOffsetMsgId('0a00000100002a9f000000000000a3f4'), { address: '10.0.0.1', port: 10911, offset: 0xa3f4 }, 'any case');
  const v6 = encodeOffsetMsgId({ address: 'fd00::2', port: 30911 }, 2 ** 40);
  t.equal(v6.length, 56);
  t.equal(v6, 'FD000000000000000000000000000002000078BF0000010000000000');
  t.strictSame(decodeOffsetMsgId(v6), { address: 'fd00::2', port: 30911, offset: 2 ** 40 });
  t.equal(encodeOffsetMsgId({ address: '127.0.0.1', port: 10911 }, Number.MAX_SAFE_INTEGER).slice(16), '001FFFFFFFFFFFFF');
  for (const bad of ['', '0A00000100002A9F000000000000A3F', '0A00000100002A9F000000000000A3FG', 'x'.repeat(56)]) {
    t.throws(() => decodeOffsetMsgId(bad), { code: 'BAD_MESSAGE_ID' }, JSON.stringify(bad));
  }
  t.throws(() => encodeOffsetMsgId({ address: '10.0.0.1', port: 1 }, -1), { code: 'VALUE_OUT_OF_RANGE' });
  t.throws(() => decodeOffsetMsgId('0A00000100002A9F7FFFFFFFFFFFFFFF'), { code: 'VALUE_OUT_OF_RANGE' });
});

// The capture machine ran in UTC: its month began 2026-11-01T00:00Z. Injected so the test
// does not depend on this machine's zone.
const utcMonth = (now: number): MonthBounds => {
  const d = new Date(now);
  return {
    start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
};

t.test('UNIQ_KEY generation reproduces the Java client', async (t) => {
  // c-producer: client fd00::2, pid 0x4C99, class-loader hash 0x5FFD2B27; keys made at the
  // send's bornTimestamp, counter from 0.
  const gen = new UniqKeyGenerator({ ip: 'fd00::2', pid: 0x4c99, processValue: 0x5ffd2b27, monthBounds: utcMonth });
  t.equal(gen.next(1795745844475), 'FD0000000000000000000000000000024C995FFD2B27866324FB0000');
  t.equal(gen.next(1795745844502), 'FD0000000000000000000000000000024C995FFD2B27866325160001');
  t.equal(
    encodeUniqKey({ ip: '10.1.2.3', pid: 0x12345, processValue: 0xffffffff, monthMillis: 2 ** 32 + 5, counter: 0x10001 }),
    '0A010203' + '2345' + 'FFFFFFFF' + '00000005' + '0001',
    'fields are truncated to their widths',
  );
});

t.test('UNIQ_KEY counter wraps and the month rolls over', async (t) => {
  const bounds: MonthBounds[] = [];
  const gen = new UniqKeyGenerator({
    ip: '10.0.0.9',
    pid: 1,
    processValue: 0,
    monthBounds: (now) => {
      const b = now < 1000 ? { start: 0, end: 1000 } : { start: 1000, end: 2000 };
      bounds.push(b);
      return b;
    },
  });
  const keys = Array.from({ length: 65537 }, () => gen.next(999));
  t.equal(keys[0]!.slice(-12), '000003E70000');
  t.equal(keys[65535]!.slice(-4), 'FFFF');
  t.equal(keys[65536]!.slice(-4), '0000', 'counter is 16 bits');
  t.equal(bounds.length, 1, 'month bounds computed once while inside the month');
  t.equal(gen.next(1005).slice(-12, -4), '00000005', 'ms counted from the new month');
  t.equal(bounds.length, 2);
  t.equal(keys[0]!.length, 32, 'IPv4 key is 32 hex chars');
});

t.test('local month bounds', async (t) => {
  const now = Date.now();
  const b = localMonthBounds(now);
  t.ok(b.start <= now && now < b.end);
  t.equal(new Date(b.start).getDate(), 1);
  t.equal(new Date(b.start).getHours(), 0);
  t.equal(new Date(b.end).getDate(), 1);
  t.ok(b.end - b.start >= 28 * 86400_000 - 3600_000 && b.end - b.start <= 31 * 86400_000 + 3600_000);
});

t.test('UNIQ_KEY parsing is lenient', async (t) => {
  t.strictSame(parseUniqKey('FD0000000000000000000000000000024C995FFD2B27866324FB0000'), {
    ip: 'fd00::2',
    pid: 0x4c99,
    processValue: 0x5ffd2b27,
    monthMillis: 0x866324fb,
    counter: 0,
  });
  t.equal(parseUniqKey('0A0102030001000000000000000A0007')?.counter, 7);
  t.equal(parseUniqKey('0A0102030001000000000000000a0007')?.ip, '10.1.2.3', 'mixed case (Go)');
  t.equal(parseUniqKey('01A2B3C4D5E6F70001000000010000000A'), undefined, 'gRPC-style 34-char id is opaque');
  t.equal(parseUniqKey('my-own-id'), undefined);
  t.equal(parseUniqKey(''), undefined);
});
