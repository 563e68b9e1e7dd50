// The Raft part of a broker's /metrics: DLedger 0.4's names and labels (group, self_id,
// remote_id) where DLedger had them, and the state DLedger never exported (term, role, commit
// and applied index, each peer's match index and lag, the peer links) under raftmq_raft_*.
import type { Registry } from 'prom-client';
import type { RaftNode } from '../../raft/node/RaftNode.js';
import { pushHistogram, registerSnapshot, type PlainHistogram } from './SnapshotMetric.js';

export const RAFT_ROLES = ['leader', 'follower', 'candidate'] as const;

export interface RaftMetricsSource {
  node: () => RaftNode | undefined;
  /** message appends, accepted by the log -> committed (ms) */
  appendLatencyMs: () => PlainHistogram | undefined;
}

export function registerRaftMetrics(registry: Registry, src: RaftMetricsSource): void {
  const reg = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', collect: (n: RaftNode, base: { group: string; self_id: string }, out: Parameters<Parameters<typeof registerSnapshot>[4]>[0]) => void): void =>
    registerSnapshot(registry, name, help, type, (out) => {
      const n = src.node();
      if (n) collect(n, { group: n.group, self_id: n.selfId }, out);
    });

  reg('dledger_entries_count', 'Entries in the Raft log (last index - first index + 1).', 'gauge', (n, base, out) => {
    const s = n.storage;
    out.push({ labels: base, value: Math.max(0, s.lastIndex - s.firstIndex + 1) });
  });
  reg('dledger_entry_store_size', 'Bytes of the Raft log on disk.', 'gauge', (n, base, out) => {
    const s = n.storage;
    out.push({ labels: base, value: s.endPosition - s.startPosition });
  });
  reg('dledger_append_entry_latency', 'Leader: message appends from the commit log call until committed by a quorum (ms).', 'histogram', (n, base, out) => {
    const h = src.appendLatencyMs();
    if (h) pushHistogram(out, 'dledger_append_entry_latency', h.bounds, h.counts, h.sum, base);
  });
  reg('dledger_replicate_entry_latency', 'Leader: AppendEntries sent to a follower until it acknowledged the last entry (ms).', 'histogram', (n, base, out) => {
    for (const [peer, h] of n.replication.byPeer) pushHistogram(out, 'dledger_replicate_entry_latency', h.bounds, h.counts, h.sum, { ...base, remote_id: peer });
  });
  reg('dledger_apply_entries_total', 'Committed entries applied to the state machine on this node.', 'counter', (n, base, out) => {
    out.push({ labels: base, value: n.counters.entriesApplied });
  });

  reg('raftmq_raft_term', 'Current Raft term.', 'gauge', (n, base, out) => {
    out.push({ labels: base, value: n.status().term });
  });
  reg('raftmq_raft_role', 'Raft role: 1 for the role this node has, 0 for the others.', 'gauge', (n, base, out) => {
    const role = n.status().role;
    for (const r of RAFT_ROLES) out.push({ labels: { ...base, role: r }, value: role === r ? 1 : 0 });
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
  reg('raftmq_raft_peer_match_index', 'Leader only: highest index known to be on each follower.', 'gauge', (n, base, out) => {
    for (const p of n.peerProgress()) out.push({ labels: { ...base, remote_id: p.id }, value: p.matchIndex });
  });
  reg('raftmq_raft_peer_lag_entries', 'Leader only: entries each follower is behind the leader\'s last index.', 'gauge', (n, base, out) => {
    for (const p of n.peerProgress()) out.push({ labels: { ...base, remote_id: p.id }, value: p.lag });
  });
  reg('raftmq_raft_peer_connected', '1 when the outbound link to the peer is connected.', 'gauge', (n, base, out) => {
    for (const [id, l] of Object.entries(n.transportStats().peers)) out.push({ labels: { ...base, remote_id: id }, value: l.state === 'open' ? 1 : 0 });
  });
  reg('raftmq_raft_peer_sent_bytes_total', 'Bytes sent to each peer.', 'counter', (n, base, out) => {
    for (const [id, l] of Object.entries(n.transportStats().peers)) out.push({ labels: { ...base, remote_id: id }, value: l.sentBytes });
  });
  reg('raftmq_raft_peer_queued_messages', 'Messages queued for each peer and not yet written to its socket.', 'gauge', (n, base, out) => {
    for (const [id, l] of Object.entries(n.transportStats().peers)) out.push({ labels: { ...base, remote_id: id }, value: l.queuedMessages });
  });
  reg('raftmq_raft_peer_dropped_messages_total', 'Messages to each peer dropped because its queue was full.', 'counter', (n, base, out) => {
    for (const [id, l] of Object.entries(n.transportStats().peers)) out.push({ labels: { ...base, remote_id: id }, value: l.dropped });
  });
  reg('raftmq_raft_leader_transfers_total', 'Leadership transfers started here, by result.', 'counter', (n, base, out) => {
    const c = n.coreCounters;
    out.push({ labels: { ...base, result: 'started' }, value: c.transfersStarted });
    out.push({ labels: { ...base, result: 'completed' }, value: c.transfersCompleted });
    out.push({ labels: { ...base, result: 'aborted' }, value: c.transfersAborted });
  });
  reg('raftmq_raft_persist_wait_seconds_total', 'Time the Ready loop waited for log writes.', 'counter', (n, base, out) => {
    out.push({ labels: base, value: n.counters.persistWaitMicros / 1e6 });
  });
}
