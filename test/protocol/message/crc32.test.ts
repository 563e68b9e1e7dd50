import t from 'tap';
import { crc32, fastCrc32Available, maskedCrc32 } from '../../../protocol/crc32.js';

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

t.test('both implementations agree with zlib: every length around the switch, views at odd offsets, continued CRCs', async (t) => {
  // linux-x64 has a prebuilt binary: an install that lost it would only be slower, so say it here
  if (process.platform === 'linux' && process.arch === 'x64') t.ok(fastCrc32Available, '@node-rs/crc32 is loaded');
  const zlib = await import('node:zlib');
  const seed = Buffer.alloc(70_000);
  let x = 12345;
  for (let i = 0; i < seed.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    seed[i] = x >>> 24;
  }
  let bad = 0;
  const lengths = [0, 1, 43, 44, 255, 256, 257, 1024, 1025, 4096, 65_536];
  for (let len = 200; len < 320; len++) lengths.push(len);
  for (const len of lengths) {
    for (const off of [0, 1, 7, 3001]) {
      const view = seed.subarray(off, off + len);
      const expected = zlib.crc32(view) >>> 0;
      if (crc32(view) !== expected) bad++;
      if (crc32(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)) !== expected) bad++;
      // continued: the CRC of a + b from the CRC of a
      const cut = len >> 1;
      if (crc32(view.subarray(cut), crc32(view.subarray(0, cut))) !== expected) bad++;
    }
  }
  t.equal(bad, 0, `${lengths.length * 4 * 3} checks`);
});
