// Node's process metrics under the names prom-client's default collectors use (so dashboards
// written for them keep working), read cheaply at scrape time; /proc (open descriptors, virtual
// memory) at most every 5 s. Left out: the event-loop delay's mean and standard deviation
// (computing them walks the whole delay histogram: 0.1-0.8 ms per scrape under load, more than
// everything else here) and the deprecated per-handle and per-request gauges
// (nodejs_active_resources covers them).
import fs from 'node:fs';
import { PerformanceObserver, constants, monitorEventLoopDelay, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';
import { LabelSet, type MetricRegistry } from './MetricRegistry.js';

/** prom-client's GC duration buckets (seconds) */
export const GC_DURATION_BUCKETS: readonly number[] = [0.001, 0.01, 0.1, 1, 2, 5];
const GC_KINDS: ReadonlyArray<[number, string]> = [
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
];
/** resolution (ms) of the event-loop delay sampling */
const LOOP_DELAY_RESOLUTION_MS = 10;
/** what /proc says (open descriptors, virtual memory) is read at most this often: a read costs 50-100 µs */
export const PROC_READ_INTERVAL_MS = 5000;

function readProc(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** a "Key:   123 kB" line of /proc/self/status, in bytes */
function statusBytes(status: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s*(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Registers the process families; returns what stops their samplers (the delay monitor, the GC observer). */
export function registerProcessMetrics(registry: MetricRegistry): () => void {
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  const maxFds = /^Max open files\s+(\d+)/m.exec(readProc('/proc/self/limits') ?? '')?.[1];

  registry.register('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', 'counter', (out) => {
    out.push({ labels: {}, value: process.cpuUsage().user / 1e6 });
  });
  registry.register('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', 'counter', (out) => {
    out.push({ labels: {}, value: process.cpuUsage().system / 1e6 });
  });
  registry.register('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', 'counter', (out) => {
    const u = process.cpuUsage();
    out.push({ labels: {}, value: (u.user + u.system) / 1e6 });
  });
  registry.register('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', 'gauge', (out) => {
    out.push({ labels: {}, value: startTime });
  });
  registry.register('process_resident_memory_bytes', 'Resident memory size in bytes.', 'gauge', (out) => {
    out.push({ labels: {}, value: process.memoryUsage.rss() });
  });
  // /proc is read at most every PROC_READ_INTERVAL_MS, by the first family that needs it
  const proc = { readAt: -Infinity, vmSize: undefined as number | undefined, vmData: undefined as number | undefined, fds: undefined as number | undefined };
  const readProcNow = (): typeof proc => {
    const now = Date.now();
    if (now - proc.readAt < PROC_READ_INTERVAL_MS) return proc;
    proc.readAt = now;
    const status = readProc('/proc/self/status');
    proc.vmSize = status === undefined ? undefined : statusBytes(status, 'VmSize');
    proc.vmData = status === undefined ? undefined : statusBytes(status, 'VmData');
    try {
      // the directory's own descriptor is open while it is read
      proc.fds = fs.readdirSync('/proc/self/fd').length - 1;
    } catch {
      proc.fds = undefined;
    }
    return proc;
  };
  registry.register('process_virtual_memory_bytes', 'Virtual memory size in bytes.', 'gauge', (out) => {
    const v = readProcNow().vmSize;
    if (v !== undefined) out.push({ labels: {}, value: v });
  });
  registry.register('process_heap_bytes', 'Process heap size in bytes.', 'gauge', (out) => {
    const v = readProcNow().vmData;
    if (v !== undefined) out.push({ labels: {}, value: v });
  });
  registry.register('process_open_fds', `Number of open file descriptors (read at most every ${PROC_READ_INTERVAL_MS / 1000} s).`, 'gauge', (out) => {
    const v = readProcNow().fds;
    if (v !== undefined) out.push({ labels: {}, value: v });
  });
  registry.register('process_max_fds', 'Maximum number of open file descriptors.', 'gauge', (out) => {
    if (maxFds !== undefined) out.push({ labels: {}, value: Number(maxFds) });
  });

  // Event-loop delay: what one setImmediate waited at the previous scrape, and the distribution
  // sampled between scrapes (libuv timer, no JavaScript per sample).
  let immediateLag = 0;
  const delay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  delay.enable();
  const delays = { min: 0, max: 0, p50: 0, p90: 0, p99: 0 };
  registry.register('nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds (one setImmediate, measured at the previous scrape).', 'gauge', (out) => {
    out.push({ labels: {}, value: immediateLag });
    const t0 = process.hrtime.bigint();
    setImmediate(() => (immediateLag = Number(process.hrtime.bigint() - t0) / 1e9));
    const has = delay.count > 0;
    delays.min = has ? delay.min / 1e9 : 0;
    delays.max = has ? delay.max / 1e9 : 0;
    delays.p50 = has ? delay.percentile(50) / 1e9 : 0;
    delays.p90 = has ? delay.percentile(90) / 1e9 : 0;
    delays.p99 = has ? delay.percentile(99) / 1e9 : 0;
    delay.reset();
  });
  const delayGauge = (name: string, help: string, key: keyof typeof delays): void =>
    registry.register(name, help, 'gauge', (out) => {
      out.push({ labels: {}, value: delays[key] });
    });
  delayGauge('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay since the previous scrape.', 'min');
  delayGauge('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay since the previous scrape.', 'max');
  delayGauge('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays since the previous scrape.', 'p50');
  delayGauge('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays since the previous scrape.', 'p90');
  delayGauge('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays since the previous scrape.', 'p99');

  registry.register('nodejs_active_resources', 'Resources keeping the event loop alive, by type (process.getActiveResourcesInfo()).', 'gauge', (out) => {
    const byType = new Map<string, number>();
    for (const r of process.getActiveResourcesInfo()) byType.set(r, (byType.get(r) ?? 0) + 1);
    for (const [type, n] of byType) out.push({ labels: { type }, value: n });
  });
  registry.register('nodejs_active_resources_total', 'Total resources keeping the event loop alive.', 'gauge', (out) => {
    out.push({ labels: {}, value: process.getActiveResourcesInfo().length });
  });

  let heap: v8.HeapInfo | undefined;
  registry.register('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', 'gauge', (out) => {
    heap = v8.getHeapStatistics();
    out.push({ labels: {}, value: heap.total_heap_size });
  });
  registry.register('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', 'gauge', (out) => {
    if (heap) out.push({ labels: {}, value: heap.used_heap_size });
  });
  registry.register('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', 'gauge', (out) => {
    if (heap) out.push({ labels: {}, value: heap.external_memory });
  });

  const spaceLabels = new Map<string, LabelSet>();
  let spaces: v8.HeapSpaceInfo[] = [];
  const spaceGauge = (name: string, help: string, pick: (s: v8.HeapSpaceInfo) => number, read = false): void =>
    registry.register(name, help, 'gauge', (out) => {
      if (read) spaces = v8.getHeapSpaceStatistics();
      for (const s of spaces) {
        const space = s.space_name.replace(/_space$/, '');
        let l = spaceLabels.get(space);
        if (!l) spaceLabels.set(space, (l = new LabelSet({ space })));
        out.push({ labels: l, value: pick(s) });
      }
    });
  spaceGauge('nodejs_heap_space_size_total_bytes', 'Process heap space size total from Node.js in bytes.', (s) => s.space_size, true);
  spaceGauge('nodejs_heap_space_size_used_bytes', 'Process heap space size used from Node.js in bytes.', (s) => s.space_used_size);
  spaceGauge('nodejs_heap_space_size_available_bytes', 'Process heap space size available from Node.js in bytes.', (s) => s.space_available_size);

  const [major, minor, patch] = process.versions.node.split('.').map(Number);
  const version = new LabelSet({ version: process.version, major: major ?? 0, minor: minor ?? 0, patch: patch ?? 0 });
  registry.register('nodejs_version_info', 'Node.js version info.', 'gauge', (out) => {
    out.push({ labels: version, value: 1 });
  });

  // GC pauses by kind, in seconds: plain buckets, filled by the observer as collections end
  const gc = GC_KINDS.map(([code, kind]) => ({ code, labels: new LabelSet({ kind }), counts: new Float64Array(GC_DURATION_BUCKETS.length + 1), sum: 0, seen: false }));
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const code = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      const h = gc.find((g) => g.code === code);
      if (!h) continue;
      const s = e.duration / 1000;
      let i = 0;
      while (i < GC_DURATION_BUCKETS.length && s > GC_DURATION_BUCKETS[i]!) i++;
      h.counts[i]!++;
      h.sum += s;
      h.seen = true;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  registry.register('nodejs_gc_duration_seconds', 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.', 'histogram', (out) => {
    for (const h of gc) if (h.seen) out.push({ labels: h.labels, bounds: GC_DURATION_BUCKETS, counts: h.counts, sum: h.sum });
  });

  return () => {
    delay.disable();
    observer.disconnect();
  };
}
