// V8's old-generation growth for the server processes (the broker, the standalone Raft node).
// After each full GC V8 sets the next limit at the live size plus about 8 MB plus one young
// generation, and starts marking once less than a young generation is left: with some 16 MB
// live and a steady flow of entries that outlive two scavenges, a follower ran a full GC every
// 150-250 ms at 20-30k messages/s. A growing factor of 4 lets the old generation reach about four
// times its live size first (tens of MB here; Java brokers run with heaps of gigabytes).
import v8 from 'node:v8';

export const HEAP_GROWING_PERCENT = 300;

/** The flag to set, or undefined when the process was started with its own choice (node flags or NODE_OPTIONS). */
export function heapGrowthFlag(execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  const given = (s: string): boolean => /--heap[-_]growing[-_]percent\b/.test(s);
  if (execArgv.some(given) || given(nodeOptions ?? '')) return undefined;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/** Sets the growing factor for this process (V8 reads it at every full GC, so it applies from the next one). */
export function applyHeapGrowth(): void {
  const flag = heapGrowthFlag(process.execArgv, process.env['NODE_OPTIONS']);
  if (flag !== undefined) v8.setFlagsFromString(flag);
}
