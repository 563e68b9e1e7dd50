import t from 'tap';
import { FrameDecoder } from '../../../protocol/remoting/FrameDecoder.js';
import { FrameError } from '../../../protocol/remoting/errors.js';

function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

t.test('whole frames in one chunk come out one by one', async (t) => {
  const d = new FrameDecoder();
  const frames = d.push(Buffer.concat([frame('aaaa1'), frame('bbbb22'), frame('cccc333')]));
  t.same(frames.map((f) => f.toString()), ['aaaa1', 'bbbb22', 'cccc333']);
  t.equal(d.pendingBytes, 0);
});

t.test('a frame split at every byte boundary is reassembled', async (t) => {
  const all = Buffer.concat([frame('header-and-body'), frame('second!!')]);
  for (let cut = 1; cut < all.length; cut++) {
    const d = new FrameDecoder();
    const out = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
    t.same(out.map((f) => f.toString()), ['header-and-body', 'second!!'], `cut at ${cut}`);
  }
});

t.test('one byte at a time', async (t) => {
  const all = Buffer.concat([frame('xxxxABC'), frame('yyyyDEFG')]);
  const d = new FrameDecoder();
  const out: string[] = [];
  for (const b of all) out.push(...d.push(Buffer.from([b])).map((f) => f.toString()));
  t.same(out, ['xxxxABC', 'yyyyDEFG']);
});

t.test('lengths the protocol cannot have are errors', async (t) => {
  const small = Buffer.alloc(4);
  small.writeUInt32BE(3, 0);
  t.throws(() => new FrameDecoder().push(small), FrameError);
  const big = Buffer.alloc(4);
  big.writeUInt32BE(16 * 1024 * 1024 + 1, 0);
  t.throws(() => new FrameDecoder().push(big), /exceeds the limit of 16777216/);
  const exact = Buffer.alloc(4);
  exact.writeUInt32BE(16 * 1024 * 1024, 0);
  t.same(new FrameDecoder().push(exact), [], 'a frame of exactly 16 MiB is allowed and waits for its bytes');
  t.throws(() => new FrameDecoder(100).push(frame('x'.repeat(101))), /exceeds the limit of 100/);
});
