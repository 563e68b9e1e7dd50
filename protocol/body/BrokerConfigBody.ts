// The GET_BROKER_CONFIG (26) answer body: the broker's properties as "key=value" lines
// (Java's MixAll.properties2String), plus the data version in the response header.

export function encodeBrokerConfigBody(props: ReadonlyMap<string, string> | Record<string, string>): Buffer {
  const entries = props instanceof Map ? [...props] : Object.entries(props);
  return Buffer.from(entries.map(([k, v]) => `${k}=${v}\n`).join(''), 'utf8');
}

/** Lines of key=value; blank lines and # comments are skipped; the first '=' splits. */
export function decodeBrokerConfigBody(body: Buffer | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!body) return out;
  for (const raw of body.toString('utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const i = line.indexOf('=');
    if (i < 0) out.set(line, '');
    else out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}
