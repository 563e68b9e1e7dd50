// DataVersion: a broker's change counter for its topic table; the name server compares it.
export interface DataVersion {
  timestamp: number;
  counter: number;
  stateVersion?: number;
}

export function dataVersionFromJson(v: unknown): DataVersion {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const dv: DataVersion = { timestamp: Number(o.timestamp ?? 0) || 0, counter: Number(o.counter ?? 0) || 0 };
  if (o.stateVersion !== undefined) dv.stateVersion = Number(o.stateVersion) || 0;
  return dv;
}

export function sameDataVersion(a: DataVersion | undefined, b: DataVersion | undefined): boolean {
  if (!a || !b) return false;
  return a.timestamp === b.timestamp && a.counter === b.counter && (a.stateVersion ?? 0) === (b.stateVersion ?? 0);
}
