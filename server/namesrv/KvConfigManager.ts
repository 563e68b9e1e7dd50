// The name server's KV config (namespace -> key -> value), persisted like Java's
// kvConfig.json ({"configTable":{...}}) with an atomic write after each change.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';

/** Bounds against a client filling the name server's memory through PUT_KV_CONFIG. */
const MAX_ENTRIES = 100_000;
const MAX_VALUE_BYTES = 64 * 1024;

export class KvConfigManager {
  private readonly table = new Map<string, Map<string, string>>();
  private entries = 0;

  constructor(
    private readonly file: string | undefined,
    private readonly log: Logger,
  ) {}

  load(): void {
    if (!this.file || !fs.existsSync(this.file)) return;
    const text = fs.readFileSync(this.file, 'utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new Error(`${this.file}: KV config is not JSON: ${(e as Error).message}`);
    }
    const configTable = (doc as { configTable?: Record<string, Record<string, unknown>> })?.configTable ?? {};
    for (const [ns, kv] of Object.entries(configTable)) {
      for (const [k, v] of Object.entries(kv ?? {})) this.putRaw(ns, k, String(v));
    }
    this.log(`loaded ${this.entries} KV config entries from ${this.file}`);
  }

  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  list(namespace: string): Map<string, string> | undefined {
    const kv = this.table.get(namespace);
    return kv && kv.size > 0 ? kv : undefined;
  }

  /** Returns an error text when a limit refuses the entry. */
  put(namespace: string, key: string, value: string): string | undefined {
    if (Buffer.byteLength(value) > MAX_VALUE_BYTES) return `value is longer than ${MAX_VALUE_BYTES} bytes`;
    if (this.get(namespace, key) === undefined && this.entries >= MAX_ENTRIES) return `KV config is full (${MAX_ENTRIES} entries)`;
    this.putRaw(namespace, key, value);
    this.persist();
    return undefined;
  }

  delete(namespace: string, key: string): void {
    const kv = this.table.get(namespace);
    if (!kv || !kv.delete(key)) return;
    this.entries--;
    if (kv.size === 0) this.table.delete(namespace);
    this.persist();
  }

  private putRaw(namespace: string, key: string, value: string): void {
    let kv = this.table.get(namespace);
    if (!kv) this.table.set(namespace, (kv = new Map()));
    if (!kv.has(key)) this.entries++;
    kv.set(key, value);
  }

  private persist(): void {
    if (!this.file) return;
    const configTable: Record<string, Record<string, string>> = {};
    for (const [ns, kv] of this.table) configTable[ns] = Object.fromEntries(kv);
    const tmp = `${this.file}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(tmp, JSON.stringify({ configTable }, null, 2));
      fs.renameSync(tmp, this.file);
    } catch (e) {
      this.log(`could not persist KV config to ${this.file}: ${(e as Error).message}`);
    }
  }
}
