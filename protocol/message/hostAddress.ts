// Born/store host addresses as the stored record and message ids carry them: IP bytes
// (4 or 16) followed by an i32 port.
import { MessageFormatError } from './MessageFormatError.js';

export interface HostAddress {
  /** dotted IPv4 ("10.0.0.1") or IPv6 text ("fd00::2"); named like Node's AddressInfo */
  address: string;
  port: number;
}

/** A host as text, or already encoded by encodeHostAddress (8 or 20 bytes) to skip parsing per message. */
export type HostInput = HostAddress | Uint8Array;

function badAddress(text: string, why: string): MessageFormatError {
  return new MessageFormatError('BAD_ADDRESS', `cannot parse IP address ${JSON.stringify(text)}: ${why}`);
}

function parseIPv4Into(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p)) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[at + i] = n;
  }
  return true;
}

function parseGroups(text: string, full: string): number[] {
  if (text === '') return [];
  return text.split(':').map((g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw badAddress(full, `bad group ${JSON.stringify(g)}`);
    return parseInt(g, 16);
  });
}

/** IP text to its 4 or 16 bytes. A zone suffix (`%eth0`) is dropped: it never goes on the wire. */
export function parseIp(text: string): Buffer {
  const v4 = Buffer.alloc(4);
  if (parseIPv4Into(text, v4, 0)) return v4;
  const full = text;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const out = Buffer.alloc(16);
  // An embedded IPv4 tail (::ffff:1.2.3.4) fills the last 4 bytes.
  let tailV4 = false;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > lastColon) {
    if (!parseIPv4Into(text.slice(lastColon + 1), out, 12)) throw badAddress(full, 'bad IPv4 tail');
    text = text.slice(0, lastColon + 1) + '0'; // placeholder group, dropped below
    tailV4 = true;
  }
  const groupsNeeded = tailV4 ? 6 : 8;
  const gap = text.indexOf('::');
  let groups: number[];
  if (gap < 0) {
    groups = parseGroups(text, full);
    if (tailV4) groups.pop();
    if (groups.length !== groupsNeeded) throw badAddress(full, 'wrong number of groups');
  } else {
    if (text.indexOf('::', gap + 1) >= 0) throw badAddress(full, 'more than one "::"');
    const head = parseGroups(text.slice(0, gap), full);
    const tail = parseGroups(text.slice(gap + 2), full);
    if (tailV4) tail.pop();
    const missing = groupsNeeded - head.length - tail.length;
    if (missing < 1) throw badAddress(full, 'too many groups');
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  }
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** 4 bytes to dotted IPv4, 16 bytes to compressed lower-case IPv6 (RFC 5952). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new MessageFormatError('BAD_ADDRESS', `an IP address has 4 or 16 bytes, not ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  // longest run of two or more zero groups becomes "::"
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

/**
 * Address bytes for a record or message id: IP then i32 port (8 or 20 bytes). IPv4-mapped
 * IPv6 (`::ffff:a.b.c.d`, what Node reports for IPv4 peers on a dual-stack socket) is written
 * as plain IPv4, as Java does, and because ali-ons reads only 4-byte addresses.
 */
export function encodeHostAddress(host: HostAddress): Buffer {
  let ip = parseIp(host.address);
  if (ip.length === 16 && isV4Mapped(ip)) ip = ip.subarray(12);
  if (!Number.isInteger(host.port) || host.port < 0 || host.port > 65535) {
    throw new MessageFormatError('BAD_ADDRESS', `port ${host.port} of ${host.address} is not 0..65535`);
  }
  const out = Buffer.alloc(ip.length + 4);
  ip.copy(out, 0);
  out.writeInt32BE(host.port, ip.length);
  return out;
}

function isV4Mapped(ip: Buffer): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** Reads IP (4 or 16 bytes) and i32 port at `pos`. */
export function decodeHostAddress(buf: Buffer, pos: number, ipv6: boolean): HostAddress {
  const ipLen = ipv6 ? 16 : 4;
  return { address: formatIp(buf.subarray(pos, pos + ipLen)), port: buf.readInt32BE(pos + ipLen) };
}

/** "10.0.0.1:10911" or "[fd00::2]:10911" (also accepts a bare IPv6 with the port after the last colon). */
export function parseHostAddress(text: string): HostAddress {
  let ip: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    if (close < 0) throw new MessageFormatError('BAD_ADDRESS', `cannot parse host address ${JSON.stringify(text)}`);
    ip = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) throw new MessageFormatError('BAD_ADDRESS', `host address ${JSON.stringify(text)} has no port`);
    ip = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText)) throw new MessageFormatError('BAD_ADDRESS', `bad port in host address ${JSON.stringify(text)}`);
  const host = { address: ip, port: Number(portText) };
  encodeHostAddress(host); // validates ip and port range
  return host;
}

/** "address:port", with IPv6 in brackets. */
export function formatHostAddress(host: HostAddress): string {
  return host.address.includes(':') ? `[${host.address}]:${host.port}` : `${host.address}:${host.port}`;
}
