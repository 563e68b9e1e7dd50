// Static membership as RocketMQ-on-DLedger configures it: dLegerPeers
// `n0-127.0.0.1:40911;n1-127.0.0.1:40912;n2-127.0.0.1:40913` and dLegerSelfId. Pure parsing
// with errors that name the offending part; raft/node and the broker config call it.
import { MAX_PEERS, RaftConfigError, validateMembership } from './RaftConfig.js';

export interface DLedgerPeer {
  id: string;
  host: string;
  port: number;
  /** host:port as written (IPv6 hosts keep their brackets) */
  address: string;
}

/** Longest dLegerPeers value accepted: MAX_PEERS entries of a generous length. */
const MAX_PEERS_TEXT = MAX_PEERS * 300;

/**
 * Parses dLegerPeers. Entries are separated by `;` (empty ones, e.g. a trailing `;`, are
 * skipped); each is `<id>-<host>:<port>` with id `n<digits>`. Ids and addresses must be unique.
 * When selfId is given it must be one of the ids.
 */
export function parseDLedgerPeers(text: string, selfId?: string): DLedgerPeer[] {
  if (typeof text !== 'string' || text.trim() === '') throw new RaftConfigError('dLegerPeers is empty; expected e.g. n0-127.0.0.1:40911;n1-127.0.0.1:40912;n2-127.0.0.1:40913');
  if (text.length > MAX_PEERS_TEXT) throw new RaftConfigError(`dLegerPeers is ${text.length} characters long, over the limit of ${MAX_PEERS_TEXT}`);
  const peers: DLedgerPeer[] = [];
  const addresses = new Set<string>();
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (part === '') continue;
    const dash = part.indexOf('-');
    if (dash <= 0) throw new RaftConfigError(`dLegerPeers entry "${part}" is not of the form <id>-<host>:<port> (e.g. n0-127.0.0.1:40911)`);
    const id = part.slice(0, dash);
    const address = part.slice(dash + 1);
    const colon = address.lastIndexOf(':');
    if (colon <= 0) throw new RaftConfigError(`dLegerPeers entry "${part}": "${address}" has no host:port`);
    let host = address.slice(0, colon);
    const portText = address.slice(colon + 1);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    if (host === '' || /[\s;]/.test(host) || (host.includes(':') && !address.startsWith('['))) {
      throw new RaftConfigError(`dLegerPeers entry "${part}": bad host "${host}" (write IPv6 hosts in brackets)`);
    }
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new RaftConfigError(`dLegerPeers entry "${part}": port "${portText}" is not in 1..65535`);
    }
    if (addresses.has(address)) throw new RaftConfigError(`dLegerPeers: address ${address} appears twice`);
    addresses.add(address);
    peers.push({ id, host, port: Number(portText), address });
  }
  const ids = peers.map((p) => p.id);
  // ids n<digits>, unique, at most MAX_PEERS, self among them
  validateMembership(selfId ?? ids[0] ?? '', ids);
  return peers;
}

/**
 * Parses preferredLeaderIds (DLedger separates them by `;`; `,` is accepted too). Empty or
 * absent gives []. Each id must be of the form n<digits>; with `peers`, also one of them.
 */
export function parsePreferredLeaderIds(text: string | null | undefined, peers?: readonly string[]): string[] {
  if (text === null || text === undefined) return [];
  const out: string[] = [];
  for (const raw of text.split(/[;,]/)) {
    const id = raw.trim();
    if (id === '') continue;
    if (!/^n\d{1,9}$/.test(id)) throw new RaftConfigError(`preferredLeaderIds: "${id}" is not a peer id of the form n<digits>`);
    if (peers && !peers.includes(id)) throw new RaftConfigError(`preferredLeaderIds: "${id}" is not among the peers ${peers.join(',')}`);
    if (!out.includes(id)) out.push(id);
    if (out.length > MAX_PEERS) throw new RaftConfigError(`preferredLeaderIds lists more than ${MAX_PEERS} ids`);
  }
  return out;
}
