// TopicConfig as the broker keeps it and sends it to the name server.

export const Perm = { INHERIT: 1, WRITE: 2, READ: 4, PRIORITY: 8 } as const;

export type TopicFilterType = 'SINGLE_TAG' | 'MULTI_TAG';

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
  attributes?: Record<string, string>;
}

export function topicConfig(name: string, fields: Partial<Omit<TopicConfig, 'topicName'>> = {}): TopicConfig {
  return {
    topicName: name,
    readQueueNums: fields.readQueueNums ?? 16,
    writeQueueNums: fields.writeQueueNums ?? 16,
    perm: fields.perm ?? (Perm.READ | Perm.WRITE),
    topicFilterType: fields.topicFilterType ?? 'SINGLE_TAG',
    topicSysFlag: fields.topicSysFlag ?? 0,
    order: fields.order ?? false,
    ...(fields.attributes ? { attributes: fields.attributes } : {}),
  };
}

/** "RW-" style text, as mqadmin prints a perm. */
export function permToString(perm: number): string {
  return (perm & Perm.READ ? 'R' : '-') + (perm & Perm.WRITE ? 'W' : '-') + (perm & Perm.INHERIT ? 'X' : '-');
}

function num(v: unknown, fallback: number): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) ? n : fallback;
}

/** Read a TopicConfig out of a parsed JSON value, with Java's class defaults for absent fields. */
export function topicConfigFromJson(name: string, v: unknown): TopicConfig {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const filter = o.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG';
  const cfg = topicConfig(typeof o.topicName === 'string' ? o.topicName : name, {
    readQueueNums: num(o.readQueueNums, 16),
    writeQueueNums: num(o.writeQueueNums, 16),
    perm: num(o.perm, Perm.READ | Perm.WRITE),
    topicFilterType: filter,
    topicSysFlag: num(o.topicSysFlag ?? o.topicSynFlag, 0),
    order: o.order === true || o.order === 'true',
  });
  if (o.attributes && typeof o.attributes === 'object') {
    cfg.attributes = Object.fromEntries(Object.entries(o.attributes).map(([k, val]) => [k, String(val)]));
  }
  return cfg;
}
