// freshStartElectionRounds: a node that never held an entry or a term waits extra election
// timeouts before its first campaign, so the holder of an old group's log (joining two new
// empty nodes) campaigns first and the empty nodes receive its log.
import t from 'tap';
import { MemoryLog } from '../helpers/MemoryLog.js';
import { newNode } from '../helpers/TestCluster.js';

const IDS = ['n0', 'n1', 'n2'];

function ticksToCampaign(n: ReturnType<typeof newNode>, max: number): number {
  for (let i = 1; i <= max; i++) {
    n.core.tick();
    if (n.core.role !== 'follower') return i;
  }
  return -1;
}

t.test('an empty node waits the extra rounds; a node with a log or a term does not', async (t) => {
  const plain = ticksToCampaign(newNode('n0', IDS, 7, { electionTicks: 10, electionJitterTicks: 1 }), 100);
  t.ok(plain > 0 && plain <= 11, `without the option an empty node campaigns after its timeout (${plain} ticks)`);

  const fresh = ticksToCampaign(newNode('n0', IDS, 7, { electionTicks: 10, electionJitterTicks: 1, freshStartElectionRounds: 3 }), 100);
  t.equal(fresh, plain + 30, 'an empty node waits three more election timeouts');

  const log = new MemoryLog();
  log.persist({ entries: [{ index: 0, term: 1, magic: 1, body: new Uint8Array([1]) }] } as never);
  const holder = ticksToCampaign(newNode('n2', IDS, 7, { electionTicks: 10, electionJitterTicks: 1, freshStartElectionRounds: 3 }, log), 100);
  t.equal(holder, plain, 'a node holding entries campaigns after its normal timeout');

  const voted = ticksToCampaign(newNode('n1', IDS, 7, { electionTicks: 10, electionJitterTicks: 1, freshStartElectionRounds: 3, hardState: { term: 2, votedFor: null } }), 100);
  t.equal(voted, plain, 'a node that knows a term is not fresh');
});
