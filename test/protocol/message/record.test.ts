import t from 'tap';
import { maskedCrc32 } from '../../../protocol/crc32.js';
import {
  BLANK_MAGIC,
  CompressionType,
  MESSAGE_MAGIC_V1,
  MESSAGE_MAGIC_V2,
  MessageFormatError,
  PHYSICAL_OFFSET_POS,
  QUEUE_OFFSET_POS,
  SYSFLAG_POS,
  decodeStoredMessage,
  decodeStoredMessages,
  deflateBody,
  encodeHostAddress,
  encodeStoredMessage,
  encodeStoredMessageInto,
  iterateStoredMessages,
  setPhysicalOffset,
  setQueueOffset,
  setStoreTimestamp,
  storeTimestampPos,
  storedMessageSize,
  withCompression,
  type StoredMessageInput,
} from '../../../protocol/message/index.js';

const S = '\u0001';
const P = '\u0002';

function input(over: Partial<StoredMessageInput> = {}): StoredMessageInput & { propertiesText: string } {
  return {
    topic: 'FxTopic',
    queueId: 3,
    flag: 7,
    sysFlag: 0,
    bornTimestamp: 1795745844475,
    bornHost: { address: '127.0.0.1', port: 42538 },
    storeHost: { address: '10.0.0.1', port: 10911 },
    body: Buffer.from('Hello RocketMQ sync 1'),
    propertiesText: `TAGS${S}TagA${P}UNIQ_KEY${S}ABCDEF`,
    reconsumeTimes: 2,
    preparedTransactionOffset: 0,
    queueOffset: 5,
    physicalOffset: 1000,
    storeTimestamp: 1795745844489,
    ...over,
  } as StoredMessageInput & { propertiesText: string };
}

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

t.test('v1 IPv4 layout: exact size and field positions', async (t) => {
  const i = input();
  const buf = encodeStoredMessage(i);
  const size = 91 + i.body.length + byteLength(i.topic) + byteLength(i.propertiesText);
  t.equal(buf.length, size);
  t.equal(storedMessageSize(i), size);
  t.equal(buf.readInt32BE(0), size, 'TOTALSIZE');
  t.equal(buf.readUInt32BE(4), 0xdaa320a7, 'magic v1');
  t.equal(buf.readInt32BE(8), 1536329807, 'BODYCRC = masked CRC-32 of the body');
  t.equal(buf.readInt32BE(12), 3, 'QUEUEID');
  t.equal(buf.readInt32BE(16), 7, 'FLAG');
  t.equal(buf.readBigInt64BE(20), 5n, 'QUEUEOFFSET');
  t.equal(buf.readBigInt64BE(28), 1000n, 'PHYSICALOFFSET');
  t.equal(buf.readInt32BE(36), 0, 'SYSFLAG');
  t.equal(buf.readBigInt64BE(40), 1795745844475n, 'BORNTIMESTAMP');
  t.equal(buf.toString('hex', 48, 56), '7f0000010000a62a', 'BORNHOST');
  t.equal(buf.readBigInt64BE(56), 1795745844489n, 'STORETIMESTAMP');
  t.equal(buf.toString('hex', 64, 72), '0a00000100002a9f', 'STOREHOST');
  t.equal(buf.readInt32BE(72), 2, 'RECONSUMETIMES');
  t.equal(buf.readBigInt64BE(76), 0n, 'PREPARED_TRANSACTION_OFFSET');
  t.equal(buf.readInt32BE(84), 21, 'BODYLEN');
  t.equal(buf.toString('utf8', 88, 109), 'Hello RocketMQ sync 1');
  t.equal(buf.readUInt8(109), 7, 'TOPICLEN');
  t.equal(buf.toString('utf8', 110, 117), 'FxTopic');
  t.equal(buf.readInt16BE(117), byteLength(i.propertiesText), 'PROPLEN');
  t.equal(buf.toString('utf8', 119), i.propertiesText);
});

t.test('round trip over magic and host families', async (t) => {
  const v4a = { address: '192.168.1.20', port: 50000 };
  const v4b = { address: '10.0.0.1', port: 10911 };
  const v6a = { address: 'fd00::2', port: 50000 };
  const v6b = { address: '2001:db8::8:800:200c:417a', port: 30911 };
  for (const magic of [MESSAGE_MAGIC_V1, MESSAGE_MAGIC_V2]) {
    for (const bornHost of [v4a, v6a]) {
      for (const storeHost of [v4b, v6b]) {
        const i = input({ magic, bornHost, storeHost, sysFlag: 0x4 | 0x2 });
        const buf = encodeStoredMessage(i);
        const extra = (magic === MESSAGE_MAGIC_V2 ? 1 : 0) + (bornHost === v6a ? 12 : 0) + (storeHost === v6b ? 12 : 0);
        const name = `magic ${magic.toString(16)} born ${bornHost.address} store ${storeHost.address}`;
        t.equal(buf.length, 91 + extra + 21 + 7 + byteLength(i.propertiesText), `${name}: size`);
        const m = decodeStoredMessage(buf);
        t.equal(m.storeSize, buf.length);
        t.equal(m.magic, magic);
        t.equal(m.sysFlag, 0x6 | (bornHost === v6a ? 0x10 : 0) | (storeHost === v6b ? 0x20 : 0), `${name}: host bits set from hosts`);
        t.strictSame(m.bornHost, bornHost, `${name}: born host`);
        t.strictSame(m.storeHost, storeHost, `${name}: store host`);
        t.equal(m.topic, 'FxTopic');
        t.equal(m.storeTimestamp, 1795745844489, `${name}: store timestamp after the born host`);
        t.equal(m.reconsumeTimes, 2);
        t.equal(m.body.toString(), 'Hello RocketMQ sync 1');
        t.equal(m.propertiesText, i.propertiesText);
        t.ok(encodeStoredMessage(m).equals(buf), `${name}: re-encoding the decoded record gives the same bytes`);
      }
    }
  }
});

t.test('decoded fields', async (t) => {
  const m = decodeStoredMessage(encodeStoredMessage(input()));
  t.equal(m.bodyCrc, maskedCrc32(Buffer.from('Hello RocketMQ sync 1')));
  t.equal(m.queueId, 3);
  t.equal(m.flag, 7);
  t.equal(m.queueOffset, 5);
  t.equal(m.physicalOffset, 1000);
  t.equal(m.bornTimestamp, 1795745844475);
  t.equal(m.preparedTransactionOffset, 0);
  t.strictSame([...m.properties], [['TAGS', 'TagA'], ['UNIQ_KEY', 'ABCDEF']]);
  t.equal(m.offsetMsgId, '0A00000100002A9F00000000000003E8');
  t.equal(m.msgId, 'ABCDEF', 'msgId is UNIQ_KEY when present');
  const noKey = decodeStoredMessage(encodeStoredMessage(input({ propertiesText: `TAGS${S}x` })));
  t.equal(noKey.msgId, noKey.offsetMsgId, 'else the offset id');
  t.equal(m.inflatedBody, undefined, 'no inflate unless asked');
});

t.test('empty and unicode fields', async (t) => {
  const empty = encodeStoredMessage(input({ body: Buffer.alloc(0), propertiesText: '', topic: 'T' }));
  t.equal(empty.length, 92);
  const e = decodeStoredMessage(empty);
  t.equal(e.body.length, 0);
  t.equal(e.propertiesText, '');
  t.equal(e.properties.size, 0);

  const body = Buffer.from('unicode body: 日本語テキスト ✓ émoji 🚀');
  const propertiesText = `KEYS${S}ключ-日本${P}greeting${S}héllo wörld 你好 🚀`;
  const buf = encodeStoredMessage(input({ body, propertiesText, topic: 'Fx_Topic-%1|' }));
  t.equal(buf.length, 91 + body.length + 12 + byteLength(propertiesText), 'sizes count UTF-8 bytes');
  const u = decodeStoredMessage(buf);
  t.ok(u.body.equals(body));
  t.equal(u.topic, 'Fx_Topic-%1|');
  t.equal(u.properties.get('greeting'), 'héllo wörld 你好 🚀');
  t.equal(u.bodyCrc, 661698398, 'matches the Java broker for this body');
});

t.test('properties given as a map', async (t) => {
  const fromMap = encodeStoredMessage(input({ propertiesText: undefined, properties: { TAGS: 'TagA', UNIQ_KEY: 'ABCDEF' } }));
  t.ok(fromMap.equals(encodeStoredMessage(input())), 'serialized like the text');
  const both = decodeStoredMessage(encodeStoredMessage(input({ properties: new Map([['X', 'y']]) })));
  t.equal(both.propertiesText, `TAGS${S}TagA${P}UNIQ_KEY${S}ABCDEF`, 'propertiesText wins');
  const none = decodeStoredMessage(encodeStoredMessage(input({ propertiesText: undefined })));
  t.equal(none.propertiesText, '');
  t.throws(() => encodeStoredMessage(input({ propertiesText: undefined, properties: { A: '' } })), { code: 'BAD_PROPERTY' });
});

t.test('topic length picks the magic', async (t) => {
  const long = 'T'.repeat(200);
  const m = decodeStoredMessage(encodeStoredMessage(input({ topic: long })));
  t.equal(m.magic, MESSAGE_MAGIC_V2);
  t.equal(m.topic, long);
  t.equal(decodeStoredMessage(encodeStoredMessage(input({ topic: 'T'.repeat(127) }))).magic, MESSAGE_MAGIC_V1);
  t.throws(() => encodeStoredMessage(input({ topic: long, magic: MESSAGE_MAGIC_V1 })), { code: 'LENGTH_OUT_OF_RANGE' });
  t.throws(() => encodeStoredMessage(input({ topic: '' })), { code: 'LENGTH_OUT_OF_RANGE' });
  t.throws(() => encodeStoredMessage(input({ magic: BLANK_MAGIC })), { code: 'BAD_MAGIC' });
  t.throws(() => encodeStoredMessage(input({ propertiesText: 'x'.repeat(32768) })), { code: 'LENGTH_OUT_OF_RANGE' });
  t.doesNotThrow(() => encodeStoredMessage(input({ propertiesText: 'x'.repeat(32767) })));
});

t.test('hot path: placeholders patched in place', async (t) => {
  for (const bornHost of [{ address: '127.0.0.1', port: 1 }, { address: '::1', port: 1 }]) {
    const i = input({ bornHost, queueOffset: undefined, physicalOffset: undefined, storeTimestamp: undefined });
    const buf = encodeStoredMessage(i);
    const blank = decodeStoredMessage(buf);
    t.equal(blank.queueOffset, 0);
    t.equal(blank.physicalOffset, 0);
    t.equal(blank.storeTimestamp, 0);
    t.equal(storeTimestampPos(blank.sysFlag), bornHost.address === '::1' ? 68 : 56);

    // patch inside a larger buffer, as the commit log does
    const log = Buffer.alloc(100 + buf.length, 0xee);
    buf.copy(log, 100);
    setQueueOffset(log, 100, 42);
    setPhysicalOffset(log, 100, 2 ** 40 + 3);
    setStoreTimestamp(log, 100, 1795745844999);
    const direct = encodeStoredMessage({ ...i, queueOffset: 42, physicalOffset: 2 ** 40 + 3, storeTimestamp: 1795745844999 });
    t.ok(log.subarray(100).equals(direct), `patched bytes equal a direct encode (born ${bornHost.address})`);
    t.equal(log[99], 0xee, 'bytes before the record untouched');
    t.equal(log.readBigInt64BE(100 + QUEUE_OFFSET_POS), 42n);
    t.equal(log.readBigInt64BE(100 + PHYSICAL_OFFSET_POS), 2n ** 40n + 3n);
    t.equal(decodeStoredMessage(log, 100).offsetMsgId.slice(16), (2 ** 40 + 3).toString(16).toUpperCase().padStart(16, '0'));
  }
  t.throws(() => setQueueOffset(Buffer.alloc(100), 0, 2 ** 53), { code: 'VALUE_OUT_OF_RANGE' });
  t.throws(() => setQueueOffset(Buffer.alloc(24), 0, 7), RangeError, 'a record cut short is not patched past its end');
  t.throws(() => setQueueOffset(Buffer.alloc(100), -30, 7), RangeError, 'nor before the buffer');
});

t.test('encode into a shared buffer', async (t) => {
  const a = input({ queueOffset: 0 });
  const b = input({ queueOffset: 1, body: Buffer.from('second') });
  const target = Buffer.alloc(storedMessageSize(a) + storedMessageSize(b) + 10, 0xaa);
  const n1 = encodeStoredMessageInto(a, target, 10);
  const n2 = encodeStoredMessageInto(b, target, 10 + n1);
  t.equal(n1 + n2 + 10, target.length);
  const records = decodeStoredMessages(target.subarray(10));
  t.strictSame(records.map((r) => [r.queueOffset, r.body.toString()]), [[0, 'Hello RocketMQ sync 1'], [1, 'second']]);

  const small = Buffer.alloc(storedMessageSize(a) - 1, 0x55);
  t.throws(() => encodeStoredMessageInto(a, small, 0), { code: 'LENGTH_OUT_OF_RANGE' });
  t.ok(small.every((x) => x === 0x55), 'nothing written when it does not fit');
  const shared = Buffer.alloc(500, 0x55);
  t.throws(() => encodeStoredMessageInto(input({ queueId: 2 ** 31 }), shared, 0), { code: 'VALUE_OUT_OF_RANGE' });
  t.ok(shared.every((x) => x === 0x55), 'nothing written when a field is refused');
});

t.test('pre-encoded and IPv4-mapped hosts', async (t) => {
  const text = encodeStoredMessage(input());
  const pre = encodeStoredMessage(input({ bornHost: encodeHostAddress({ address: '127.0.0.1', port: 42538 }), storeHost: encodeHostAddress({ address: '10.0.0.1', port: 10911 }) }));
  t.ok(pre.equals(text));
  const mapped = decodeStoredMessage(encodeStoredMessage(input({ bornHost: { address: '::ffff:127.0.0.1', port: 42538 } })));
  t.equal(mapped.sysFlag & 0x10, 0, 'an IPv4-mapped peer is stored as IPv4');
  t.strictSame(mapped.bornHost, { address: '127.0.0.1', port: 42538 });
  t.throws(() => encodeStoredMessage(input({ storeHost: Buffer.alloc(9) })), { code: 'BAD_ADDRESS' });
  t.throws(() => encodeStoredMessage(input({ storeHost: { address: '10.0.0.256', port: 1 } })), { code: 'BAD_ADDRESS' });
});

t.test('i64 fields are safe numbers', async (t) => {
  t.throws(() => encodeStoredMessage(input({ queueOffset: 2 ** 53 })), { code: 'VALUE_OUT_OF_RANGE', message: /queueOffset/ });
  t.throws(() => encodeStoredMessage(input({ bornTimestamp: 1.5 })), { code: 'VALUE_OUT_OF_RANGE' });
  t.throws(() => encodeStoredMessage(input({ flag: 2 ** 31 })), { code: 'VALUE_OUT_OF_RANGE', message: /flag/ });
  const neg = decodeStoredMessage(encodeStoredMessage(input({ preparedTransactionOffset: -1 })));
  t.equal(neg.preparedTransactionOffset, -1, 'negative i64 round trips');
  const max = decodeStoredMessage(encodeStoredMessage(input({ physicalOffset: Number.MAX_SAFE_INTEGER })));
  t.equal(max.physicalOffset, Number.MAX_SAFE_INTEGER);
  const buf = encodeStoredMessage(input());
  buf.writeBigInt64BE(2n ** 53n, QUEUE_OFFSET_POS);
  t.throws(() => decodeStoredMessage(buf), { code: 'VALUE_OUT_OF_RANGE', message: /queueOffset/ });
});

t.test('compressed bodies', async (t) => {
  const plain = Buffer.from('line of text\n'.repeat(500));
  const stored = deflateBody(plain);
  const sysFlag = withCompression(0, CompressionType.ZLIB);
  const buf = encodeStoredMessage(input({ body: stored, sysFlag }));
  const m = decodeStoredMessage(buf, 0, { inflate: true });
  t.ok(m.body.equals(stored), 'body stays as stored');
  t.equal(m.bodyCrc, maskedCrc32(stored), 'CRC is over the stored (compressed) bytes');
  t.ok(m.inflatedBody?.equals(plain), 'inflated on request');
  const unc = decodeStoredMessage(encodeStoredMessage(input()), 0, { inflate: true });
  t.equal(unc.inflatedBody?.toString(), 'Hello RocketMQ sync 1', 'uncompressed body passes through');
  t.throws(() => decodeStoredMessage(buf, 0, { inflate: true, maxInflatedBytes: 100 }), { code: 'INFLATE_FAILED' });
  const lz4 = encodeStoredMessage(input({ body: stored, sysFlag: withCompression(0, CompressionType.LZ4) }));
  t.throws(() => decodeStoredMessage(lz4, 0, { inflate: true }), { code: 'UNSUPPORTED_COMPRESSION' });
  const junk = encodeStoredMessage(input({ body: Buffer.from('not zlib'), sysFlag }));
  t.throws(() => decodeStoredMessage(junk, 0, { inflate: true }), { code: 'INFLATE_FAILED' });
  t.doesNotThrow(() => decodeStoredMessage(junk), 'a bad body only fails when inflating');
});

t.test('malformed records name the offset', async (t) => {
  const good = encodeStoredMessage(input());
  const size = good.length;
  const at = (b: Buffer, offset = 0) => () => decodeStoredMessage(b, offset);

  t.throws(at(good.subarray(0, 7)), { code: 'TRUNCATED', offset: 0 });
  t.throws(at(good.subarray(0, size - 1)), { code: 'TRUNCATED', message: /offset 0: TOTALSIZE \d+ but only \d+ bytes left/ });
  const twoThenCut = Buffer.concat([good, good.subarray(0, 50)]);
  t.throws(at(twoThenCut, size), { code: 'TRUNCATED', offset: size, message: new RegExp(`offset ${size}`) });

  const badMagic = Buffer.from(good);
  badMagic.writeUInt32BE(0xdaa320a8, 4);
  t.throws(at(badMagic), { code: 'BAD_MAGIC', message: /daa320a8/ });
  const blank = Buffer.from(good);
  blank.writeUInt32BE(BLANK_MAGIC, 4);
  t.throws(at(blank), { code: 'BLANK_RECORD' });

  const tiny = Buffer.from(good);
  tiny.writeInt32BE(90, 0);
  t.throws(at(tiny), { code: 'SIZE_MISMATCH', message: /below the 91-byte minimum/ });
  const longer = Buffer.concat([good, Buffer.alloc(4)]);
  longer.writeInt32BE(size + 4, 0);
  t.throws(at(longer), { code: 'SIZE_MISMATCH', message: /4 bytes before TOTALSIZE/ });

  const bodyLen = Buffer.from(good);
  bodyLen.writeInt32BE(1000, 84);
  t.throws(at(bodyLen), { code: 'LENGTH_OUT_OF_RANGE', message: /BODYLEN 1000/ });
  bodyLen.writeInt32BE(-1, 84);
  t.throws(at(bodyLen), { code: 'LENGTH_OUT_OF_RANGE', message: /BODYLEN -1/ });
  const topicLen = Buffer.from(good);
  topicLen.writeUInt8(255, 109);
  t.throws(at(topicLen), { code: 'LENGTH_OUT_OF_RANGE', message: /TOPICLEN 255/ });
  const propLen = Buffer.from(good);
  propLen.writeInt16BE(-5, 117);
  t.throws(at(propLen), { code: 'LENGTH_OUT_OF_RANGE', message: /PROPLEN -5/ });
  propLen.writeInt16BE(1, 117);
  t.throws(at(propLen), { code: 'SIZE_MISMATCH' });
  const v6 = Buffer.from(good);
  v6.writeInt32BE(0x30, SYSFLAG_POS); // claims IPv6 hosts the bytes do not have
  t.throws(at(v6), MessageFormatError);
  t.throws(() => decodeStoredMessage(good, -1), RangeError);
});

t.test('iterating a pull body', async (t) => {
  const records = [0, 1, 2].map((n) => encodeStoredMessage(input({ queueOffset: n, physicalOffset: 1000 + n * 200, body: Buffer.from(`m${n}`) })));
  const body = Buffer.concat(records);
  t.strictSame([...iterateStoredMessages(body)].map((m) => m.queueOffset), [0, 1, 2]);
  t.strictSame(decodeStoredMessages(Buffer.alloc(0)), [], 'empty body, no records');

  const broken = Buffer.concat([records[0] as Buffer, records[1] as Buffer, Buffer.from('garbage!garbage!')]);
  const seen: number[] = [];
  t.throws(() => {
    for (const m of iterateStoredMessages(broken)) seen.push(m.queueOffset);
  }, { code: 'BAD_MAGIC', offset: (records[0] as Buffer).length + (records[1] as Buffer).length });
  t.strictSame(seen, [0, 1], 'records before the bad one were yielded');
});
