// test/fixtures/store/manifest.json: every message record of the Java 4.9.8 store fixtures,
// decoded, with what the Java client saw (see test/fixtures/store/README.md).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { fixturePath } from './fixtures.js';

export interface ManifestMessage {
  topic: string;
  queueId: number;
  queueOffset: number;
  physicalOffset: number;
  storeSize: number;
  sysFlag: number;
  tags: string;
  keys: string;
  properties: Record<string, string>;
  bodyCRC: number;
  bornTimestamp: number;
  storeTimestamp: number;
  bornHost: string;
  storeHost: string;
  reconsumeTimes: number;
  storedBodyLength: number;
  storedBodyHex: string;
  bodyText?: string;
  uncompressedBodyText?: string;
  msgId: string;
  offsetMsgId: string;
}

/** The DLedger store's messages also carry their entry's place in the Raft log. */
export interface DLedgerManifestMessage extends ManifestMessage {
  dledgerIndex: number;
  dledgerTerm: number;
  dledgerEntryPos: number;
  dledgerEntrySize: number;
}

export interface ManifestStore<M extends ManifestMessage = ManifestMessage> {
  name: string;
  tarball: string;
  root: string;
  broker: { mappedFileSizeCommitLog: number };
  messageCount: number;
  messages: M[];
}

export function manifestStore(name: 'classic'): ManifestStore;
export function manifestStore(name: 'dledger-node2'): ManifestStore<DLedgerManifestMessage>;
export function manifestStore(name: string): ManifestStore<ManifestMessage> {
  const manifest = JSON.parse(fs.readFileSync(fixturePath('store', 'manifest.json'), 'utf8')) as { stores: ManifestStore[] };
  const store = manifest.stores.find((s) => s.name === name);
  if (!store) throw new Error(`manifest.json has no store named ${name}`);
  return store;
}

/** Unpacks a store fixture's tarball into `dir`; its files are then under `dir/<store.root>`. */
export function extractStore(store: ManifestStore<ManifestMessage>, dir: string): void {
  execFileSync('tar', ['-xzf', fixturePath('store', store.tarball), '-C', dir]);
}
