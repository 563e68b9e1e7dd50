// LanguageCode: JSON headers carry the name, ROCKETMQ binary headers the number.
const names = [
  'JAVA', 'CPP', 'DOTNET', 'PYTHON', 'DELPHI', 'ERLANG', 'RUBY', 'OTHER', 'HTTP', 'GO', 'PHP', 'OMS', 'RUST', 'NODE_JS',
] as const;

export type LanguageName = (typeof names)[number];

const byName = new Map<string, number>(names.map((n, i) => [n, i]));

/** Number for the binary header; unknown names are sent as OTHER. */
export function languageToByte(name: string): number {
  return byName.get(name) ?? 7;
}

/** Name for a binary header byte; unknown bytes are kept visible rather than rejected (Java tolerates them). */
export function languageFromByte(code: number): string {
  return names[code] ?? `UNKNOWN_${code}`;
}
