// The pieces of Java's printf that mqadmin's output uses: %-Ns, %Ns and %.Nf.

export function left(value: unknown, width: number): string {
  const s = String(value);
  return s.length >= width ? s : s + ' '.repeat(width - s.length);
}

export function right(value: unknown, width: number): string {
  const s = String(value);
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}

/**
 * Java's %.Nf: HALF_UP rounding of the shortest decimal text of the double (so 0.205 gives
 * "0.21", where toFixed, rounding the binary value 0.20499..., gives "0.20").
 */
export function fixed(n: number, digits: number): string {
  if (!Number.isFinite(n)) return String(n);
  const negative = n < 0 || Object.is(n, -0);
  const text = Math.abs(n).toFixed(20).replace(/0+$/, '');
  const shortest = Math.abs(n).toString().includes('e') ? text : Math.abs(n).toString();
  const [int, frac = ''] = shortest.split('.') as [string, string?];
  if (frac.length <= digits) return `${negative && n !== 0 ? '-' : ''}${int}${digits > 0 ? '.' + frac.padEnd(digits, '0') : ''}`;
  // Round the decimal digits half up, carrying through the integer part.
  const all = (int + frac.slice(0, digits)).split('').map(Number);
  if ((frac.charCodeAt(digits) - 48) >= 5) {
    let i = all.length - 1;
    while (i >= 0) {
      if (all[i] === 9) {
        all[i] = 0;
        i--;
      } else {
        all[i] = (all[i] as number) + 1;
        break;
      }
    }
    if (i < 0) all.unshift(1);
  }
  const joined = all.join('');
  const intPart = joined.slice(0, joined.length - digits) || '0';
  const fracPart = joined.slice(joined.length - digits);
  const out = digits > 0 ? `${intPart}.${fracPart}` : intPart;
  return negative && /[1-9]/.test(out) ? `-${out}` : out;
}

/**
 * fastjson's pretty printer (JSON.toJSONString(obj, true)) as mqadmin prints a route:
 * tab indents, bean objects one field per line, maps inline with their closing brace on a
 * new line, and Long map keys unquoted.
 */
export type PrettyValue =
  | { kind: 'bean'; fields: Array<[string, PrettyValue]> }
  | { kind: 'map'; entries: Array<[string | number, PrettyValue]> }
  | { kind: 'array'; items: PrettyValue[] }
  | { kind: 'scalar'; value: string | number | boolean | null };

export function prettyFastJson(v: PrettyValue, depth = 0): string {
  const pad = '\t'.repeat(depth);
  const inner = '\t'.repeat(depth + 1);
  switch (v.kind) {
    case 'scalar':
      return JSON.stringify(v.value);
    case 'bean':
      if (v.fields.length === 0) return '{}';
      return '{\n' + v.fields.map(([k, x]) => `${inner}${JSON.stringify(k)}:${prettyFastJson(x, depth + 1)}`).join(',\n') + `\n${pad}}`;
    case 'map':
      if (v.entries.length === 0) return '{}';
      return (
        '{' +
        v.entries.map(([k, x]) => `${typeof k === 'number' ? k : JSON.stringify(k)}:${prettyFastJson(x, depth + 1)}`).join(',') +
        `\n${pad}}`
      );
    case 'array':
      if (v.items.length === 0) return '[]';
      return '[\n' + v.items.map((x) => inner + prettyFastJson(x, depth + 1)).join(',\n') + `\n${pad}]`;
  }
}

/** UtilAll.frontStringAtLeast: the text cut to at most `size` characters. */
export function frontStringAtLeast(s: string, size: number): string {
  return s.length > size ? s.slice(0, size) : s;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** UtilAll.formatDate(date, "yyyy-MM-dd HH:mm:ss") in the local time zone. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getFullYear()).padStart(4, '0')}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** UtilAll.timeMillisToHumanString2: "yyyy-MM-dd HH:mm:ss,SSS" in the local time zone. */
export function humanTime2(ms: number): string {
  return `${formatDateTime(ms)},${String(new Date(ms).getMilliseconds()).padStart(3, '0')}`;
}

/**
 * MQVersion.getVersionDesc for a version ordinal. From V4_0_0 (213) on, every minor release
 * line has ten patch releases, each preceded by its _SNAPSHOT; 4.9.8's enum ends at V5_9_9.
 */
export function versionDesc(ordinal: number): string {
  if (ordinal >= 612) return 'HIGHER_VERSION';
  if (ordinal >= 212) {
    const i = ordinal - 212;
    const release = Math.floor(i / 2);
    const line = Math.floor(release / 10);
    const name = `V${4 + Math.floor(line / 10)}_${line % 10}_${release % 10}`;
    return i % 2 === 0 ? `${name}_SNAPSHOT` : name;
  }
  if (ordinal === 121) return 'V3_4_9';
  return `V3_UNKNOWN_${ordinal}`;
}

/** Java's HashMap<String, V> iteration order (default capacity 16, load factor 0.75). */
export function javaHashMapOrder<V>(entries: Array<[string, V]>): Array<[string, V]> {
  let capacity = 16;
  while (entries.length > capacity * 0.75) capacity *= 2;
  const bucket = (k: string): number => {
    let h = 0;
    for (let i = 0; i < k.length; i++) h = (Math.imul(31, h) + k.charCodeAt(i)) | 0;
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return entries
    .map((e, i) => ({ e, i, b: bucket(e[0]) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((x) => x.e);
}

/** AbstractMap.toString of a HashMap<String, String>: {k=v, k2=v2}. */
export function javaMapToString(map: ReadonlyMap<string, string>): string {
  return '{' + javaHashMapOrder([...map]).map(([k, v]) => `${k}=${v}`).join(', ') + '}';
}
