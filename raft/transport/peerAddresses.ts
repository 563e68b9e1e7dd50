// Peer addresses for the transport: host:port parsing and dLegerPeers
// ("n0-127.0.0.1:40911;n1-127.0.0.1:40912") as id -> host and port, on raft/core's parser.
import { RaftConfigError, parseDLedgerPeers } from '../core/index.js';

export interface PeerAddress {
  host: string;
  port: number;
}

export class PeerAddressError extends Error {
  override name = 'PeerAddressError';
}

/** Parses `host:port` (IPv6 in brackets: `[::1]:40911`). */
export function parseHostPort(text: string): PeerAddress {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new PeerAddressError(`"${text}" is not host:port`);
  return { host: (m[1] ?? m[2])!, port };
}

/** dLegerPeers as id -> address for the transport (raft/core's parser, its errors as PeerAddressError). Order is kept. */
export function parseDLegerPeers(text: string): Map<string, PeerAddress> {
  let peers;
  try {
    peers = parseDLedgerPeers(text);
  } catch (e) {
    if (e instanceof RaftConfigError) throw new PeerAddressError(e.message);
    throw e;
  }
  return new Map(peers.map((p) => [p.id, { host: p.host, port: p.port }]));
}

export function formatAddress(a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
