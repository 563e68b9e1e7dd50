// The pieces of Java's printf that mqadmin's output uses: %-Ns, %Ns and %.Nf.

export function left(value: unknown, width: number): string {
  const s = String(value);
  return s.length >= width ? s : s + ' '.repeat(width - s.length);
}

export function right(value: unknown, width: number): string {
  const s = String(value);
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}

/** Java's %.Nf uses HALF_UP rounding; toFixed is close enough except on exact binary ties. */
export function fixed(n: number, digits: number): string {
  return n.toFixed(digits);
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
