import t from 'tap';
import {
  createRequest,
  createResponse,
  decodeCommand,
  encodeCommand,
  encodeCommandParts,
  isOneway,
  jsonHeaderText,
  isResponse,
  SerializeType,
  type RemotingCommand,
} from '../../../protocol/remoting/RemotingCommand.js';
import { FrameError } from '../../../protocol/remoting/errors.js';
import { writeJsonHeader } from '../../../protocol/remoting/jsonHeader.js';
import { captureNames, loadCapture } from '../../helpers/fixtures.js';

const strip = (frame: Buffer): Buffer => frame.subarray(4);

t.test('the spec worked example: JSON GET_ROUTEINFO_BY_TOPIC', async (t) => {
  const header =
    '{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}';
  const cmd = createRequest({ code: 105, extFields: { topic: 'T' }, opaque: 1 });
  const bytes = encodeCommand(cmd);
  t.equal(bytes.readUInt32BE(0), 4 + header.length);
  t.equal(bytes.readUInt32BE(4), header.length);
  t.equal(bytes.subarray(8).toString(), header, 'byte-identical to the Java header');
});

t.test('the spec worked example: ROCKETMQ binary header', async (t) => {
  const expected = Buffer.from(
    '00000025' + '01000021' + '0069' + '00' + '0199' + '00000001' + '00000000' + '00000000' + '0000000c' +
      '0005' + Buffer.from('topic').toString('hex') + '00000001' + Buffer.from('T').toString('hex'),
    'hex',
  );
  const cmd = createRequest({ code: 105, extFields: { topic: 'T' }, opaque: 1, serializeType: SerializeType.ROCKETMQ });
  t.same(encodeCommand(cmd), expected);
  const back = decodeCommand(strip(expected));
  t.match(back, { code: 105, language: 'JAVA', version: 409, opaque: 1, flag: 0, extFields: { topic: 'T' } });
  t.equal(back.serializeType, SerializeType.ROCKETMQ);
});

t.test('responses keep opaque and serialize type; flag bits', async (t) => {
  for (const st of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    const req = createRequest({ code: 11, opaque: 77, serializeType: st, oneway: true });
    t.ok(isOneway(req));
    t.notOk(isResponse(req));
    const res = createResponse(req, 19, { remark: 'OFFSET_OVERFLOW_ONE', extFields: { nextBeginOffset: '5' }, body: Buffer.from('xy') });
    const back = decodeCommand(strip(encodeCommand(res)));
    t.equal(back.serializeType, st);
    t.equal(back.opaque, 77);
    t.ok(isResponse(back));
    t.equal(back.remark, 'OFFSET_OVERFLOW_ONE');
    t.same(back.extFields, { nextBeginOffset: '5' });
    t.equal(back.body?.toString(), 'xy');
  }
});

t.test('extFields values sent as numbers and booleans become strings (ali-ons)', async (t) => {
  const header = '{"code":310,"extFields":{"a":"G","e":3,"k":false,"g":1700000000000,"n":null},"flag":0,"language":"JAVA","opaque":9,"version":121}';
  const frame = Buffer.alloc(4 + header.length);
  frame.writeUInt32BE(header.length, 0);
  frame.write(header, 4);
  const cmd = decodeCommand(frame);
  t.same(cmd.extFields, { a: 'G', e: '3', k: 'false', g: '1700000000000' });
  t.equal(cmd.version, 121);
});

t.test('language may be a name, a number or unknown', async (t) => {
  const make = (lang: string): Buffer => {
    const h = `{"code":34,"language":${lang},"opaque":1,"flag":0,"version":317}`;
    const f = Buffer.alloc(4 + h.length);
    f.writeUInt32BE(h.length, 0);
    f.write(h, 4);
    return f;
  };
  t.equal(decodeCommand(make('"GO"')).language, 'GO');
  t.equal(decodeCommand(make('9')).language, 'GO');
  t.equal(decodeCommand(make('"HTTP"')).language, 'HTTP');
});

t.test('malformed headers are FrameErrors', async (t) => {
  const withHeader = (h: Buffer | string, type = 0, declared?: number): Buffer => {
    const hb = Buffer.isBuffer(h) ? h : Buffer.from(h);
    const f = Buffer.alloc(4 + hb.length);
    f.writeUInt32BE(((type << 24) | (declared ?? hb.length)) >>> 0, 0);
    hb.copy(f, 4);
    return f;
  };
  t.throws(() => decodeCommand(withHeader('{"code":1')), FrameError, 'truncated JSON');
  t.throws(() => decodeCommand(withHeader('[1,2]')), FrameError, 'not an object');
  t.throws(() => decodeCommand(withHeader('{"opaque":1}')), /no "code"/);
  t.throws(() => decodeCommand(withHeader('{"code":"abc"}')), /not a 32-bit integer/);
  t.throws(() => decodeCommand(withHeader('{"code":1,"extFields":[1]}')), /not an object/);
  t.throws(() => decodeCommand(withHeader('{"code":1,"extFields":{"a":{"b":1}}}')), /not a scalar/);
  t.throws(() => decodeCommand(withHeader('{"code":1}', 0, 500)), /exceeds the frame/);
  t.throws(() => decodeCommand(withHeader('{"code":1}', 7)), /unknown serialize type 7/);
  t.throws(() => decodeCommand(withHeader(Buffer.alloc(10), 1)), /shorter than its fixed 21 bytes/);
  const badRemark = Buffer.alloc(21);
  badRemark.writeInt32BE(1000, 13);
  t.throws(() => decodeCommand(withHeader(badRemark, 1)), /remark length 1000/);
  const badExt = Buffer.alloc(21);
  badExt.writeInt32BE(5, 17);
  t.throws(() => decodeCommand(withHeader(badExt, 1)), /extFields length 5/);
});

t.test('binary header: empty values are dropped like Java reads them as null', async (t) => {
  const cmd = createRequest({ code: 1, extFields: { a: '', b: 'x' }, serializeType: SerializeType.ROCKETMQ });
  t.same(decodeCommand(strip(encodeCommand(cmd))).extFields, { b: 'x' });
});

function comparable(c: RemotingCommand): unknown {
  // The binary header cannot tell an empty extFields map from none (Java reads both as null).
  const ext = c.extFields && Object.keys(c.extFields).length > 0 ? c.extFields : undefined;
  return { ...c, serializeType: undefined, extFields: ext, body: c.body ? c.body.toString('hex') : undefined };
}

t.test('every captured frame decodes, and decode -> encode -> decode is stable', async (t) => {
  let count = 0;
  const problems: string[] = [];
  for (const name of captureNames()) {
    for (const f of loadCapture(name)) {
      const cmd = decodeCommand(strip(f.bytes));
      if (cmd.code !== f.code || cmd.flag !== f.flag || cmd.opaque !== f.opaque) problems.push(`${name}#${f.i}: fixed fields`);
      for (const st of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
        if (st === SerializeType.ROCKETMQ && (cmd.code > 32767 || cmd.code < -32768)) continue;
        const again = decodeCommand(strip(encodeCommand({ ...cmd, serializeType: st })));
        if (JSON.stringify(comparable(again)) !== JSON.stringify(comparable(cmd))) problems.push(`${name}#${f.i}: round trip ${st}`);
      }
      count++;
    }
  }
  t.ok(count > 700, `decoded ${count} captured frames`);
  t.same(problems, [], 'every frame decodes to the captured fields and survives both encodings');
});

t.test('JSON headers written byte by byte are the bytes of jsonHeaderText, escapes and non-ASCII included', async (t) => {
  let seed = 3;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 12) % n;
  };
  // plain characters mostly; now and then one that needs escaping, is not ASCII, or is a lone
  // surrogate (which JSON.stringify escapes: the text path)
  const pieces = ['a', 'Z', '0', ' ', '-', '_', '~', '{', ':', ',', '\u0001', '\u0002', '"', '\\', '\u00e9', '\u4e2d', '\u{1f600}', '\n', '\b', '\t', '\u001f', '\u007f', '/', '\ud800', '\udfff'];
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  const text = (max: number): string => {
    let s = '';
    const n = rand(max);
    for (let i = 0; i < n; i++) s += pieces[rand(40) < 34 ? rand(10) : 10 + rand(pieces.length - 10)];
    return s;
  };
  const ints = [0, 1, -1, 9, 10, 409, -409, 2147483647, -2147483648, 123456789];
  const scratch = Buffer.alloc(4096);
  let written = 0;
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const extFields: Record<string, string> = {};
    const fields = rand(6);
    for (let f = 0; f < fields; f++) extFields[text(6) || `k${f}`] = rand(50) === 0 ? 'x'.repeat(5000) : text(30);
    const cmd: RemotingCommand = {
      code: ints[rand(ints.length)]!,
      language: rand(10) === 0 ? text(6) : 'JAVA',
      version: ints[rand(ints.length)]!,
      opaque: ints[rand(ints.length)]!,
      flag: rand(4),
      remark: rand(3) === 0 ? text(20) : undefined,
      extFields: rand(5) === 0 ? undefined : extFields,
      serializeType: SerializeType.JSON,
    };
    const want = Buffer.from(jsonHeaderText(cmd), 'utf8');
    // the frame, whichever path wrote it
    const head = encodeCommandParts(cmd)[0]!;
    if (!head.subarray(8).equals(want) || (head.readUInt32BE(4) & 0xffffff) !== want.length) {
      t.fail(`command ${i}: ${head.subarray(8).toString()} (length field ${head.readUInt32BE(4) & 0xffffff}) is not ${want.toString()}`);
      break;
    }
    // the byte writer itself: the same bytes, or a refusal only for a lone surrogate or no room
    const end = writeJsonHeader(cmd, scratch, 3);
    const strings = [cmd.language, cmd.remark ?? '', ...Object.entries(cmd.extFields ?? {}).flat()];
    if (end < 0) {
      refused++;
      if (!strings.some((x) => lone.test(x)) && 3 + want.length <= scratch.length) {
        t.fail(`command ${i}: refused, though it fits and has no lone surrogate: ${want.toString()}`);
        break;
      }
    } else {
      written++;
      if (!scratch.subarray(3, end).equals(want)) {
        t.fail(`command ${i}: the writer gave ${scratch.subarray(3, end).toString()}, not ${want.toString()}`);
        break;
      }
    }
  }
  t.ok(written > 1000 && refused > 100, `3000 headers equal; ${written} written byte by byte, ${refused} left to the text path`);
});
