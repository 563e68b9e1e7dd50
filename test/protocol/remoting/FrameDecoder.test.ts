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

t.test('a stream cut into chunks at random places: every frame, in order; the bytes around a spanning frame are not copied', async (t) => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const payloads = Array.from({ length: 300 }, (_, i) => `${i}:${'p'.repeat(4 + rand(900))}`);
  const all = Buffer.concat(payloads.map(frame));
  const d = new FrameDecoder();
  const out: string[] = [];
  let viewsAfterSpan = 0;
  for (let at = 0; at < all.length; ) {
    const chunk = Buffer.from(all.subarray(at, at + 1 + rand(3000))); // a buffer of its own, as a socket gives
    const spanning = d.pendingBytes > 0;
    const frames = d.push(chunk);
    for (const [k, f] of frames.entries()) {
      out.push(f.toString());
      if (spanning && k > 0) {
        t.equal(f.buffer, chunk.buffer, `frame ${out.length - 1}, after a spanning one, is a view into its chunk`);
        viewsAfterSpan++;
      }
    }
    at += chunk.length;
  }
  t.same(out, payloads, 'all 300 frames, in order');
  t.equal(d.pendingBytes, 0, 'nothing left over');
  t.ok(viewsAfterSpan > 20, `frames after a spanning one checked (${viewsAfterSpan})`);
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
