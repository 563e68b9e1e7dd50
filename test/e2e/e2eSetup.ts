// Shared set-up of the ali-ons end-to-end tests: an in-process name server, a bin/mqbroker
// process, message bodies, and waiting on the broker's view of a consumer group.
import type { Test } from 'tap';
import { AdminApi } from '../../client/AdminApi.js';
import type { NamesrvController } from '../../server/namesrv/NamesrvController.js';
import { startBrokerProcess, type BrokerProcess, type BrokerSetup } from '../helpers/broker.js';
import { startNamesrv } from '../helpers/namesrv.js';

/** 18 delay levels of one second, so retries come back quickly. */
export const SHORT_DELAY_LEVELS = Array.from({ length: 18 }, () => '1s').join(' ');

export interface Cluster {
  ns: NamesrvController;
  namesrvAddr: string;
  broker: BrokerProcess;
  admin: AdminApi;
}

export async function startCluster(t: Test, broker: Omit<BrokerSetup, 'namesrvAddr'> = {}): Promise<Cluster> {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const namesrvAddr = `127.0.0.1:${ns.port}`;
  const b = await startBrokerProcess(t, { ...broker, namesrvAddr });
  const admin = new AdminApi(namesrvAddr);
  t.teardown(() => admin.close());
  return { ns, namesrvAddr, broker: b, admin };
}

/** A deterministic text of `size` bytes (ASCII), different for each seed. */
export function textBody(seed: number, size: number): string {
  let x = (seed * 2654435761) >>> 0;
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';
  let s = '';
  while (s.length < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += alphabet[x % alphabet.length];
  }
  return s;
}

/**
 * Waits until the broker's consume stats for `group` on `topic` show, for every queue, a
 * committed offset of at least `want(queueId, brokerOffset)` (every queue consumed to its end
 * by default). The offsets come from the consumer's commits.
 */
export async function waitCommitted(
  admin: AdminApi,
  group: string,
  topic: string,
  timeoutMs: number,
  want: (queueId: number, brokerOffset: number) => number = (_q, max) => max,
): Promise<Map<number, number>> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const stats = await admin.examineConsumeStats(group, topic);
      const rows = [...stats.offsetTable].filter(([mq]) => mq.topic === topic);
      last = rows.map(([mq, o]) => `q${mq.queueId} ${o.consumerOffset}/${want(mq.queueId, o.brokerOffset)}`).join(', ');
      if (rows.length > 0 && rows.every(([mq, o]) => o.consumerOffset >= want(mq.queueId, o.brokerOffset))) {
        return new Map(rows.map(([mq, o]) => [mq.queueId, o.consumerOffset]));
      }
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`group ${group}: committed offsets of ${topic} not reached within ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** For waitCommitted: one past the last of `sent` in each queue. */
export function pastLastSent(sent: Array<{ queueId: number; queueOffset: number }>): (queueId: number) => number {
  return (q) => Math.max(0, ...sent.filter((s) => s.queueId === q).map((s) => s.queueOffset + 1));
}

/** Counts by key, for "exactly once" checks. */
export function countBy<T>(items: T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}
