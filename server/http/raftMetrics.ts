// The Raft part of a broker's /metrics: DLedger 0.4's names and labels (group, self_id,
// remote_id) where DLedger had them, and the state DLedger never exported (term, role, commit
// and applied index, each peer's match index and lag, the peer links) under raftmq_raft_*.
import type { RaftNode } from '../../raft/node/RaftNode.js';
import type { PeerReplication } from '../../raft/node/ReplicationLatency.js';
import { LabelSet, type HistogramSample, type Labels, type MetricRegistry, type MetricType, type PlainHistogram, type SampleSink } from './MetricRegistry.js';

export const RAFT_ROLES = ['leader', 'follower', 'candidate'] as const;

/** DLedger's read_mode of a pull: this node's applied state, read without a quorum round */
export const PULL_READ_MODE = 'unsafe_read';

export interface RaftMetricsSource {
  node: () => RaftNode | undefined;
  /** message appends, accepted by the log -> committed (ms) */
  appendLatencyMs: () => PlainHistogram | undefined;
  /** pulls: consume queue and log read (ms) */
  readLatencyMs: () => PlainHistogram | undefined;
}

/** Label sets rendered once per node: the node's own, and one per remote member. */
class RaftLabels {
  readonly base: Labels;
  readonly own: LabelSet;
  readonly read: LabelSet;
  private readonly remote = new Map<string, LabelSet>();
  constructor(readonly node: RaftNode) {
    this.base = { group: node.group, self_id: node.selfId };
    this.own = new LabelSet(this.base);
    this.read = new LabelSet({ ...this.base, read_mode: PULL_READ_MODE });
  }

  of(remoteId: string): LabelSet {
    let l = this.remote.get(remoteId);
    if (!l) this.remote.set(remoteId, (l = new LabelSet({ ...this.base, remote_id: remoteId })));
    return l;
  }

  with(extra: Labels): Labels {
    return { ...this.base, ...extra };
  }
}

/** A histogram family's sample from plain buckets. */
function histogramSample(labels: Labels | LabelSet, h: PlainHistogram): HistogramSample {
  return { labels, bounds: h.bounds, counts: h.counts, sum: h.sum };
}

export function registerRaftMetrics(registry: MetricRegistry, src: RaftMetricsSource): void {
  let labels: RaftLabels | undefined;
  const reg = (name: string, help: string, type: MetricType, collect: (n: RaftNode, base: LabelSet, out: SampleSink, l: RaftLabels) => void): void =>
    registry.register(name, help, type, (out) => {
      const n = src.node();
      if (!n) return;
      if (labels?.node !== n) labels = new RaftLabels(n);
      collect(n, labels.own, out, labels);
    });
  /** One histogram of this node, under its own labels. */
  const nodeHistogram = (name: string, help: string, pick: (n: RaftNode) => PlainHistogram): void =>
    reg(name, help, 'histogram', (n, base, out) => out.push(histogramSample(base, pick(n))));
  /** One histogram per follower this leader replicates to, labelled with its remote_id. */
  const peerHistogram = (name: string, help: string, pick: (p: PeerReplication) => PlainHistogram): void =>
    reg(name, help, 'histogram', (n, _base, out, l) => {
      for (const [peer, p] of n.replication.byPeer) out.push(histogramSample(l.of(peer), pick(p)));
    });

  reg('dledger_entries_count', 'Entries in the Raft log (last index - first index + 1).', 'gauge', (n, base, out) => {
    const s = n.storage;
    out.push({ labels: base, value: Math.max(0, s.lastIndex - s.firstIndex + 1) });
  });
  reg('dledger_entry_store_size', 'Bytes of the Raft log on disk.', 'gauge', (n, base, out) => {
    const s = n.storage;
    out.push({ labels: base, value: s.endPosition - s.startPosition });
  });
  reg('dledger_append_entry_latency', 'Leader: message appends from the commit log call until committed by a quorum (ms).', 'histogram', (_n, base, out) => {
    const h = src.appendLatencyMs();
    if (h) out.push(histogramSample(base, h));
  });
  nodeHistogram('dledger_append_entry_batch_count', 'Leader: entries per proposal (one send, one batch send, one metadata write), counted once committed.', (n) => n.metrics.appendBatchEntries);
  nodeHistogram('dledger_append_entry_batch_bytes', 'Leader: entry body bytes per proposal, counted once committed.', (n) => n.metrics.appendBatchBytes);
  peerHistogram('dledger_replicate_entry_latency', 'Leader: AppendEntries sent to a follower until it acknowledged the last entry (ms).', (p) => p.latencyMs);
  peerHistogram('dledger_replicate_entry_batch_count', 'Leader: entries per AppendEntries a follower acknowledged.', (p) => p.batchEntries);
  peerHistogram('dledger_replicate_entry_batch_bytes', 'Leader: bytes (48-byte entry headers included) per AppendEntries a follower acknowledged.', (p) => p.batchBytes);
  nodeHistogram('dledger_apply_task_latency', 'One apply task (committed entries handed to the state machine: consume queues and indexes written) from start to end (ms).', (n) => n.metrics.applyLatencyMs);
  nodeHistogram('dledger_apply_task_batch_count', 'Committed entries per apply task.', (n) => n.metrics.applyBatchEntries);
  reg('dledger_read_latency', 'Pulls that reached the store: consume-queue and log reads of one pull (ms); read_mode unsafe_read: the local applied state, no quorum round.', 'histogram', (_n, _base, out, l) => {
    const h = src.readLatencyMs();
    if (h) out.push(histogramSample(l.read, h));
  });
  reg('dledger_apply_entries_total', 'Committed entries applied to the state machine on this node.', 'counter', (n, base, out) => {
    out.push({ labels: base, value: n.counters.entriesApplied });
  });

  reg('raftmq_raft_term', 'Current Raft term.', 'gauge', (n, base, out) => {
    out.push({ labels: base, value: n.status().term });
  });
  reg('raftmq_raft_role', 'Raft role: 1 for the role this node has, 0 for the others.', 'gauge', (n, _base, out, l) => {
    const role = n.status().role;
    for (const r of RAFT_ROLES) out.push({ labels: l.with({ role: r }), value: role === r ? 1 : 0 });
  });
  reg('raftmq_raft_is_leader', '1 when this node is the Raft leader.', 'gauge', (n, base, out) => {
    out.push({ labels: base, value: n.status().role === 'leader' ? 1 : 0 });
  });
  reg('raftmq_raft_commit_index', 'Highest log index known committed.', 'gauge', (n, base, out) => {
    out.push({ labels: base, value: n.status().commitIndex });
  });
  reg('raftmq_raft_applied_index', 'Highest log index applied on this node.', 'gauge', (n, base, out) => {
    out.push({ labels: base, value: n.status().appliedIndex });
  });
  reg('raftmq_raft_last_index', 'Last index in this node\'s log.', 'gauge', (n, base, out) => {
    out.push({ labels: base, value: n.status().lastIndex });
  });
  reg('raftmq_raft_pending_proposals', 'Proposals waiting for their commit (leader).', 'gauge', (n, base, out) => {
    out.push({ labels: base, value: n.status().pendingProposals });
  });
  reg('raftmq_raft_apply_queue_entries', 'Committed entries waiting to be applied.', 'gauge', (n, base, out) => {
    out.push({ labels: base, value: n.status().applyQueueEntries });
  });
  reg('raftmq_raft_peer_match_index', 'Leader only: highest index known to be on each follower.', 'gauge', (n, _base, out, l) => {
    for (const p of n.peerProgress()) out.push({ labels: l.of(p.id), value: p.matchIndex });
  });
  reg('raftmq_raft_peer_lag_entries', 'Leader only: entries each follower is behind the leader\'s last index.', 'gauge', (n, _base, out, l) => {
    for (const p of n.peerProgress()) out.push({ labels: l.of(p.id), value: p.lag });
  });
  reg('raftmq_raft_peer_connected', '1 when the outbound link to the peer is connected.', 'gauge', (n, _base, out, l) => {
    for (const [id, link] of Object.entries(n.transportStats().peers)) out.push({ labels: l.of(id), value: link.state === 'open' ? 1 : 0 });
  });
  reg('raftmq_raft_peer_sent_bytes_total', 'Bytes sent to each peer.', 'counter', (n, _base, out, l) => {
    for (const [id, link] of Object.entries(n.transportStats().peers)) out.push({ labels: l.of(id), value: link.sentBytes });
  });
  reg('raftmq_raft_peer_queued_messages', 'Messages queued for each peer and not yet written to its socket.', 'gauge', (n, _base, out, l) => {
    for (const [id, link] of Object.entries(n.transportStats().peers)) out.push({ labels: l.of(id), value: link.queuedMessages });
  });
  reg('raftmq_raft_peer_dropped_messages_total', 'Messages to each peer dropped because its queue was full.', 'counter', (n, _base, out, l) => {
    for (const [id, link] of Object.entries(n.transportStats().peers)) out.push({ labels: l.of(id), value: link.dropped });
  });
  reg('raftmq_raft_leader_transfers_total', 'Leadership transfers started here, by result.', 'counter', (n, _base, out, l) => {
    const c = n.coreCounters;
    out.push({ labels: l.with({ result: 'started' }), value: c.transfersStarted });
    out.push({ labels: l.with({ result: 'completed' }), value: c.transfersCompleted });
    out.push({ labels: l.with({ result: 'aborted' }), value: c.transfersAborted });
  });
  reg('raftmq_raft_persist_wait_seconds_total', 'Time the Ready loop waited for log writes.', 'counter', (n, base, out) => {
    out.push({ labels: base, value: n.counters.persistWaitMicros / 1e6 });
  });
}
