// The I/O side of retention: how full the store's filesystem is, and a service that applies
// RetentionPolicy to the log every few seconds and keeps the disk-full guard current.
import fs from 'node:fs/promises';
import {
  DEFAULT_DISK_RATIOS,
  decideRetention,
  diskGuard,
  localHourOfDay,
  parseDeleteWhen,
  type DiskGuard,
  type DiskRatios,
  type RetainFloor,
  type RetentionSegment,
  type SegmentDeletion,
} from './RetentionPolicy.js';

/**
 * Used fraction (0..1) of the filesystem holding `path`, as `df` shows it: used / (used +
 * available to unprivileged users). It reaches 1 when a non-root writer gets ENOSPC; Java's
 * figure (used / total) stops short of that by the root-reserved blocks.
 */
export async function diskUsageRatio(path: string): Promise<number> {
  const s = await fs.statfs(path);
  const used = s.blocks - s.bfree;
  const usable = used + s.bavail;
  return usable > 0 ? used / usable : 0;
}

/** What retention needs from the log; the log implements it. */
export interface SegmentSource {
  /** the data segments with their positions and file mtimes (the last one is the active one) */
  listSegments(): Promise<readonly RetentionSegment[]>;
  /** delete one segment; called oldest first, each only after the one before it is gone */
  deleteSegment(segment: RetentionSegment): Promise<void>;
  /** positions that must stay: the index's applied checkpoint, a lagging follower's next position */
  retainFloors(): Promise<readonly RetainFloor[]>;
}

export interface TimerApi {
  setInterval(fn: () => void, ms: number): { unref?(): unknown };
  clearInterval(handle: { unref?(): unknown }): void;
}

export interface RetentionServiceOptions {
  source: SegmentSource;
  /** a path on the store's filesystem (the log folder) */
  storePath: string;
  fileReservedTime: number;
  deleteWhen: string;
  ratios?: DiskRatios;
  cleanFileForciblyEnable?: boolean;
  maxDeletesPerPass?: number;
  /** ms between passes (default 10000, RocketMQ's cleanResourceInterval) */
  intervalMs?: number;
  now?: () => number;
  hourOfDay?: (nowMs: number) => number;
  diskUsage?: (path: string) => Promise<number>;
  log?: (line: string) => void;
  timers?: TimerApi;
}

export interface RetentionPassResult {
  diskUsageRatio: number | undefined;
  guard: DiskGuard;
  deleted: SegmentDeletion[];
  /** the oldest segment kept although not the last, and why */
  held?: { segment: RetentionSegment; reason: string };
  /** what went wrong in this pass, if anything (also logged) */
  error?: Error;
}

export const DEFAULT_RETENTION_INTERVAL_MS = 10_000;

export class RetentionService {
  private readonly options: RetentionServiceOptions;
  private readonly ratios: DiskRatios;
  private readonly now: () => number;
  private readonly hourOfDay: (nowMs: number) => number;
  private readonly diskUsage: (path: string) => Promise<number>;
  private readonly log: (line: string) => void;
  private readonly timers: TimerApi;
  private readonly intervalMs: number;
  private timer: { unref?(): unknown } | undefined;
  private inFlight: Promise<RetentionPassResult> | undefined;
  private currentGuard: DiskGuard = { writable: true };
  private usage: number | undefined;
  private lastProblem = '';

  constructor(options: RetentionServiceOptions) {
    parseDeleteWhen(options.deleteWhen); // refuse a bad setting at construction, not at 4 a.m.
    this.options = options;
    this.ratios = options.ratios ?? DEFAULT_DISK_RATIOS;
    this.now = options.now ?? Date.now;
    this.hourOfDay = options.hourOfDay ?? localHourOfDay;
    this.diskUsage = options.diskUsage ?? diskUsageRatio;
    this.log = options.log ?? (() => undefined);
    this.timers = options.timers ?? { setInterval: (fn, ms) => setInterval(fn, ms), clearInterval: (h) => clearInterval(h as NodeJS.Timeout) };
    this.intervalMs = options.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS;
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${this.intervalMs}`);
  }

  /** Whether sends are accepted now, from the last pass (the send path asks this per request). */
  get guard(): DiskGuard {
    return this.currentGuard;
  }

  /** Disk use measured by the last pass (undefined before the first or when it failed). */
  get diskUsageRatio(): number | undefined {
    return this.usage;
  }

  start(): void {
    if (this.timer) return;
    this.timer = this.timers.setInterval(() => {
      if (!this.inFlight) void this.runOnce();
    }, this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) this.timers.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass: measure the disk, update the guard, delete what the policy allows. A pass already running is shared. */
  runOnce(now: number = this.now()): Promise<RetentionPassResult> {
    this.inFlight ??= this.pass(now).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async pass(now: number): Promise<RetentionPassResult> {
    const { source, storePath } = this.options;
    let usage: number | undefined;
    try {
      usage = await this.diskUsage(storePath);
    } catch (err) {
      this.problem(`cannot read disk usage of ${storePath}: ${(err as Error).message}`);
    }
    this.usage = usage;
    this.updateGuard(usage, storePath);
    const result: RetentionPassResult = { diskUsageRatio: usage, guard: this.currentGuard, deleted: [] };
    try {
      const [segments, floors] = await Promise.all([source.listSegments(), source.retainFloors()]);
      const decision = decideRetention({
        segments,
        now,
        fileReservedTime: this.options.fileReservedTime,
        deleteWhen: this.options.deleteWhen,
        hourOfDay: this.hourOfDay,
        diskUsageRatio: usage,
        ratios: this.ratios,
        cleanFileForciblyEnable: this.options.cleanFileForciblyEnable,
        retainFrom: floors,
        maxDeletesPerPass: this.options.maxDeletesPerPass,
      });
      if (decision.held) result.held = decision.held;
      for (const deletion of decision.delete) {
        const { segment } = deletion;
        await source.deleteSegment(segment);
        result.deleted.push(deletion);
        this.log(`deleted log segment ${segment.name} [${segment.start}, ${segment.end}): ${deletion.detail}`);
      }
      // Space is short and something still holds it: say so (once per distinct reason).
      if (decision.held && usage !== undefined && usage > this.ratios.diskMaxUsedSpaceRatio / 100) {
        this.problem(`disk use of ${storePath} is above ${this.ratios.diskMaxUsedSpaceRatio}%, but segment ${decision.held.segment.name} stays: ${decision.held.reason}`);
      } else if (usage !== undefined) {
        this.lastProblem = '';
      }
    } catch (err) {
      result.error = err as Error;
      this.log(`retention pass stopped: ${(err as Error).message}`);
    }
    return result;
  }

  private updateGuard(usage: number | undefined, storePath: string): void {
    const next = diskGuard(usage, this.ratios, this.currentGuard);
    if (usage !== undefined && next.writable !== this.currentGuard.writable) {
      this.log(
        next.writable
          ? `disk use ${usage.toFixed(2)} of ${storePath} is back to ${this.ratios.diskForceCleanRatio}% or less: writes accepted again`
          : `disk use ${usage.toFixed(2)} of ${storePath} is above ${this.ratios.diskFullRatio}%: writes refused, reads go on`,
      );
    }
    this.currentGuard = next;
  }

  /** Logs a problem line once until it changes, so a stuck condition does not flood the log. */
  private problem(line: string): void {
    if (line === this.lastProblem) return;
    this.lastProblem = line;
    this.log(line);
  }
}
