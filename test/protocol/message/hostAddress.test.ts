import t from 'tap';
import { decodeHostAddress, encodeHostAddress, formatHostAddress, formatIp, parseHostAddress, parseIp } from '../../../protocol/message/index.js';

t.test('parse and format IPs', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['127.0.0.1', '7f000001', '127.0.0.1'],
    ['::1', '00000000000000000000000000000001', '::1'],
    ['::', '0'.repeat(32), '::'],
    ['fd00::2', 'fd000000000000000000000000000002', 'fd00::2'],
    ['FD00:0:0:0:0:0:0:2', 'fd000000000000000000000000000002', 'fd00::2'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['1:0:2:0:3:0:4:0', '00010000000200000003000000040000', '1:0:2:0:3:0:4:0'],
    ['::ffff:192.0.2.2', '00000000000000000000ffffc0000202', '::ffff:c000:202'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001', 'fe80::1'],
    ['1::', '00010000000000000000000000000000', '1::'],
  ];
  for (const [text, hex, formatted] of cases) {
    const bytes = parseIp(text);
    t.equal(bytes.toString('hex'), hex, `parse ${text}`);
    t.equal(formatIp(bytes), formatted, `format ${text}`);
  }
  for (const bad of ['', '1.2.3', '1.2.3.256', '1.2.3.4.5', '01.2.3.x', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fffff::', ':1::', 'host.example', '::1.2.3']) {
    t.throws(() => parseIp(bad), { code: 'BAD_ADDRESS' }, `refuses ${JSON.stringify(bad)}`);
  }
  t.throws(() => formatIp(new Uint8Array(5)), { code: 'BAD_ADDRESS' });
});

t.test('host fields', async (t) => {
  t.equal(encodeHostAddress({ address: '10.0.0.1', port: 10911 }).toString('hex'), '0a00000100002a9f');
  t.equal(encodeHostAddress({ address: '::ffff:10.0.0.1', port: 10911 }).toString('hex'), '0a00000100002a9f', 'IPv4-mapped becomes IPv4');
  t.equal(encodeHostAddress({ address: '::1', port: 1 }).length, 20);
  t.throws(() => encodeHostAddress({ address: '10.0.0.1', port: 65536 }), { code: 'BAD_ADDRESS' });
  const buf = Buffer.concat([Buffer.alloc(3), encodeHostAddress({ address: 'fd00::2', port: 30911 })]);
  t.strictSame(decodeHostAddress(buf, 3, true), { address: 'fd00::2', port: 30911 });
  t.strictSame(parseHostAddress('127.0.0.1:10911'), { address: '127.0.0.1', port: 10911 });
  t.strictSame(parseHostAddress('[fd00::2]:30911'), { address: 'fd00::2', port: 30911 });
  t.equal(formatHostAddress({ address: 'fd00::2', port: 30911 }), '[fd00::2]:30911');
  t.equal(formatHostAddress({ address: '127.0.0.1', port: 1 }), '127.0.0.1:1');
  for (const bad of ['127.0.0.1', '127.0.0.1:', '127.0.0.1:99999', '[::1:1', 'x:1']) {
    t.throws(() => parseHostAddress(bad), { code: 'BAD_ADDRESS' }, JSON.stringify(bad));
  }
});
