import t from 'tap';
import zlib from 'node:zlib';
import { decodeRegisterBrokerBody, encodeRegisterBrokerBody, BodyError } from '../../../protocol/body/RegisterBrokerBody.js';
import { topicConfig } from '../../../protocol/body/TopicConfig.js';
import { decodeCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { loadCapture } from '../../helpers/fixtures.js';

t.test('the captured JSON body decodes', async (t) => {
  const f = loadCapture('a-register')[0]!;
  const cmd = decodeCommand(f.bytes.subarray(4));
  const body = decodeRegisterBrokerBody(cmd.body, false);
  t.equal(body.topicConfigTable.size, 8);
  t.same(body.topicConfigTable.get('TBW102'), topicConfig('TBW102', { readQueueNums: 8, writeQueueNums: 8, perm: 7 }));
  t.equal(body.dataVersion.timestamp, 1795745755949);
});

t.test('compressed and JSON forms round trip', async (t) => {
  const table = new Map([
    ['T1', topicConfig('T1', { readQueueNums: 4, writeQueueNums: 4 })],
    ['T2', topicConfig('T2', { perm: 7, topicFilterType: 'MULTI_TAG', attributes: { '+queue.type': 'BatchCQ' } })],
  ]);
  const b = { dataVersion: { timestamp: 5, counter: 3 }, topicConfigTable: table, filterServerList: ['f:1'] };
  for (const compressed of [false, true]) {
    const back = decodeRegisterBrokerBody(encodeRegisterBrokerBody(b, compressed), compressed);
    t.same([...back.topicConfigTable], [...table], `compressed=${compressed}`);
    t.same(back.dataVersion, b.dataVersion);
    t.same(back.filterServerList, ['f:1']);
  }
});

t.test('broken bodies are BodyErrors', async (t) => {
  t.throws(() => decodeRegisterBrokerBody(Buffer.from('{nope'), false), BodyError);
  t.throws(() => decodeRegisterBrokerBody(Buffer.from('not zlib'), true), /does not inflate/);
  const truncated = Buffer.alloc(6);
  truncated.writeInt32BE(100, 0);
  t.throws(() => decodeRegisterBrokerBody(zlib.deflateSync(truncated), true), /truncated in dataVersion/);
  const badCount = Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('{}'), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
  t.throws(() => decodeRegisterBrokerBody(zlib.deflateSync(badCount), true), /bad topic count -1/);
});
