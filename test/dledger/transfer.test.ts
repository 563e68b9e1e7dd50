// Leadership transfer in a DLedger group: on demand with mqadmin transferLeadership, and by
// preferredLeaderId (the group hands leadership to the preferred member once it is caught up).
import t from 'tap';
import { startNamesrv } from '../helpers/namesrv.js';
import { runBin } from '../helpers/processes.js';
import { startGroup } from './groupKit.js';

t.test('mqadmin transferLeadership moves the master to the named member', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const nsAddr = `127.0.0.1:${ns.port}`;
  const g = await startGroup(t, nsAddr);
  const before = await g.master();
  const target = g.nodes.find((n) => n !== before)!;
  const r = await runBin('mqadmin', ['transferLeadership', '-n', nsAddr, '-b', 'RaftNode00', '-t', target.id], { NODE_OPTIONS: '' }, 30_000);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`to ${target.id}: OK`));
  const after = await g.master(30_000, before.id);
  t.equal(after.id, target.id, 'the name server routes the new master');

  const refused = await runBin('mqadmin', ['transferLeadership', '-n', nsAddr, '-b', 'RaftNode00', '-t', 'n7'], { NODE_OPTIONS: '' }, 30_000);
  t.not(refused.code, 0, 'an unknown member is refused');
  t.match(refused.stderr, /UNKNOWN_PEER/);
});

t.test('preferredLeaderId: the group ends up led by the preferred member', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const g = await startGroup(t, `127.0.0.1:${ns.port}`, { preferredLeaderId: 'n2' });
  const deadline = Date.now() + 30_000;
  let master = await g.master();
  while (master.id !== 'n2' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    master = await g.master();
  }
  t.equal(master.id, 'n2');
});
