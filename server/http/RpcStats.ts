// The RPC latency histogram (RocketMQ 5's rocketmq_rpc_latency, milliseconds, by request and
// response code) and the requests in progress per request code, fed by RemotingServer's
// request observer: one Map lookup by a number key and a few additions per request.
import { performance } from 'node:perf_hooks';
import type { RequestObserver } from '../remoting/RemotingServer.js';
import { LabelSet, PlainHistogram } from './MetricRegistry.js';

/** RocketMQ 5's rpc latency buckets (ms): 1, 3, 5, 10, 100, 1000, 3000. */
export const RPC_LATENCY_BUCKETS_MS: readonly number[] = [1, 3, 5, 10, 100, 1000, 3000];

export interface RpcCell {
  requestCode: number;
  responseCode: number;
  latency: PlainHistogram;
  /** rendered at the first scrape that sees the cell */
  labels?: LabelSet;
}

/** rocketmq_rpc_latency's labels of a cell */
export function rpcLabels(c: RpcCell): LabelSet {
  return (c.labels ??= new LabelSet({ protocol_type: 'remoting', request_code: c.requestCode, response_code: c.responseCode }));
}

export class RpcStats implements RequestObserver {
  readonly cells = new Map<number, RpcCell>();
  /** request code -> requests dispatched and not answered yet */
  readonly inflight = new Map<number, number>();
  private overflow: RpcCell | undefined;

  constructor(private readonly maxCells = 2000) {}

  begin(requestCode: number): number {
    this.inflight.set(requestCode, (this.inflight.get(requestCode) ?? 0) + 1);
    return performance.now();
  }

  end(requestCode: number, responseCode: number, begun: number): void {
    this.inflight.set(requestCode, (this.inflight.get(requestCode) ?? 1) - 1);
    this.cell(requestCode, responseCode).latency.observe(performance.now() - begun);
  }

  private cell(requestCode: number, responseCode: number): RpcCell {
    // codes are small integers (response -1 for no answer): one number key
    const key = requestCode * 100_000 + responseCode + 1;
    let c = this.cells.get(key);
    if (c !== undefined) return c;
    if (this.cells.size >= this.maxCells) return (this.overflow ??= { requestCode: -1, responseCode: -1, latency: new PlainHistogram(RPC_LATENCY_BUCKETS_MS) });
    c = { requestCode, responseCode, latency: new PlainHistogram(RPC_LATENCY_BUCKETS_MS) };
    this.cells.set(key, c);
    return c;
  }

  all(): RpcCell[] {
    const out = [...this.cells.values()];
    if (this.overflow) out.push(this.overflow);
    return out;
  }

  /** requests answered so far with this request code (any response) */
  answered(requestCode: number): number {
    let n = 0;
    for (const c of this.cells.values()) if (c.requestCode === requestCode) n += c.latency.count;
    return n;
  }
}
