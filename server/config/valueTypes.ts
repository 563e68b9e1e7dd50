// The value types a config key can have. Each parses a trimmed string and says, in words an
// operator reads in an error message, what a good value looks like.
import net from 'node:net';

export type Parsed<T> =
  | { readonly ok: true; readonly value: T; /** a warning, e.g. the value was clamped */ readonly note?: string }
  | { readonly ok: false; /** detail added to `expected` */ readonly why?: string };

export interface ValueType<T> {
  /** Completes "expected ...": "an integer port 1..65535". */
  readonly expected: string;
  parse(raw: string): Parsed<T>;
  format(value: T): string;
}

const ok = <T>(value: T, note?: string): Parsed<T> => (note === undefined ? { ok: true, value } : { ok: true, value, note });
const bad = <T>(why?: string): Parsed<T> => (why === undefined ? { ok: false } : { ok: false, why });

export function text(opts: { nonEmpty?: boolean } = {}): ValueType<string> {
  return {
    expected: opts.nonEmpty ? 'a non-empty string' : 'a string',
    parse: (raw) => (opts.nonEmpty && raw === '' ? bad() : ok(raw)),
    format: (v) => v,
  };
}

// Java's Boolean.parseBoolean reads any typo as false; we refuse the typo instead.
export function bool(): ValueType<boolean> {
  return {
    expected: 'true or false',
    parse(raw) {
      const v = raw.toLowerCase();
      return v === 'true' ? ok(true) : v === 'false' ? ok(false) : bad();
    },
    format: (v) => String(v),
  };
}

export interface IntOptions {
  readonly min: number;
  readonly max: number;
  /** Replaces "an integer min..max" in messages. */
  readonly expected?: string;
  /** Values outside [lo, hi] but inside [min, max] are moved into it with a warning, as RocketMQ does. */
  readonly clamp?: readonly [number, number];
}

const INT_RE = /^[+-]?\d+$/;
export const JAVA_INT_MAX = 2147483647;

/** A decimal integer (Java int or long; a long is limited to what a JS number holds exactly). */
export function int(opts: IntOptions): ValueType<number> {
  const expected = opts.expected ?? `an integer ${opts.min}..${opts.max}`;
  return {
    expected,
    parse(raw) {
      if (!INT_RE.test(raw)) return bad();
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < opts.min || n > opts.max) return bad();
      if (opts.clamp) {
        const [lo, hi] = opts.clamp;
        if (n < lo) return ok(lo, `raised to ${lo}, the smallest value used`);
        if (n > hi) return ok(hi, `lowered to ${hi}, the largest value used`);
      }
      return ok(n);
    },
    format: (v) => String(v),
  };
}

export function port(): ValueType<number> {
  return int({ min: 1, max: 65535, expected: 'an integer port 1..65535' });
}

export function oneOf<const V extends string>(values: readonly V[]): ValueType<V> {
  return {
    expected: `one of ${values.join(', ')}`,
    parse: (raw) => ((values as readonly string[]).includes(raw) ? ok(raw as V) : bad()),
    format: (v) => v,
  };
}

const HOSTNAME_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/** An IP address or a host name; "999.1.1.1" is neither. */
export function isHost(s: string): boolean {
  if (net.isIP(s) !== 0) return true;
  return HOSTNAME_RE.test(s) && !/^[\d.]+$/.test(s);
}

export function host(): ValueType<string> {
  return {
    expected: 'an IP address or host name',
    parse: (raw) => (isHost(raw) ? ok(raw) : bad()),
    format: (v) => v,
  };
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** "host:port", "[v6]:port", or like Java's lastIndexOf(':') split, "::1:9876". */
export function parseHostPort(s: string): HostPort | undefined {
  let hostPart: string;
  let portPart: string;
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (bracket) {
    hostPart = bracket[1] as string;
    portPart = bracket[2] as string;
    if (!net.isIPv6(hostPart)) return undefined;
  } else {
    const colon = s.lastIndexOf(':');
    if (colon <= 0) return undefined;
    hostPart = s.slice(0, colon);
    portPart = s.slice(colon + 1);
  }
  if (!isHost(hostPart) || !/^\d{1,5}$/.test(portPart)) return undefined;
  const p = Number(portPart);
  if (p < 1 || p > 65535) return undefined;
  return { host: hostPart, port: p };
}

export function formatHostPort(hp: HostPort): string {
  return net.isIPv6(hp.host) ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** namesrvAddr: "127.0.0.1:9876;192.168.0.1:9876"; empty means none. */
export function hostPortList(): ValueType<readonly HostPort[]> {
  return {
    expected: `a ';'-separated list of host:port (port 1..65535), e.g. "127.0.0.1:9876;192.168.0.1:9876"`,
    parse(raw) {
      const out: HostPort[] = [];
      // Java's split drops trailing empty strings, so "a:1;" is accepted there too.
      const parts = raw.split(';').map((p) => p.trim());
      while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
      for (const part of parts) {
        const hp = parseHostPort(part);
        if (!hp) return bad(`"${part}" is not host:port`);
        out.push(hp);
      }
      return ok(out);
    },
    format: (v) => v.map(formatHostPort).join(';'),
  };
}

export interface DLedgerPeer extends HostPort {
  /** "n0", "n1", ...: DLedger derives the node number from the digits. */
  readonly id: string;
}

const PEER_ID_RE = /^n\d+$/;

export function dledgerId(): ValueType<string> {
  return {
    expected: 'a peer id n<digits>, e.g. n0',
    parse: (raw) => (raw === '' || PEER_ID_RE.test(raw) ? ok(raw) : bad()),
    format: (v) => v,
  };
}

/** dLegerPeers: "n0-127.0.0.1:40911;n1-127.0.0.1:40912;n2-127.0.0.1:40913". */
export function dledgerPeers(): ValueType<readonly DLedgerPeer[]> {
  return {
    expected: `a ';'-separated list of id-host:port with ids n<digits>, e.g. "n0-127.0.0.1:40911;n1-127.0.0.1:40912"`,
    parse(raw) {
      if (raw === '') return ok([]);
      const peers: DLedgerPeer[] = [];
      const parts = raw.split(';').map((p) => p.trim());
      while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
      for (const part of parts) {
        const dash = part.indexOf('-');
        const id = dash < 0 ? part : part.slice(0, dash);
        if (dash < 0 || !PEER_ID_RE.test(id)) return bad(`"${part}" does not start with an id n<digits> and '-'`);
        const hp = parseHostPort(part.slice(dash + 1));
        if (!hp) return bad(`"${part}" has no valid host:port after the id`);
        // "n1" and "n01" give DLedger the same node number.
        const twin = peers.find((p) => Number(p.id.slice(1)) === Number(id.slice(1)));
        if (twin) return bad(twin.id === id ? `${id} appears twice` : `${twin.id} and ${id} are the same node number`);
        const sameAddr = peers.find((p) => p.host === hp.host && p.port === hp.port);
        if (sameAddr) return bad(`${sameAddr.id} and ${id} have the same address ${formatHostPort(hp)}`);
        peers.push({ id, ...hp });
      }
      return ok(peers);
    },
    format: (v) => v.map((p) => `${p.id}-${formatHostPort(p)}`).join(';'),
  };
}

/** deleteWhen: hours of the day, "04" or "04;16"; RocketMQ compares each with the current hour. */
export function hoursOfDay(): ValueType<string> {
  return {
    expected: `hours 0..23 separated by ';', e.g. "04" or "04;16"`,
    parse(raw) {
      const hours = raw.split(';');
      const good = hours.every((h) => /^\d{1,2}$/.test(h) && Number(h) <= 23);
      return good ? ok(raw) : bad();
    },
    format: (v) => v,
  };
}

const DELAY_UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1s 5s 10s 30s 1m ... 2h" to milliseconds per level (level 1 first). */
export function delayLevelsMs(levels: string): number[] | undefined {
  const out: number[] = [];
  for (const token of levels.split(' ')) {
    const m = /^(\d+)([smhd])$/.exec(token);
    if (!m) return undefined;
    out.push(Number(m[1]) * (DELAY_UNIT_MS[m[2] as string] as number));
  }
  return out;
}

export function delayLevels(): ValueType<string> {
  return {
    expected: `delays like "1s 5s 10m 2h" (a number and s, m, h or d, separated by single spaces)`,
    parse: (raw) => (delayLevelsMs(raw) ? ok(raw) : bad()),
    format: (v) => v,
  };
}
