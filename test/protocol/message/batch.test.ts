import t from 'tap';
import { DEFAULT_MAX_BATCH_ENTRIES, decodeBatchBody, encodeBatchBody } from '../../../protocol/message/index.js';

const S = '\u0001';
const P = '\u0002';

const entries = [
  { flag: 0, body: Buffer.from('Batch message 0'), propertiesText: `KEYS${S}K0${P}TAGS${S}TagBatch` },
  { flag: -5, body: Buffer.alloc(0), propertiesText: '' },
  { flag: 2, body: Buffer.from('日本 🚀'), propertiesText: `greeting${S}héllo` },
];

t.test('layout and round trip', async (t) => {
  const body = encodeBatchBody(entries);
  const first = 20 + 15 + 2 + Buffer.byteLength(entries[0]!.propertiesText);
  t.equal(body.readInt32BE(0), first, 'TOTALSIZE = 20 + BODYLEN + PROPLEN + 2');
  t.equal(body.readInt32BE(4), 0, 'MAGICCODE 0');
  t.equal(body.readInt32BE(8), 0, 'BODYCRC 0');
  t.equal(body.readInt32BE(16), 15, 'BODYLEN');
  t.equal(body.readInt32BE(first), 22, 'an entry with nothing in it is 22 bytes');
  const decoded = decodeBatchBody(body);
  t.equal(decoded.length, 3);
  t.strictSame(decoded.map((e) => [e.flag, e.body.toString(), e.propertiesText]), entries.map((e) => [e.flag, e.body.toString(), e.propertiesText]));
  t.ok(encodeBatchBody(decoded).equals(body), 're-encodes to the same bytes');
  t.strictSame(decodeBatchBody(Buffer.alloc(0)), [], 'empty body, no entries');
  t.equal(encodeBatchBody([]).length, 0);
});

t.test('magic and CRC are not checked (clients send 0, Java ignores them)', async (t) => {
  const body = encodeBatchBody(entries.slice(0, 1));
  body.writeInt32BE(0x1234, 4);
  body.writeInt32BE(-1, 8);
  t.equal(decodeBatchBody(body)[0]?.body.toString(), 'Batch message 0');
});

t.test('malformed bodies', async (t) => {
  const body = encodeBatchBody(entries);
  const firstSize = body.readInt32BE(0);
  t.throws(() => decodeBatchBody(body.subarray(0, body.length - 1)), { code: 'TRUNCATED', offset: body.length - 22 - 0 - Buffer.byteLength('日本 🚀') - Buffer.byteLength(`greeting${S}héllo`) });
  t.throws(() => decodeBatchBody(body.subarray(0, 10)), { code: 'TRUNCATED', offset: 0, message: /entry 0 at offset 0/ });
  const big = Buffer.from(body);
  big.writeInt32BE(firstSize + 1, 0);
  t.throws(() => decodeBatchBody(big), { code: 'SIZE_MISMATCH', message: /entry 0/ });
  const small = Buffer.from(body);
  small.writeInt32BE(21, 0);
  t.throws(() => decodeBatchBody(small), { code: 'SIZE_MISMATCH' });
  const bodyLen = Buffer.from(body);
  bodyLen.writeInt32BE(firstSize, 16);
  t.throws(() => decodeBatchBody(bodyLen), { code: 'LENGTH_OUT_OF_RANGE', message: /BODYLEN/ });
  bodyLen.writeInt32BE(-1, 16);
  t.throws(() => decodeBatchBody(bodyLen), { code: 'LENGTH_OUT_OF_RANGE' });
  const propLen = Buffer.from(body);
  propLen.writeInt16BE(-1, 20 + 15);
  t.throws(() => decodeBatchBody(propLen), { code: 'LENGTH_OUT_OF_RANGE', message: /PROPLEN -1/ });
  const second = Buffer.from(body);
  second.writeInt32BE(10 ** 6, firstSize);
  t.throws(() => decodeBatchBody(second), { code: 'TRUNCATED', offset: firstSize, message: /entry 1/ });
});

t.test('entry limit', async (t) => {
  const many = encodeBatchBody(Array.from({ length: 5 }, () => ({ body: Buffer.from('x'), propertiesText: '' })));
  t.equal(decodeBatchBody(many, { maxEntries: 5 }).length, 5);
  t.throws(() => decodeBatchBody(many, { maxEntries: 4 }), { code: 'TOO_MANY_ENTRIES', message: /more than 4/ });
  t.ok(DEFAULT_MAX_BATCH_ENTRIES >= 1000);
  t.throws(() => encodeBatchBody([{ body: Buffer.alloc(0), propertiesText: 'x'.repeat(32768) }]), { code: 'LENGTH_OUT_OF_RANGE' });
  t.throws(() => encodeBatchBody([{ flag: 2 ** 31, body: Buffer.alloc(0), propertiesText: '' }]), { code: 'VALUE_OUT_OF_RANGE' });
});
