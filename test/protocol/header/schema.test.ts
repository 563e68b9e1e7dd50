import t from 'tap';
import { PullMessageRequestHeader, SendMessageRequestHeaderV2, sendHeaderFromV2, sendHeaderToV2 } from '../../../protocol/header/broker.js';
import { GetRouteInfoRequestHeader, RegisterBrokerRequestHeader } from '../../../protocol/header/namesrv.js';
import { HeaderFieldError } from '../../../protocol/remoting/errors.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import { decodeCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { loadCapture } from '../../helpers/fixtures.js';

t.test('typed values from strings', async (t) => {
  const h = PullMessageRequestHeader.decode({
    consumerGroup: 'G', topic: 'T', queueId: '3', queueOffset: '9007199254740991', maxMsgNums: ' 32 ', sysFlag: '-2',
    commitOffset: '0', suspendTimeoutMillis: '15000', subVersion: '1700000000000', subscription: '*',
  });
  t.equal(h.queueId, 3);
  t.equal(h.queueOffset, Number.MAX_SAFE_INTEGER, 'a long up to 2^53-1 is exact');
  t.equal(h.maxMsgNums, 32, 'spaces around a number are accepted');
  t.equal(h.sysFlag, -2);
  t.equal(h.expressionType, undefined, 'an absent optional field stays undefined');
});

t.test('booleans follow Java: true iff "true" ignoring case', async (t) => {
  t.equal(GetRouteInfoRequestHeader.decode({ topic: 'x', acceptStandardJsonOnly: 'TRUE' }).acceptStandardJsonOnly, true);
  t.equal(GetRouteInfoRequestHeader.decode({ topic: 'x', acceptStandardJsonOnly: 'yes' }).acceptStandardJsonOnly, false);
});

t.test('missing and malformed fields are SYSTEM_ERROR with the field named', async (t) => {
  const err = t.throws(() => GetRouteInfoRequestHeader.decode({})) as HeaderFieldError;
  t.type(err, HeaderFieldError);
  t.equal(err.code, ResponseCode.SYSTEM_ERROR);
  t.equal(err.message, 'GetRouteInfoRequestHeader: the custom field topic is null');
  t.throws(() => GetRouteInfoRequestHeader.decode(undefined), /topic is null/);
  const base = { brokerName: 'b', brokerAddr: 'a:1', clusterName: 'c', haServerAddr: 'a:2' };
  t.throws(() => RegisterBrokerRequestHeader.decode({ ...base, brokerId: 'x1' }), /brokerId is not a 64-bit integer we can hold: "x1"/);
  t.throws(() => RegisterBrokerRequestHeader.decode({ ...base, brokerId: '9007199254740993' }), /brokerId is not a 64-bit integer/);
  t.throws(() => RegisterBrokerRequestHeader.decode({ ...base, brokerId: '0', bodyCrc32: '2147483648' }), /bodyCrc32 is not a 32-bit integer/);
  t.throws(() => RegisterBrokerRequestHeader.decode({ ...base, brokerId: '' }), /not a 64-bit integer/);
  t.throws(() => RegisterBrokerRequestHeader.decode({ ...base, brokerId: '1.5' }), /not a 64-bit integer/);
});

t.test('encode writes strings and skips undefined', async (t) => {
  t.same(GetRouteInfoRequestHeader.encode({ topic: 'T', acceptStandardJsonOnly: undefined }), { topic: 'T' });
  const ext = PullMessageRequestHeader.encode({
    subscription: '*', consumerGroup: 'G', topic: 'T', queueId: 3, queueOffset: 9007199254740991, maxMsgNums: 32, sysFlag: -2,
    commitOffset: 0, suspendTimeoutMillis: 15000, subVersion: 1700000000000, expressionType: null as unknown as undefined,
  });
  t.strictSame(ext, {
    consumerGroup: 'G', topic: 'T', queueId: '3', queueOffset: '9007199254740991', maxMsgNums: '32', sysFlag: '-2',
    commitOffset: '0', suspendTimeoutMillis: '15000', subscription: '*', subVersion: '1700000000000',
  }, 'numbers become their decimal text, a null is skipped');
  t.same(Object.keys(ext), Object.keys(PullMessageRequestHeader.schema).filter((k) => k in ext), 'in the schema order');
  t.strictSame(PullMessageRequestHeader.decode(ext), {
    consumerGroup: 'G', topic: 'T', queueId: 3, queueOffset: 9007199254740991, maxMsgNums: 32, sysFlag: -2,
    commitOffset: 0, suspendTimeoutMillis: 15000, subscription: '*', subVersion: 1700000000000,
  }, 'and decodes back to the values, without the absent fields');
});

t.test('the captured SEND_MESSAGE_V2 headers decode and map to the V1 names', async (t) => {
  const sends = loadCapture('c-producer').filter((f) => f.dir === 'c2s' && (f.code === 310 || f.code === 320));
  t.ok(sends.length >= 6);
  for (const f of sends) {
    const v2 = SendMessageRequestHeaderV2.decode(decodeCommand(f.bytes.subarray(4)).extFields);
    const v1 = sendHeaderFromV2(v2);
    t.equal(v1.topic, 'FxTopic');
    t.equal(v1.producerGroup, 'FxProducerGroup');
    t.equal(v1.defaultTopic, 'TBW102');
    t.equal(v1.batch, f.code === 320);
    t.same(sendHeaderToV2(v1), v2, 'V1 <-> V2 mapping is lossless');
  }
});
