// Which log segments may go, and whether the disk still takes writes. Pure decisions: the
// caller brings the segment list, the clock, the hour of day and the disk usage.
//
// RocketMQ's rules (CleanCommitLogService, DLedger's CleanSpaceService), plus floors they lack:
// - a segment expires `fileReservedTime` hours after it was last modified;
// - expired segments go at a `deleteWhen` hour, or at any hour once disk use is above
//   `diskMaxUsedSpaceRatio`;
// - above the force-clean ratio the oldest segments go even if not expired;
// - above the disk-full ratio writes are refused, until use falls back to the force-clean ratio;
// - oldest first, a prefix only, at most N per pass, never the last segment;
// - unlike RocketMQ and DLedger, never a segment holding a position someone still needs: the
//   index's applied checkpoint (to rebuild from) or a lagging follower's next position.
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';

export interface RetentionSegment {
  /** file name (the 20-digit start position) */
  name: string;
  /** log position of the first byte */
  start: number;
  /** log position just past the last byte (the next segment's start) */
  end: number;
  /** last-modified time of the file, ms since the epoch */
  lastModifiedMs: number;
  /** the segment being appended to; it is never deleted (nor is the last one, flagged or not) */
  active?: boolean;
}

/** A position that must stay readable, and who needs it (named in logs and reasons). */
export interface RetainFloor {
  position: number;
  holder: string;
}

/** Thresholds in percent of the filesystem, as RocketMQ's settings are written. */
export interface DiskRatios {
  /** above it, expired segments go at any hour (RocketMQ `diskMaxUsedSpaceRatio`, 75) */
  diskMaxUsedSpaceRatio: number;
  /** above it, the oldest segments go even if not expired (DLedger `diskSpaceRatioToForceClean`, 85) */
  diskForceCleanRatio: number;
  /** above it, writes are refused (RocketMQ `diskSpaceWarningLevelRatio`, 90) */
  diskFullRatio: number;
}

export const DEFAULT_DISK_RATIOS: Readonly<DiskRatios> = Object.freeze({
  diskMaxUsedSpaceRatio: 75,
  diskForceCleanRatio: 85,
  diskFullRatio: 90,
});

/** RocketMQ deletes at most 10 files per pass (DELETE_FILES_BATCH_MAX). */
export const DEFAULT_MAX_DELETES_PER_PASS = 10;

export interface RetentionInput {
  /** the log's data segments, any order (sorted by start here) */
  segments: readonly RetentionSegment[];
  now: number;
  /** hours a segment is kept after its last modification (RocketMQ `fileReservedTime`) */
  fileReservedTime: number;
  /** hours of the day at which expired segments may go: "04" or "04;16" (RocketMQ `deleteWhen`) */
  deleteWhen: string;
  /** the hour of day (0..23) at `now`, in the operator's time zone: see localHourOfDay, hourOfDayAtOffset */
  hourOfDay: (nowMs: number) => number;
  /** used fraction (0..1) of the store's filesystem; undefined when it could not be read */
  diskUsageRatio: number | undefined;
  ratios?: DiskRatios;
  /** delete unexpired segments above the force-clean ratio (RocketMQ `cleanFileForciblyEnable`, default true) */
  cleanFileForciblyEnable?: boolean;
  /** positions that must stay: a segment holding one, or anything after it, is kept */
  retainFrom?: readonly RetainFloor[];
  maxDeletesPerPass?: number;
}

export type DeletionReason = 'expired' | 'force-clean';

export interface SegmentDeletion {
  segment: RetentionSegment;
  reason: DeletionReason;
  /** one line for the log: why this segment may go now */
  detail: string;
}

export interface RetentionDecision {
  /** segments to delete, oldest first: always a prefix of the log */
  delete: SegmentDeletion[];
  /** the oldest segment that stays although it is not the last, and why (absent when none is left) */
  held?: { segment: RetentionSegment; reason: string };
}

/** "04;16" -> [4, 16]. Throws on anything else, naming the text. */
export function parseDeleteWhen(deleteWhen: string): number[] {
  const hours = deleteWhen.split(';').map((h) => h.trim());
  if (!hours.every((h) => /^\d{1,2}$/.test(h) && Number(h) <= 23)) {
    throw new RangeError(`deleteWhen ${JSON.stringify(deleteWhen)} is not hours 0..23 separated by ';' (e.g. "04" or "04;16")`);
  }
  return hours.map(Number);
}

/** Hour of day in the process's time zone, as the Java broker computes it. */
export function localHourOfDay(nowMs: number): number {
  return new Date(nowMs).getHours();
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Hour of day at a fixed offset from UTC (minutes east, e.g. +480 for UTC+8). */
export function hourOfDayAtOffset(utcOffsetMinutes: number): (nowMs: number) => number {
  return (nowMs) => {
    const local = (((nowMs + utcOffsetMinutes * 60_000) % DAY_MS) + DAY_MS) % DAY_MS;
    return Math.floor(local / HOUR_MS);
  };
}

function checkRatios(ratios: DiskRatios): void {
  for (const [name, value] of Object.entries(ratios)) {
    if (typeof value !== 'number' || !(value > 0 && value <= 100)) throw new RangeError(`${name} must be a percentage in (0, 100], got ${value}`);
  }
}

/** 0.9234 -> " 0.92", the way RocketMQ prints disk use (%5.2f). */
function ratioText(ratio: number): string {
  return ratio.toFixed(2).padStart(5);
}

function hoursText(ms: number): string {
  return `${(ms / HOUR_MS).toFixed(1)} h`;
}

/** Decides which segments to delete in this pass. */
export function decideRetention(input: RetentionInput): RetentionDecision {
  const ratios = input.ratios ?? DEFAULT_DISK_RATIOS;
  checkRatios(ratios);
  const maxDeletes = input.maxDeletesPerPass ?? DEFAULT_MAX_DELETES_PER_PASS;
  if (!Number.isSafeInteger(maxDeletes) || maxDeletes < 1) throw new RangeError(`maxDeletesPerPass must be a positive integer, got ${maxDeletes}`);
  if (!(input.fileReservedTime >= 0)) throw new RangeError(`fileReservedTime must be 0 or more hours, got ${input.fileReservedTime}`);
  const usage = input.diskUsageRatio;
  if (usage !== undefined && !(usage >= 0 && usage <= 1)) throw new RangeError(`diskUsageRatio must be in [0, 1], got ${usage}`);

  const hour = input.hourOfDay(input.now);
  const timeUp = parseDeleteWhen(input.deleteWhen).includes(hour);
  // As RocketMQ: when the usage cannot be read, expired segments may go at any hour.
  const spaceLow = usage === undefined || usage > ratios.diskMaxUsedSpaceRatio / 100;
  const forceClean = (input.cleanFileForciblyEnable ?? true) && usage !== undefined && usage > ratios.diskForceCleanRatio / 100;
  const reservedMs = input.fileReservedTime * HOUR_MS;
  const floor = lowestFloor(input.retainFrom ?? []);

  const segments = [...input.segments].sort((a, b) => a.start - b.start);
  const decision: RetentionDecision = { delete: [] };
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i] as RetentionSegment;
    const hold = (reason: string): RetentionDecision => {
      decision.held = { segment, reason };
      return decision;
    };
    if (segment.active) return hold('it is the active segment');
    if (floor && segment.end > floor.position) return hold(`it holds position ${floor.position}, still needed by ${floor.holder}`);
    if (decision.delete.length >= maxDeletes) return hold(`the limit of ${maxDeletes} deletions per pass was reached`);

    const age = input.now - segment.lastModifiedMs;
    const expired = age >= reservedMs;
    const kept = `last modified ${hoursText(age)} ago, fileReservedTime ${input.fileReservedTime} h`;
    if (expired && (timeUp || spaceLow)) {
      const when = timeUp
        ? `deleteWhen hour ${String(hour).padStart(2, '0')}`
        : usage === undefined
          ? 'disk use unknown'
          : `disk use ${ratioText(usage).trim()} above diskMaxUsedSpaceRatio ${ratios.diskMaxUsedSpaceRatio}%`;
      decision.delete.push({ segment, reason: 'expired', detail: `expired (${kept}; ${when})` });
    } else if (forceClean) {
      const use = ratioText(usage as number).trim();
      decision.delete.push({
        segment,
        reason: 'force-clean',
        detail: `disk use ${use} above the force-clean ratio ${ratios.diskForceCleanRatio}% (${kept})`,
      });
    } else if (expired) {
      return hold(`expired, waiting for a deleteWhen hour (${input.deleteWhen}) or disk use above ${ratios.diskMaxUsedSpaceRatio}%`);
    } else {
      return hold(`not expired: ${kept}, ${hoursText(reservedMs - age)} to go`);
    }
  }
  return decision;
}

function lowestFloor(floors: readonly RetainFloor[]): RetainFloor | undefined {
  let lowest: RetainFloor | undefined;
  for (const f of floors) {
    if (!Number.isFinite(f.position)) throw new RangeError(`retain-from position of ${f.holder} must be a number, got ${f.position}`);
    if (!lowest || f.position < lowest.position) lowest = f;
  }
  return lowest;
}

export interface DiskGuard {
  writable: boolean;
  /** when not writable: the remark for the refused request */
  reason?: string;
  /** when not writable: the RocketMQ response code (SERVICE_NOT_AVAILABLE, as the Java send path) */
  code?: number;
}

/**
 * Whether the store takes writes at this disk usage (fraction 0..1). Above the disk-full ratio
 * it does not. Pass the previous result to get RocketMQ's hysteresis: once refused, writes stay
 * refused until use falls to the force-clean ratio. Reads are never refused. Unknown usage
 * (undefined) changes nothing: the previous result stands, writable when there is none.
 */
export function diskGuard(usageRatio: number | undefined, ratios: DiskRatios = DEFAULT_DISK_RATIOS, previous?: DiskGuard): DiskGuard {
  checkRatios(ratios);
  if (usageRatio === undefined) return previous ?? { writable: true };
  const full = usageRatio > ratios.diskFullRatio / 100;
  const stillFull = previous !== undefined && !previous.writable && usageRatio > ratios.diskForceCleanRatio / 100;
  if (!full && !stillFull) return { writable: true };
  const limit = full
    ? `above the disk-full ratio ${ratios.diskFullRatio}%`
    : `not yet back to the force-clean ratio ${ratios.diskForceCleanRatio}% since it passed ${ratios.diskFullRatio}%`;
  return {
    writable: false,
    code: ResponseCode.SERVICE_NOT_AVAILABLE,
    reason: `service not available now: the broker's disk is full [CL: ${ratioText(usageRatio)}], ${limit}; writes are refused until old segments are deleted, reads go on`,
  };
}
