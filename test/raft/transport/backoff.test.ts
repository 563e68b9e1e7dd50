import t from 'tap';
import { backoffDelay, parseDLegerPeers, PeerAddressError } from '../../../raft/transport/index.js';

t.test('back-off doubles from the minimum, is capped, and jitters within [delay/2, delay]', async (t) => {
  const o = (r: number) => ({ minMs: 20, maxMs: 1000, random: () => r });
  t.same([0, 1, 2, 3].map((a) => backoffDelay(a, o(0.999999))), [20, 40, 80, 160]);
  t.same([0, 1, 2].map((a) => backoffDelay(a, o(0))), [10, 20, 40]);
  t.equal(backoffDelay(10, o(0.999999)), 1000, 'capped');
  t.equal(backoffDelay(1000, o(0)), 500, 'no overflow for long outages');
});

t.test('dLegerPeers parses into ids and addresses', async (t) => {
  const p = parseDLegerPeers('n0-127.0.0.1:40911;n1-localhost:40912; n2-[::1]:40913;');
  t.same([...p.keys()], ['n0', 'n1', 'n2']);
  t.same(p.get('n2'), { host: '::1', port: 40913 });
  t.throws(() => parseDLegerPeers('n0-127.0.0.1:40911;n0-127.0.0.1:40912'), PeerAddressError);
  t.throws(() => parseDLegerPeers('n0:40911'), PeerAddressError);
  t.throws(() => parseDLegerPeers('n0-127.0.0.1:99999'), PeerAddressError);
  t.throws(() => parseDLegerPeers(''), PeerAddressError);
});
