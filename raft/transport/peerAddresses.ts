// dLegerPeers ("n0-127.0.0.1:40911;n1-127.0.0.1:40912") -> id -> host and port.
// (raft/core gains its own dLegerPeers parser in a parallel change; this one serves the transport
// and the node until the two are merged.)

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

/** Parses dLegerPeers; ids must be unique. Order is kept. */
export function parseDLegerPeers(text: string): Map<string, PeerAddress> {
  const out = new Map<string, PeerAddress>();
  for (const part of text.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    const dash = p.indexOf('-');
    if (dash <= 0) throw new PeerAddressError(`dLegerPeers entry "${p}" is not id-host:port`);
    const id = p.slice(0, dash);
    if (out.has(id)) throw new PeerAddressError(`dLegerPeers names ${id} twice`);
    out.set(id, parseHostPort(p.slice(dash + 1)));
  }
  if (out.size === 0) throw new PeerAddressError('dLegerPeers is empty');
  return out;
}

export function formatAddress(a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
