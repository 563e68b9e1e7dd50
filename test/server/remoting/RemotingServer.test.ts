// The remoting layer on a loopback port: dispatch by code, errors as responses, oneway,
// serialize types, framing across and within writes, the in-flight bound, and the client's
// invoke bookkeeping (timeouts, opaque matching, closed connections, frame limit).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import {
  ConnectionClosedError,
  RemotingTimeoutError,
  type RemotingConnection,
} from '../../../client/RemotingConnection.js';
import { RemotingClient } from '../../../client/RemotingClient.js';
import { RemotingError } from '../../../protocol/remoting/errors.js';
import {
  createRequest,
  createResponse,
  encodeCommand,
  isResponse,
  SerializeType,
  type RemotingCommand,
} from '../../../protocol/remoting/RemotingCommand.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import { RemotingServer, type RemotingServerOptions } from '../../../server/remoting/RemotingServer.js';
import { RawConnection } from '../../helpers/rawConnection.js';

const ECHO = 500;
const FAIL_REMOTING = 501;
const FAIL_PLAIN = 502;
const FAIL_ASYNC = 503;
const FAIL_STRING = 504;

interface Harness {
  server: RemotingServer;
  logs: string[];
  /** Server-side connections, in accept order. */
  conns: RemotingConnection[];
}

async function startServer(
  t: Test,
  opts: Partial<RemotingServerOptions> = {},
  register: (s: RemotingServer) => void = () => undefined,
): Promise<Harness> {
  const logs: string[] = [];
  const server = new RemotingServer({ host: '127.0.0.1', port: 0, log: (l) => logs.push(l), ...opts });
  const conns: RemotingConnection[] = [];
  server.onConnection((c) => conns.push(c));
  register(server);
  await server.listen();
  t.teardown(() => server.close());
  return { server, logs, conns };
}

async function openRaw(t: Test, port: number): Promise<RawConnection> {
  const c = await RawConnection.open(port);
  t.teardown(() => c.end());
  return c;
}

/** Wait for a condition, yielding to the event loop (I/O included) between checks; bounded in time. */
async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** The promise, or a rejection after `ms` if it has not settled by then. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A bounded number of event-loop turns, to let anything that is going to happen, happen. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

function req(code: number, opaque: number, more: Partial<RemotingCommand> = {}): RemotingCommand {
  return { ...createRequest({ code, opaque }), ...more };
}

function echoProcessors(s: RemotingServer): void {
  s.register(ECHO, (r) => createResponse(r, ResponseCode.SUCCESS, { remark: 'echo', extFields: r.extFields, body: r.body }));
  s.register(FAIL_REMOTING, () => {
    throw new RemotingError(ResponseCode.TOPIC_NOT_EXIST, 'no route for topic Foo');
  });
  s.register(FAIL_PLAIN, () => {
    throw new Error('boom');
  });
  s.register(FAIL_ASYNC, async (r) => {
    await Promise.resolve();
    if (r.extFields?.kind === 'remoting') throw new RemotingError(ResponseCode.NO_PERMISSION, 'async no permission');
    throw new TypeError('async boom');
  });
  s.register(FAIL_STRING, () => {
    throw 'a string, not an Error';
  });
}

t.test('an unknown code gets REQUEST_CODE_NOT_SUPPORTED and the connection stays open', async (t) => {
  const h = await startServer(t, {}, echoProcessors);
  const c = await openRaw(t, h.server.port);
  const r = await c.command(req(4242, 17));
  t.equal(r.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  t.equal(r.remark, ' request type 4242 not supported');
  t.equal(r.opaque, 17, 'the response carries the request opaque');
  t.ok(isResponse(r), 'response bit set');
  const again = await c.command(req(ECHO, 18));
  t.equal(again.code, ResponseCode.SUCCESS, 'the same connection serves the next request');
  t.equal(h.logs.length, 0, 'nothing logged for an unknown code');
});

t.test('processor errors become responses', async (t) => {
  const h = await startServer(t, {}, echoProcessors);
  const c = await openRaw(t, h.server.port);

  const remoting = await c.command(req(FAIL_REMOTING, 1));
  t.equal(remoting.code, ResponseCode.TOPIC_NOT_EXIST, 'RemotingError keeps its code');
  t.equal(remoting.remark, 'no route for topic Foo', 'and its message is the remark');

  const plain = await c.command(req(FAIL_PLAIN, 2));
  t.equal(plain.code, ResponseCode.SYSTEM_ERROR, 'a plain Error is SYSTEM_ERROR');
  t.match(plain.remark, /boom/, 'with the error text');

  const asyncRemoting = await c.command(req(FAIL_ASYNC, 3, { extFields: { kind: 'remoting' } }));
  t.equal(asyncRemoting.code, ResponseCode.NO_PERMISSION, 'a rejected promise with RemotingError keeps its code');
  t.equal(asyncRemoting.remark, 'async no permission');

  const asyncPlain = await c.command(req(FAIL_ASYNC, 4));
  t.equal(asyncPlain.code, ResponseCode.SYSTEM_ERROR, 'a rejected promise with a TypeError is SYSTEM_ERROR');
  t.match(asyncPlain.remark, /async boom/);

  const str = await c.command(req(FAIL_STRING, 5));
  t.equal(str.code, ResponseCode.SYSTEM_ERROR, 'a thrown non-Error is SYSTEM_ERROR');
  t.match(str.remark, /a string, not an Error/);

  t.notOk(c.closed, 'errors never close the connection');
  t.equal(h.server.connectionCount, 1);
});

t.test('oneway requests get no response, whatever the processor does', async (t) => {
  const seen: number[] = [];
  const h = await startServer(t, {}, (s) => {
    echoProcessors(s);
    s.register(600, (r) => {
      seen.push(r.opaque);
      return createResponse(r, ResponseCode.SUCCESS);
    });
  });
  const c = await openRaw(t, h.server.port);
  const oneway = (code: number, opaque: number): Buffer => encodeCommand(createRequest({ code, opaque, oneway: true }));
  // Oneways to a processor that answers, to one that throws, to an unknown code; then a normal request.
  c.send(Buffer.concat([oneway(600, 1), oneway(FAIL_PLAIN, 2), oneway(FAIL_REMOTING, 3), oneway(9999, 4)]));
  const r = await c.command(req(ECHO, 5));
  t.equal(r.opaque, 5);
  t.same(seen, [1], 'the oneway reached its processor');
  t.same(
    c.received.map((x) => x.opaque),
    [5],
    'only the normal request was answered (requests on one connection are answered in order)',
  );
});

t.test('responses are in the request serialize type', async (t) => {
  const h = await startServer(t, {}, echoProcessors);
  const c = await openRaw(t, h.server.port);
  for (const serializeType of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    const name = serializeType === SerializeType.JSON ? 'JSON' : 'ROCKETMQ';
    const body = Buffer.from([0, 1, 2, 255]);
    const ok = await c.command(req(ECHO, 10 + serializeType, { serializeType, extFields: { topic: 'T', n: '7' }, body }));
    t.equal(ok.serializeType, serializeType, `${name}: success response`);
    t.same(ok.extFields, { topic: 'T', n: '7' }, `${name}: extFields round trip`);
    t.same(ok.body, body, `${name}: body round trip`);
    t.equal(ok.remark, 'echo');
    const err = await c.command(req(FAIL_REMOTING, 20 + serializeType, { serializeType }));
    t.equal(err.serializeType, serializeType, `${name}: error response`);
    t.equal(err.remark, 'no route for topic Foo');
    const unknown = await c.command(req(7777, 30 + serializeType, { serializeType }));
    t.equal(unknown.serializeType, serializeType, `${name}: not-supported response`);
    t.equal(unknown.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  }
});

/** Counts the bytes the server-side socket of the next accepted connection reads, chunk by chunk. */
function watchServerReads(h: Harness): { chunks: number[] } {
  const seen = { chunks: [] as number[] };
  h.server.onConnection((conn) => conn.socket.on('data', (b: Buffer) => seen.chunks.push(b.length)));
  return seen;
}

t.test('a frame arriving one byte at a time is served once it is whole', async (t) => {
  const h = await startServer(t, {}, echoProcessors);
  const reads = watchServerReads(h);
  const c = await openRaw(t, h.server.port);
  c.socket.setNoDelay(true);
  const frames = [
    encodeCommand(req(ECHO, 41, { extFields: { a: 'x' } })),
    encodeCommand(req(ECHO, 42, { serializeType: SerializeType.ROCKETMQ, extFields: { b: 'y' }, body: Buffer.from('body') })),
  ];
  let total = 0;
  const early: string[] = [];
  for (const [i, frame] of frames.entries()) {
    for (let k = 0; k < frame.length; k++) {
      c.send(frame.subarray(k, k + 1));
      total++;
      const want = total;
      await until(() => reads.chunks.reduce((a, b) => a + b, 0) === want, `server to read byte ${want}`);
      if (k < frame.length - 1 && c.received.length !== i) early.push(`frame ${i} answered after byte ${k + 1} of ${frame.length}`);
    }
    await until(() => c.received.length === i + 1, `answer to frame ${i}`);
  }
  t.same(early, [], 'nothing is answered before its frame is whole');
  t.equal(reads.chunks.length, total, 'the server really read one byte per chunk');
  t.same(c.received.map((x) => [x.opaque, x.code]), [[41, 0], [42, 0]]);
  t.same(c.received[1]?.body, Buffer.from('body'));
  t.equal(c.received[1]?.serializeType, SerializeType.ROCKETMQ);
});

t.test('several frames coalesced in one write, and frames split across writes, are all served in order', async (t) => {
  const h = await startServer(t, {}, echoProcessors);
  const reads = watchServerReads(h);
  const c = await openRaw(t, h.server.port);
  const parts = [
    encodeCommand(req(ECHO, 51)),
    encodeCommand(req(ECHO, 52, { serializeType: SerializeType.ROCKETMQ, extFields: { k: 'v' } })),
    encodeCommand(createRequest({ code: ECHO, opaque: 53, oneway: true })),
    encodeCommand(req(FAIL_PLAIN, 54)),
    encodeCommand(req(9999, 55)),
    encodeCommand(req(ECHO, 56, { body: Buffer.alloc(3000, 7) })),
  ];
  // Three writes, each read by the server before the next: the first ends inside frame 52, the
  // second completes it, carries 53-55 whole and ends inside 56, the third completes 56. So the
  // decoder cuts frames both from a fresh chunk and from bytes it carried over.
  const all = Buffer.concat(parts);
  const cuts = [(parts[0] as Buffer).length + 10, all.length - 1000, all.length];
  let from = 0;
  for (const cut of cuts.slice(0, -1)) {
    c.send(all.subarray(from, cut));
    const want = cut;
    await until(() => reads.chunks.reduce((a, b) => a + b, 0) === want, `server to read ${want} bytes`);
    from = cut;
  }
  const r = await c.request(all.subarray(from), 56);
  t.equal(reads.chunks.length, 3, 'the server read the stream in three chunks');
  t.equal(r.body?.length, 3000);
  t.same(
    c.received.map((x) => [x.opaque, x.code]),
    [
      [51, ResponseCode.SUCCESS],
      [52, ResponseCode.SUCCESS],
      [54, ResponseCode.SYSTEM_ERROR],
      [55, ResponseCode.REQUEST_CODE_NOT_SUPPORTED],
      [56, ResponseCode.SUCCESS],
    ],
  );
  t.equal(c.received[1]?.serializeType, SerializeType.ROCKETMQ);
});

t.test('in-flight bound: at most maxInFlightRequests served at once, all answered after release', async (t) => {
  const LIMIT = 4;
  const N = 20;
  const held: Array<{ opaque: number; release: () => void }> = [];
  let active = 0;
  let maxActive = 0;
  const h = await startServer(t, { maxInFlightRequests: LIMIT }, (s) =>
    s.register(ECHO, (r) => {
      active++;
      maxActive = Math.max(maxActive, active);
      return new Promise<RemotingCommand>((resolve) => {
        held.push({
          opaque: r.opaque,
          release: () => {
            active--;
            resolve(createResponse(r, ResponseCode.SUCCESS, { extFields: { n: String(r.opaque) } }));
          },
        });
      });
    }),
  );
  t.teardown(() => {
    for (const x of held.splice(0)) x.release();
  });
  const c = await openRaw(t, h.server.port);
  // A pipelining client: all 20 requests in one write.
  c.send(Buffer.concat(Array.from({ length: N }, (_, i) => encodeCommand(req(ECHO, 100 + i)))));
  await until(() => held.length >= LIMIT, 'the first requests to reach the processor');
  await turns(50); // a server that ignores the bound dispatches more now
  const serverConn = h.conns[0] as RemotingConnection;
  t.ok(active <= LIMIT, `no more than ${LIMIT} in the processor before any release (saw ${active})`, {
  });
  t.ok(serverConn.inFlightRequests <= LIMIT, `connection counts at most ${LIMIT} in flight (saw ${serverConn.inFlightRequests})`, {
  });
  t.ok(serverConn.socket.isPaused(), 'the server stopped reading the socket at the limit');

  // Release one at a time, oldest first; each release lets at most one more request in.
  let released = 0;
  while (released < N) {
    const next = held.shift();
    if (!next) throw new Error(`no held request after ${released} releases`);
    next.release();
    released++;
    const want = released;
    await until(() => c.received.length >= want && (held.length > 0 || want === N), `response ${want}`);
    await turns(5);
  }
  t.ok(maxActive <= LIMIT, `max ${LIMIT} served at once over the whole run (saw ${maxActive})`);
  t.equal(c.received.length, N, 'all 20 answered');
  t.same(
    c.received.map((x) => x.opaque).sort((a, b) => a - b),
    Array.from({ length: N }, (_, i) => 100 + i),
    'each request answered once',
  );
  t.ok(c.received.every((x) => x.extFields?.n === String(x.opaque)), 'each answer belongs to its request');
  t.equal(serverConn.inFlightRequests, 0);
  await until(() => !serverConn.socket.isPaused(), 'the server to resume reading');
  t.equal((await c.command(req(4242, 999))).code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, 'the connection serves again');
});

t.test('RemotingClient: invoke timeout rejects with RemotingTimeoutError; a late answer is dropped', async (t) => {
  const held: Array<() => void> = [];
  const h = await startServer(t, {}, (s) => {
    echoProcessors(s);
    s.register(700, (r) => new Promise<RemotingCommand>((resolve) => held.push(() => resolve(createResponse(r, 0)))));
  });
  t.teardown(() => {
    for (const r of held.splice(0)) r();
  });
  const client = new RemotingClient();
  t.teardown(() => client.close());
  const addr = `127.0.0.1:${h.server.port}`;
  const conn = await client.connection(addr);
  const started = Date.now();
  await t.rejects(within(client.invoke(addr, createRequest({ code: 700 }), 50), 2000, 'the invoke'), RemotingTimeoutError);
  t.ok(Date.now() - started < 1500, 'the timeout fired about when asked');
  t.equal(conn.pendingInvokes, 0, 'the timed-out invoke is no longer pending');
  t.equal(held.length, 1, 'the server did receive the request');
  held.shift()?.();
  const r = await client.invoke(addr, createRequest({ code: ECHO, extFields: { after: 'late' } }), 2000);
  t.same(r.extFields, { after: 'late' }, 'the next invoke gets its own answer, not the late one');
  t.notOk(conn.isClosed, 'a late answer does not disturb the connection');
});

t.test('RemotingClient: responses are matched by opaque when answered out of order', async (t) => {
  const held = new Map<string, (remark: string) => void>();
  const h = await startServer(t, {}, (s) =>
    s.register(710, (r) => {
      const n = r.extFields?.n ?? '?';
      return new Promise<RemotingCommand>((resolve) =>
        held.set(n, (remark) => resolve(createResponse(r, ResponseCode.SUCCESS, { remark, extFields: { n } }))),
      );
    }),
  );
  t.teardown(() => {
    for (const r of held.values()) r('teardown');
  });
  const client = new RemotingClient();
  t.teardown(() => client.close());
  const addr = `127.0.0.1:${h.server.port}`;
  const done: string[] = [];
  const invokes = ['1', '2', '3', '4'].map((n) =>
    client.invoke(addr, createRequest({ code: 710, extFields: { n } }), 3000).then((r) => {
      done.push(n);
      return r;
    }),
  );
  await until(() => held.size === 4, 'all four requests at the server');
  for (const n of ['3', '1', '4', '2']) {
    held.get(n)?.(`answer ${n}`);
    await until(() => done.includes(n), `invoke ${n} to resolve`);
  }
  const results = await Promise.all(invokes);
  t.same(done, ['3', '1', '4', '2'], 'each invoke resolved when its own answer came');
  t.same(
    results.map((r) => [r.extFields?.n, r.remark]),
    [
      ['1', 'answer 1'],
      ['2', 'answer 2'],
      ['3', 'answer 3'],
      ['4', 'answer 4'],
    ],
  );
  t.equal(new Set(results.map((r) => r.opaque)).size, 4, 'four distinct opaques');
});

t.test('RemotingClient: pending invokes reject with ConnectionClosedError when the server closes', async (t) => {
  const h = await startServer(t, {}, (s) => {
    echoProcessors(s);
    s.register(720, () => new Promise<RemotingCommand>(() => undefined)); // never answers
  });
  const client = new RemotingClient();
  t.teardown(() => client.close());
  const addr = `127.0.0.1:${h.server.port}`;
  const conn = await client.connection(addr);
  const a = client.invoke(addr, createRequest({ code: 720 }), 5000);
  const b = client.invoke(addr, createRequest({ code: 720 }), 5000);
  await until(() => h.conns[0]?.inFlightRequests === 2, 'both requests in the processor');
  t.equal(conn.pendingInvokes, 2);
  h.conns[0]?.close();
  await t.rejects(within(a, 2000, 'first pending invoke'), ConnectionClosedError);
  await t.rejects(within(b, 2000, 'second pending invoke'), ConnectionClosedError);
  t.equal(conn.pendingInvokes, 0);
  t.ok(conn.isClosed);
  await t.rejects(conn.invoke(createRequest({ code: ECHO }), 1000), ConnectionClosedError, 'a closed connection refuses new invokes');
  await until(() => h.server.connectionCount === 0, 'the server to forget the connection');
  const r = await client.invoke(addr, createRequest({ code: ECHO, extFields: { again: '1' } }), 2000);
  t.same(r.extFields, { again: '1' }, 'the client opens a new connection for the next invoke');
  t.not(await client.connection(addr), conn);
});

t.test('a frame over maxFrameLength closes that connection only, with one log line', async (t) => {
  const LIMIT = 1024;
  const h = await startServer(t, { maxFrameLength: LIMIT }, echoProcessors);
  const healthy = await openRaw(t, h.server.port);
  const bad = await openRaw(t, h.server.port);
  t.equal((await healthy.command(req(ECHO, 1))).code, 0);

  // A request of exactly the limit is served.
  const probe = encodeCommand(req(ECHO, 2));
  const atLimit = encodeCommand(req(ECHO, 2, { body: Buffer.alloc(LIMIT - (probe.length - 4), 1) }));
  t.equal(atLimit.readUInt32BE(0), LIMIT, 'test frame is exactly at the limit');
  t.equal((await bad.request(atLimit, 2)).code, ResponseCode.SUCCESS, 'a frame of exactly maxFrameLength is served');

  const over = encodeCommand(req(ECHO, 3, { body: Buffer.alloc(LIMIT, 1) }));
  bad.send(over.subarray(0, 16)); // the length prefix alone is enough to refuse it
  await bad.whenClosed(2000);
  t.equal(bad.received.length, 1, 'no answer to the oversized frame');
  t.equal(h.logs.length, 1, 'one log line');
  t.match(h.logs[0], /closing connection .*bad frame: frame length \d+ exceeds the limit of 1024 bytes/);
  t.notOk(healthy.closed, 'the other connection is open');
  t.equal((await healthy.command(req(ECHO, 4))).code, 0, 'and still served');
  await until(() => h.server.connectionCount === 1, 'the server to drop the bad connection');
});

t.test('a response that cannot be encoded does not take the server down', async (t) => {
  // Run in a child process: if the bug is present the process dies, which must not kill this test.
  const serverModule = fileURLToPath(new URL('../../../server/remoting/RemotingServer.js', import.meta.url));
  const commandModule = fileURLToPath(new URL('../../../protocol/remoting/RemotingCommand.js', import.meta.url));
  const script = `
    const { RemotingServer } = await import(${JSON.stringify(serverModule)});
    const { createResponse } = await import(${JSON.stringify(commandModule)});
    const s = new RemotingServer({ host: '127.0.0.1', port: 0, log: () => {} });
    // 16 MiB of remark: the header no longer fits the 24-bit length field.
    s.register(${ECHO}, (r) => createResponse(r, 0, { remark: r.extFields?.big ? 'x'.repeat(0x1000000) : 'ok' }));
    await s.listen();
    process.stdout.write('port=' + s.port + '\\n');
  `;
  // A plain node: without tap's NODE_OPTIONS hooks the child starts in a fraction of the time.
  const env = { ...process.env, NODE_OPTIONS: '' };
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill();
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('child server did not start')), 5000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /port=(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  const c = await openRaw(t, port);
  c.send(encodeCommand(req(ECHO, 1, { extFields: { big: '1' } })));
  // Either an error answer or a closed connection is acceptable; then see whether the server lives.
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      c.socket.off('data', done).off('close', done);
      resolve();
    };
    const timer = setTimeout(done, 3000);
    c.socket.on('data', done).on('close', done);
  });
  if (c.received[0]) t.equal(c.received[0].code, ResponseCode.SYSTEM_ERROR, 'the unencodable response became SYSTEM_ERROR');
  // A new connection and a well-formed request; a dead child settles this at once.
  const answer = await Promise.race([
    exited.then(() => undefined),
    (async () => {
      const again = await RawConnection.open(port);
      t.teardown(() => again.end());
      return again.command(req(ECHO, 2), 3000);
    })().catch(() => undefined),
  ]);
  t.equal(answer?.remark, 'ok', 'the server still answers a new connection', {
    ...(child.exitCode !== null ? { diagnostic: true, childStderr: stderr.split('\n').slice(-4).join('\n') } : {}),
  });
  // Without an answer the child is dying or dead; its exit event may trail the refused connection.
  if (!answer) await within(exited, 2000, 'child exit').catch(() => undefined);
  t.equal(child.exitCode, null, 'the server process is alive');
  if (child.exitCode === null) child.kill();
  await exited;
});

t.test('onWritten: called once after the socket took the response, and when the connection closed first', async (t) => {
  const WRITTEN = 510;
  const HELD = 511;
  const calls: string[] = [];
  let releaseHeld: (() => void) | undefined;
  const h = await startServer(t, {}, (s) => {
    s.register(WRITTEN, (r) =>
      createResponse(r, ResponseCode.SUCCESS, { body: Buffer.from(`body ${r.opaque}`), onWritten: () => calls.push(`written ${r.opaque}`) }),
    );
    s.register(
      HELD,
      (r) =>
        new Promise<RemotingCommand>((resolve) => {
          releaseHeld = () => resolve(createResponse(r, ResponseCode.SUCCESS, { body: Buffer.from('late'), onWritten: () => calls.push('held') }));
        }),
    );
  });
  const c = await openRaw(t, h.server.port);
  const r = await c.command(req(WRITTEN, 7));
  t.equal(r.body?.toString(), 'body 7', 'the body went out whole');
  await until(() => calls.length > 0, 'the write callback');
  await turns(5);
  t.same(calls, ['written 7'], 'called once, for that response');

  c.send(encodeCommand(req(HELD, 8)));
  await until(() => releaseHeld !== undefined, 'the held request to reach its processor');
  c.end();
  await until(() => h.conns[0]!.isClosed, 'the server to see the close');
  releaseHeld!();
  await until(() => calls.length > 1, 'the callback of a response to a closed connection');
  await turns(5);
  t.same(calls, ['written 7', 'held'], 'a response the connection cannot write is released too, once');
});
