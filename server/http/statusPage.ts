// The status page at /: plain server-rendered HTML (no scripts, no build step) that reloads
// itself. Rendering is a pure function of a StatusView so it is tested without a server.

export interface MemberView {
  id: string;
  /** Raft address host:port */
  address: string;
  role: string;
  self: boolean;
  term?: number | undefined;
  commitIndex?: number | undefined;
  appliedIndex?: number | undefined;
  matchIndex?: number | undefined;
  lag?: number | undefined;
}

export interface ClusterBrokerView {
  cluster: string;
  brokerName: string;
  brokerId: number;
  addr: string;
}

export interface TopicView {
  topic: string;
  queues: number;
  perm: number;
  /** sum over queues of max offsets: messages ever stored */
  messages: number;
}

export interface GroupView {
  group: string;
  topic: string;
  lag: number;
  inflight: number;
  lagLatencyMs: number;
  consumers: number;
}

export interface StatusView {
  title: string;
  /** key facts of this process, in order */
  facts: Array<[string, string | number]>;
  members?: MemberView[];
  cluster?: ClusterBrokerView[] | { error: string };
  topics?: TopicView[];
  groups?: GroupView[];
  refreshSeconds: number;
  generatedAt: number;
}

export function escapeHtml(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function table(id: string, head: string[], rows: Array<Array<string | number | undefined>>, empty: string): string {
  if (rows.length === 0) return `<p class="empty" id="${id}">${escapeHtml(empty)}</p>`;
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = rows
    .map((r) => `<tr>${r.map((c) => `<td>${c === undefined ? '–' : escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table id="${id}"><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

export function renderStatusPage(v: StatusView): string {
  const parts: string[] = [];
  parts.push(`<section><h2>This node</h2><dl id="node">${v.facts.map(([k, x]) => `<dt>${escapeHtml(k)}</dt><dd data-key="${escapeHtml(k)}">${escapeHtml(x)}</dd>`).join('')}</dl></section>`);
  if (v.members) {
    parts.push(
      `<section><h2>Raft group</h2>${table(
        'members',
        ['node', 'raft address', 'role', 'term', 'commit index', 'applied index', 'match index', 'lag (entries)'],
        v.members.map((m) => [m.self ? `${m.id} (this node)` : m.id, m.address, m.role, m.term, m.commitIndex, m.appliedIndex, m.matchIndex, m.lag]),
        'no members',
      )}</section>`,
    );
  }
  if (v.cluster) {
    parts.push(
      `<section><h2>Cluster</h2>${
        'error' in v.cluster
          ? `<p class="error" id="cluster">${escapeHtml(v.cluster.error)}</p>`
          : table(
              'cluster',
              ['cluster', 'broker name', 'broker id', 'address', 'role'],
              v.cluster.map((b) => [b.cluster, b.brokerName, b.brokerId, b.addr, b.brokerId === 0 ? 'master' : 'slave']),
              'no brokers registered',
            )
      }</section>`,
    );
  }
  if (v.topics) {
    parts.push(`<section><h2>Topics</h2>${table('topics', ['topic', 'queues', 'perm', 'messages'], v.topics.map((t) => [t.topic, t.queues, t.perm, t.messages]), 'no topics')}</section>`);
  }
  if (v.groups) {
    parts.push(
      `<section><h2>Consumer groups</h2>${table(
        'groups',
        ['group', 'topic', 'lag (messages)', 'in flight', 'lag latency (ms)', 'consumers online'],
        v.groups.map((g) => [g.group, g.topic, g.lag, g.inflight, g.lagLatencyMs, g.consumers]),
        'no consumer offsets',
      )}</section>`,
    );
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${v.refreshSeconds}">
<title>${escapeHtml(v.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dt{font-weight:600}dd{margin:0}.error{color:#b00}.empty{color:#777}footer{margin-top:2em;color:#777}
</style>
</head>
<body>
<h1>${escapeHtml(v.title)}</h1>
${parts.join('\n')}
<footer>generated ${escapeHtml(new Date(v.generatedAt).toISOString())}; reloads every ${v.refreshSeconds} s; JSON at /api</footer>
</body>
</html>
`;
}
