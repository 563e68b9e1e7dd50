// Our name server, fed the captured requests of the real broker and tools, answers with the
// same content as the real Java 4.9.8 name server did (timestamps and versions aside).
import t, { type Test } from 'tap';
import { parseLenientJson } from '../../../protocol/json/lenientJson.js';
import { createRequest, decodeCommand, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { loadCapture, type CapturedFrame } from '../../helpers/fixtures.js';
import { startNamesrv } from '../../helpers/namesrv.js';
import { RawConnection } from '../../helpers/rawConnection.js';

function responseTo(frames: CapturedFrame[], req: CapturedFrame): RemotingCommand {
  const f = frames.find((x) => x.conn === req.conn && x.dir === 's2c' && x.opaque === req.opaque && (x.flag & 1) === 1);
  if (!f) throw new Error(`no captured response to frame ${req.i}`);
  return decodeCommand(f.bytes.subarray(4));
}

/** Topic lists come out in Java's hash order; compare them as sets. */
function normalize(doc: unknown): unknown {
  if (Array.isArray(doc)) return doc.map(normalize);
  if (doc && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) {
      const v = o[k];
      out[k] = k === 'topicList' && Array.isArray(v) ? [...v].sort() : normalize(v);
    }
    return out;
  }
  return doc;
}

const body = (c: RemotingCommand): unknown => normalize(parseLenientJson(c.body?.toString('utf8') ?? '{}'));

/** Replay every c2s namesrv request of a capture, connection by connection, in capture order. */
/** Connections stay open until the test ends: a broker whose connection closes is removed at once. */
async function replay(
  t: Test,
  port: number,
  frames: CapturedFrame[],
  onResponse: (req: CapturedFrame, ours: RemotingCommand) => void,
): Promise<void> {
  const conns = new Map<number, RawConnection>();
  t.teardown(() => {
    for (const c of conns.values()) c.end();
  });
  {
    for (const f of frames) {
      if (f.dir !== 'c2s' || !f.server.endsWith(':9876')) continue;
      let conn = conns.get(f.conn);
      if (!conn) conns.set(f.conn, (conn = await RawConnection.open(port)));
      if ((f.flag & 2) !== 0) {
        conn.send(f.bytes);
        // A request after a oneway on the same connection answers only after the oneway was served.
        await conn.command(createRequest({ code: RequestCode.GET_KV_CONFIG, opaque: 0x7ffffff0, extFields: { namespace: 'x', key: 'y' } }));
      } else {
        onResponse(f, await conn.request(f.bytes, f.opaque));
      }
    }
  }
}

t.test('classic broker: register, then route and cluster info as mqadmin saw them', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const register = loadCapture('a-register');
  await replay(t, ns.port, register.slice(0, 2), (req, ours) => {
    const theirs = responseTo(register, req);
    t.equal(ours.code, theirs.code, 'REGISTER_BROKER answered with the same code');
    t.same(ours.extFields, theirs.extFields, 'and the same (empty) response header for a master');
  });
  for (const name of ['b-clusterList', 'b-topicList']) {
    const frames = loadCapture(name);
    await replay(t, ns.port, frames, (req, ours) => {
      const theirs = responseTo(frames, req);
      t.equal(ours.code, theirs.code, `${name} code ${req.code}`);
      t.same(body(ours), body(theirs), `${name} code ${req.code}: same body content`);
    });
  }
});

t.test('DLedger group: role-change registrations (some oneway), then route and cluster info', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const frames = loadCapture('e-startup');
  let compared = 0;
  await replay(t, ns.port, frames, (req, ours) => {
    const theirs = responseTo(frames, req);
    t.equal(ours.code, theirs.code, `code ${req.code} (#${req.i})`);
    if (req.code === RequestCode.REGISTER_BROKER) {
      t.same(ours.extFields, theirs.extFields, `REGISTER_BROKER #${req.i}: same masterAddr / haServerAddr`);
    } else {
      t.same(body(ours), body(theirs), `code ${req.code}: same body content`);
      compared++;
    }
  });
  t.equal(compared, 2, 'route (105) and cluster info (106) were compared');
  const route = ns.routes.getRouteInfo('TBW102');
  t.same([...(route?.brokerDatas[0]?.brokerAddrs.entries() ?? [])].sort(), [
    [0, '127.0.0.1:30911'],
    [2, '127.0.0.1:30921'],
    [3, '127.0.0.1:30931'],
  ]);
});

t.test('unknown topic: TOPIC_NOT_EXIST with the Java remark', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const frames = loadCapture('d-pushconsumer');
  const notFound = frames.filter((f) => f.dir === 's2c' && f.code === 17);
  t.ok(notFound.length > 0, 'the capture has TOPIC_NOT_EXIST answers');
  const theirResponse = decodeCommand((notFound[0] as CapturedFrame).bytes.subarray(4));
  const req = frames.find((f) => f.dir === 'c2s' && f.opaque === theirResponse.opaque && f.code === 105) as CapturedFrame;
  const conn = await RawConnection.open(ns.port);
  t.teardown(() => conn.end());
  const ours = await conn.request(req.bytes, req.opaque);
  t.equal(ours.code, 17);
  t.equal(ours.remark?.split('\n')[0]?.split(', ')[0], theirResponse.remark?.split('\n')[0]?.split(', ')[0]);
});

t.test('a register body whose CRC does not match is refused and not applied', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const f = loadCapture('a-register')[0] as CapturedFrame;
  const cmd = decodeCommand(Buffer.from(f.bytes.subarray(4)));
  cmd.extFields = { ...cmd.extFields, bodyCrc32: '12345' };
  const conn = await RawConnection.open(ns.port);
  t.teardown(() => conn.end());
  const res = await conn.command(cmd);
  t.equal(res.code, 1);
  t.equal(res.remark, 'crc32 not match');
  t.equal(ns.routes.brokerAddrTable.size, 0);
});
