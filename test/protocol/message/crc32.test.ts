import t from 'tap';
import { crc32, maskedCrc32 } from '../../../protocol/crc32.js';

t.test('CRC-32 IEEE check value and masking', async (t) => {
  const check = Buffer.from('123456789', 'latin1');
  t.equal(crc32(check), 0xcbf43926, 'standard check value');
  t.equal(maskedCrc32(check), 0x4bf43926, 'sign bit cleared');
  t.equal(crc32(Buffer.alloc(0)), 0);
  t.equal(crc32(Buffer.from([0])), 0xd202ef8d);
  // a value whose top bit is clear stays the same when masked
  t.equal(maskedCrc32(Buffer.from('Hello RocketMQ sync 1')), crc32(Buffer.from('Hello RocketMQ sync 1')) & 0x7fffffff);
});

t.test('BODYCRC values stored by the Java broker', async (t) => {
  // from client-results/consume-classic.jsonl (bodyCRC of the stored bodies)
  t.equal(maskedCrc32(Buffer.from('Hello RocketMQ sync 1')), 1536329807);
  t.equal(maskedCrc32(Buffer.from('Hello RocketMQ async')), 279189033);
  t.equal(maskedCrc32(Buffer.from('unicode body: 日本語テキスト ✓ émoji 🚀')), 661698398);
});
