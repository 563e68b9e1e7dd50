import t from 'tap';
import { escapeHtml, renderStatusPage } from '../../../server/http/statusPage.js';

t.test('the status page: escaped, self-refreshing, one table per section', async (t) => {
  const html = renderStatusPage({
    title: 'raftmq broker <b>',
    facts: [
      ['raft role', 'leader'],
      ['term', 3],
    ],
    members: [
      { id: 'n0', address: '127.0.0.1:40911', role: 'leader', self: true, term: 3, commitIndex: 10, appliedIndex: 10, matchIndex: 10, lag: 0 },
      { id: 'n1', address: '127.0.0.1:40912', role: 'follower', self: false, term: 3, matchIndex: 9, lag: 1 },
    ],
    cluster: { error: 'name server not reachable' },
    topics: [],
    groups: [{ group: 'g', topic: 'T', lag: 5, inflight: 1, lagLatencyMs: 20, consumers: 0 }],
    refreshSeconds: 5,
    generatedAt: 0,
  });
  t.match(html, '<meta http-equiv="refresh" content="5">');
  t.match(html, '<title>raftmq broker &lt;b&gt;</title>');
  t.notMatch(html, '<b>');
  t.match(html, '<td>n0 (this node)</td><td>127.0.0.1:40911</td><td>leader</td><td>3</td>');
  t.match(html, '<td>n1</td><td>127.0.0.1:40912</td><td>follower</td><td>3</td><td>–</td>');
  t.match(html, '<p class="error" id="cluster">name server not reachable</p>');
  t.match(html, '<p class="empty" id="topics">no topics</p>');
  t.match(html, '<dd data-key="raft role">leader</dd>');
  t.notMatch(html, '<script', 'no scripts');
  t.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
