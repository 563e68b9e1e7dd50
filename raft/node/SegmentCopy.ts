// Segment copy: how a follower catches up when it needs entries the leader no longer holds
// (retention dropped them; raft/core names such followers in Ready.behindLogStart).
//
// The leader sends, over the Raft transport, its data segments from its first index up to its
// commit index, byte for byte (DLedger's layout, so positions and physical offsets stay the
// same on every replica), followed by the application's snapshot (for the broker: topics,
// groups, consumer and delay offsets). Every chunk is acknowledged; at most WINDOW chunks are
// unacknowledged, so the copy never fills the transport's queue.
//
// The follower writes everything into `<dir>/copy-tmp/`, fsyncs it, and renames it to
// `<dir>/copy-ready/` (the commit point). It then stops its core, swaps the copied segments in
// for its own (its currterm, the fsynced term and vote, stays), reopens the log and restarts
// the core on it, and hands the snapshot to the application before anything past it is
// applied. A crash anywhere is safe: `copy-tmp` is thrown away at start, `copy-ready` is
// swapped in at start (finishPendingCopy), and the snapshot stays in `<dir>/snapshot` until
// the next copy replaces it.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CopyPart, type WireCopyAck, type WireCopyChunk } from '../../protocol/raft/index.js';
import { ENTRY_HEADER_SIZE } from '../../storage/log/entryCodec.js';
import type { SegmentedLog } from '../../storage/log/SegmentedLog.js';
import { CRC_MARKER_FILE } from '../../storage/log/SegmentedLog.js';
import { segmentName, segmentStartOf, syncDir, syncFile } from '../../storage/log/segmentFiles.js';
import { CHECKPOINT_FILE, writeFileAtomic } from '../../storage/log/termFiles.js';

/** Bytes per chunk. */
export const COPY_CHUNK_BYTES = 512 * 1024;
/** Chunks sent and not yet acknowledged, at most. */
export const COPY_WINDOW = 4;
/** A copy with no acknowledgement (leader) or no chunk (follower) for this long is abandoned. */
export const DEFAULT_COPY_IDLE_MS = 10_000;
/** The largest application snapshot accepted. */
export const MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024;

const TMP = 'copy-tmp';
const READY = 'copy-ready';
const OLD_DATA = 'data-replaced';
export const SNAPSHOT_FILE = 'snapshot';
export const SNAPSHOT_MANIFEST_FILE = 'snapshot.json';

/** What the leader copies, sent first (BEGIN) and kept next to the snapshot. */
export interface CopyManifest {
  /** first and last entry of the copied log */
  firstIndex: number;
  lastIndex: number;
  lastTerm: number;
  /** where the first copied segment starts, and where the last copied entry ends */
  startPos: number;
  endPos: number;
  dataSegmentSize: number;
  /** entries below this position may carry zero CRCs (the leader's crc-checked-from) */
  crcCheckedFrom: number;
  snapshotBytes: number;
  /** the leader's applied index when it took the snapshot (-1: no snapshot) */
  snapshotAppliedIndex: number;
  leaderId: string;
  term: number;
}

/** The application's part of a copy: its state, as bytes it reads back itself. */
export interface AppSnapshot {
  appliedIndex: number;
  data: Buffer;
}

/** What a follower's application is given after a copy replaced its log. */
export interface InstalledCopy {
  /** the log now starts here; the application's state counts as applied up to firstIndex - 1 */
  firstIndex: number;
  /** log position of firstIndex */
  startPos: number;
  /** the leader's snapshot, or null when none was kept (the state before firstIndex is lost) */
  snapshot: Buffer | null;
  manifest: CopyManifest | null;
}

export class CopyAbortedError extends Error {
  override readonly name = 'CopyAbortedError';
}

function parseManifest(text: string): CopyManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new CopyAbortedError(`copy manifest is not JSON: ${(e as Error).message}`);
  }
  const o = m as Record<string, unknown>;
  const ints = ['firstIndex', 'lastIndex', 'lastTerm', 'startPos', 'endPos', 'dataSegmentSize', 'crcCheckedFrom', 'snapshotBytes', 'snapshotAppliedIndex', 'term'];
  for (const k of ints) {
    if (!Number.isSafeInteger(o[k])) throw new CopyAbortedError(`copy manifest field ${k} is not an integer: ${String(o[k])}`);
  }
  if (typeof o['leaderId'] !== 'string') throw new CopyAbortedError('copy manifest has no leaderId');
  const c = o as unknown as CopyManifest;
  if (c.firstIndex < 0 || c.lastIndex < c.firstIndex || c.startPos < 0 || c.endPos <= c.startPos) {
    throw new CopyAbortedError(`copy manifest ranges do not hold together: entries ${c.firstIndex}..${c.lastIndex}, bytes ${c.startPos}..${c.endPos}`);
  }
  if (c.snapshotBytes < 0 || c.snapshotBytes > MAX_SNAPSHOT_BYTES) throw new CopyAbortedError(`snapshot of ${c.snapshotBytes} bytes is over the limit of ${MAX_SNAPSHOT_BYTES}`);
  return c;
}

// ---- leader side ---------------------------------------------------------------------------

export interface CopySenderOptions {
  copy: number;
  selfId: string;
  to: string;
  term: number;
  log: SegmentedLog;
  /** the leader's commit index now: the copy ends at the last committed entry */
  commitIndex: () => number;
  takeSnapshot?: () => Promise<AppSnapshot>;
  send: (m: WireCopyChunk) => void;
  idleMs?: number;
  chunkBytes?: number;
}

export interface CopyResult {
  manifest: CopyManifest;
  bytes: number;
  ms: number;
}

/** Sends one copy to one follower; run() settles when the follower has it all, or on abort. */
export class CopySender {
  private seq = 0;
  private acked = -1;
  private waiter: (() => void) | null = null;
  private aborted: Error | null = null;
  private lastAckAt = Date.now();

  constructor(private readonly o: CopySenderOptions) {}

  get to(): string {
    return this.o.to;
  }

  get copy(): number {
    return this.o.copy;
  }

  onAck(m: WireCopyAck): void {
    if (m.copy !== this.o.copy) return;
    if (!m.ok) {
      this.abort(`${this.o.to} gave up: ${m.reason}`);
      return;
    }
    if (m.seq > this.acked) this.acked = m.seq;
    this.lastAckAt = Date.now();
    this.wake();
  }

  abort(reason: string): void {
    if (this.aborted) return;
    this.aborted = new CopyAbortedError(reason);
    this.wake();
  }

  /** Called on every tick: abandons a copy the follower stopped acknowledging. */
  checkIdle(now: number): void {
    const idle = this.o.idleMs ?? DEFAULT_COPY_IDLE_MS;
    if (now - this.lastAckAt > idle) this.abort(`no acknowledgement from ${this.o.to} for ${idle} ms`);
  }

  async run(): Promise<CopyResult> {
    const t0 = Date.now();
    const log = this.o.log;
    const snap = this.o.takeSnapshot ? await this.o.takeSnapshot() : { appliedIndex: -1, data: Buffer.alloc(0) };
    this.check();
    const firstIndex = log.firstIndex;
    const lastIndex = Math.min(this.o.commitIndex(), log.lastIndex);
    if (lastIndex < firstIndex) throw new CopyAbortedError(`nothing committed to copy (log ${firstIndex}..${log.lastIndex}, commit ${this.o.commitIndex()})`);
    if (this.o.takeSnapshot && snap.appliedIndex < firstIndex - 1) throw new CopyAbortedError(`the snapshot (applied ${snap.appliedIndex}) is older than the log start ${firstIndex}`);
    const last = log.entryAt(lastIndex);
    const endPos = last.pos + ENTRY_HEADER_SIZE + last.body.length;
    await log.whenWritten(endPos);
    this.check();
    // Handles opened now stay readable if retention deletes a file meanwhile.
    const segs = log.dataSegments.filter((s) => s.start < endPos);
    const startPos = segs[0]?.start ?? 0;
    const first = log.entryAt(firstIndex);
    if (first.pos !== startPos) throw new CopyAbortedError(`the first entry ${firstIndex} is at ${first.pos}, not at the start of its segment ${startPos}`);
    const manifest: CopyManifest = {
      firstIndex,
      lastIndex,
      lastTerm: last.term,
      startPos,
      endPos,
      dataSegmentSize: log.dataSegmentSize,
      crcCheckedFrom: Number.isFinite(log.crcCheckedFrom) ? log.crcCheckedFrom : 0,
      snapshotBytes: snap.data.length,
      snapshotAppliedIndex: snap.appliedIndex,
      leaderId: this.o.selfId,
      term: this.o.term,
    };
    const handles: Array<{ start: number; end: number; fh: fsp.FileHandle }> = [];
    try {
      for (let k = 0; k < segs.length; k++) {
        const s = segs[k]!;
        const fh = await fsp.open(s.path, 'r');
        handles.push({ start: s.start, end: 0, fh });
        const size = (await fh.stat()).size;
        handles[k]!.end = Math.min(s.start + size, endPos);
      }
      let bytes = 0;
      await this.sendChunk(CopyPart.BEGIN, 0, Buffer.alloc(0), JSON.stringify(manifest));
      const chunk = this.o.chunkBytes ?? COPY_CHUNK_BYTES;
      for (const h of handles) {
        for (let p = h.start; p < h.end; ) {
          const n = Math.min(chunk, h.end - p);
          const buf = Buffer.allocUnsafe(n);
          const { bytesRead } = await h.fh.read(buf, 0, n, p - h.start);
          if (bytesRead !== n) throw new CopyAbortedError(`short read of ${n} bytes at log position ${p}`);
          await this.sendChunk(CopyPart.LOG, p, buf, '');
          p += n;
          bytes += n;
        }
      }
      for (let p = 0; p < snap.data.length; p += chunk) {
        await this.sendChunk(CopyPart.SNAPSHOT, p, snap.data.subarray(p, Math.min(p + chunk, snap.data.length)), '');
      }
      await this.sendChunk(CopyPart.END, 0, Buffer.alloc(0), '');
      await this.until(() => this.acked >= this.seq - 1);
      return { manifest, bytes: bytes + snap.data.length, ms: Date.now() - t0 };
    } finally {
      for (const h of handles) await h.fh.close().catch(() => undefined);
    }
  }

  private async sendChunk(part: (typeof CopyPart)[keyof typeof CopyPart], offset: number, data: Buffer, manifest: string): Promise<void> {
    await this.until(() => this.seq - 1 - this.acked < COPY_WINDOW);
    this.o.send({ type: 'copyChunk', from: this.o.selfId, to: this.o.to, term: this.o.term, copy: this.o.copy, seq: this.seq++, part, offset, data, manifest });
  }

  private async until(cond: () => boolean): Promise<void> {
    for (;;) {
      this.check();
      if (cond()) return;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private check(): void {
    if (this.aborted) throw this.aborted;
  }
}

// ---- follower side -------------------------------------------------------------------------

/** Receives one copy into `<dir>/copy-tmp`; END makes it `<dir>/copy-ready`. */
export class CopyReceiver {
  readonly manifest: CopyManifest;
  private nextSeq = 1;
  private nextPos: number;
  private snapshotBytes = 0;
  private file: { start: number; fh: fsp.FileHandle } | null = null;
  private snapshotFh: fsp.FileHandle | null = null;
  private readonly written: string[] = [];
  private done = false;
  lastChunkAt = Date.now();

  private constructor(
    private readonly dir: string,
    readonly copy: number,
    readonly from: string,
    manifest: CopyManifest,
  ) {
    this.manifest = manifest;
    this.nextPos = manifest.startPos;
  }

  /** Starts a copy from its BEGIN chunk; `dataSegmentSize` is this node's. */
  static async begin(dir: string, m: WireCopyChunk, dataSegmentSize: number): Promise<CopyReceiver> {
    if (m.part !== CopyPart.BEGIN || m.seq !== 0) throw new CopyAbortedError(`a copy starts with its BEGIN chunk, got part ${m.part} seq ${m.seq}`);
    const manifest = parseManifest(m.manifest);
    if (manifest.dataSegmentSize !== dataSegmentSize) {
      throw new CopyAbortedError(`the leader's data segments are ${manifest.dataSegmentSize} bytes, this node's ${dataSegmentSize}: set the same mappedFileSizeCommitLog on every node`);
    }
    if (manifest.startPos % dataSegmentSize !== 0) throw new CopyAbortedError(`copy starts at ${manifest.startPos}, not at a segment start`);
    const tmp = path.join(dir, TMP);
    await fsp.rm(tmp, { recursive: true, force: true });
    await fsp.mkdir(path.join(tmp, 'data'), { recursive: true });
    return new CopyReceiver(dir, m.copy, m.from, manifest);
  }

  /** Writes one chunk; true once the END chunk made the copy durable and ready to swap in. */
  async onChunk(m: WireCopyChunk): Promise<boolean> {
    if (this.done) throw new CopyAbortedError('chunk after the end of the copy');
    if (m.seq !== this.nextSeq) throw new CopyAbortedError(`chunk ${m.seq} arrived, ${this.nextSeq} was next`);
    this.nextSeq++;
    this.lastChunkAt = Date.now();
    const tmp = path.join(this.dir, TMP);
    const Z = this.manifest.dataSegmentSize;
    switch (m.part) {
      case CopyPart.LOG: {
        const start = segmentStartOf(m.offset, Z);
        // whole files are sent in order: a chunk continues the last one or opens the next file
        if (m.offset !== this.nextPos && !(m.offset === start && m.offset > this.nextPos)) {
          throw new CopyAbortedError(`log chunk at ${m.offset}, expected ${this.nextPos} or the next segment start`);
        }
        if (m.offset + m.data.length > start + Z || m.offset + m.data.length > this.manifest.endPos) {
          throw new CopyAbortedError(`log chunk at ${m.offset} of ${m.data.length} bytes crosses its segment or the copy's end`);
        }
        if (!this.file || this.file.start !== start) {
          await this.closeFile();
          const p = path.join(tmp, 'data', segmentName(start));
          this.file = { start, fh: await fsp.open(p, 'w') };
          this.written.push(p);
        }
        await writeAll(this.file.fh, m.data, m.offset - start);
        this.nextPos = m.offset + m.data.length;
        return false;
      }
      case CopyPart.SNAPSHOT: {
        if (m.offset !== this.snapshotBytes || this.snapshotBytes + m.data.length > this.manifest.snapshotBytes) {
          throw new CopyAbortedError(`snapshot chunk at ${m.offset} of ${m.data.length} bytes does not continue the snapshot (${this.snapshotBytes} of ${this.manifest.snapshotBytes})`);
        }
        if (!this.snapshotFh) {
          const p = path.join(tmp, SNAPSHOT_FILE);
          this.snapshotFh = await fsp.open(p, 'w');
          this.written.push(p);
        }
        await writeAll(this.snapshotFh, m.data, m.offset);
        this.snapshotBytes += m.data.length;
        return false;
      }
      case CopyPart.END: {
        if (this.nextPos !== this.manifest.endPos) throw new CopyAbortedError(`copy ended at log position ${this.nextPos}, the manifest says ${this.manifest.endPos}`);
        if (this.snapshotBytes !== this.manifest.snapshotBytes) throw new CopyAbortedError(`snapshot of ${this.snapshotBytes} bytes, the manifest says ${this.manifest.snapshotBytes}`);
        await this.closeFile();
        if (this.snapshotFh) {
          await this.snapshotFh.sync();
          await this.snapshotFh.close();
          this.snapshotFh = null;
        }
        await fsp.writeFile(path.join(tmp, SNAPSHOT_MANIFEST_FILE), JSON.stringify(this.manifest));
        syncFile(path.join(tmp, SNAPSHOT_MANIFEST_FILE));
        syncDir(path.join(tmp, 'data'));
        syncDir(tmp);
        const ready = path.join(this.dir, READY);
        await fsp.rm(ready, { recursive: true, force: true });
        await fsp.rename(tmp, ready);
        syncDir(this.dir);
        this.done = true;
        return true;
      }
      default:
        throw new CopyAbortedError(`unexpected chunk part ${m.part}`);
    }
  }

  /** Gives the copy up and removes what it wrote. */
  async discard(): Promise<void> {
    await this.closeFile().catch(() => undefined);
    await this.snapshotFh?.close().catch(() => undefined);
    this.snapshotFh = null;
    if (!this.done) await fsp.rm(path.join(this.dir, TMP), { recursive: true, force: true });
  }

  private async closeFile(): Promise<void> {
    if (!this.file) return;
    const f = this.file;
    this.file = null;
    await f.fh.sync();
    await f.fh.close();
  }
}

async function writeAll(fh: fsp.FileHandle, data: Uint8Array, at: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, at + done);
    done += bytesWritten;
  }
}

/**
 * Swaps a received copy (`<dir>/copy-ready`) in for the log's data, with the log closed.
 * Every step can be repeated after a crash: run at start while `copy-ready` exists.
 * Returns false when there was nothing to swap in. An unfinished `copy-tmp` is removed.
 */
export async function finishPendingCopy(dir: string, logLine: (l: string) => void = () => undefined): Promise<boolean> {
  await fsp.rm(path.join(dir, TMP), { recursive: true, force: true });
  const ready = path.join(dir, READY);
  if (!fs.existsSync(ready)) return false;
  const manifestText = await fsp.readFile(path.join(ready, SNAPSHOT_MANIFEST_FILE), 'utf8');
  const manifest = parseManifest(manifestText);
  const data = path.join(dir, 'data');
  const copied = path.join(ready, 'data');
  if (fs.existsSync(copied)) {
    const old = path.join(dir, OLD_DATA);
    await fsp.rm(old, { recursive: true, force: true });
    if (fs.existsSync(data)) await fsp.rename(data, old);
    await fsp.rename(copied, data);
    syncDir(dir);
  }
  // the DLedger index is rebuilt from the data on open; the old one describes the old log
  await fsp.rm(path.join(dir, 'index'), { recursive: true, force: true });
  for (const f of [CHECKPOINT_FILE, `${CHECKPOINT_FILE}.bak`]) await fsp.rm(path.join(dir, f), { force: true });
  await writeFileAtomic(path.join(dir, CRC_MARKER_FILE), `${manifest.crcCheckedFrom}\n`);
  // the snapshot stays beside the log until the next copy: a crash before the application took it in is repaired at start
  const snap = path.join(ready, SNAPSHOT_FILE);
  if (fs.existsSync(snap)) await fsp.rename(snap, path.join(dir, SNAPSHOT_FILE));
  else await fsp.rm(path.join(dir, SNAPSHOT_FILE), { force: true });
  await fsp.rename(path.join(ready, SNAPSHOT_MANIFEST_FILE), path.join(dir, SNAPSHOT_MANIFEST_FILE));
  syncDir(dir);
  await fsp.rm(ready, { recursive: true, force: true });
  await fsp.rm(path.join(dir, OLD_DATA), { recursive: true, force: true });
  syncDir(dir);
  logLine(`swapped in a copy of ${manifest.leaderId}'s log: entries ${manifest.firstIndex}..${manifest.lastIndex}, positions ${manifest.startPos}..${manifest.endPos}`);
  return true;
}

/** The snapshot kept beside the log by the last copy, for a log that starts at `firstIndex`. */
export async function readInstalledCopy(dir: string, firstIndex: number, startPos: number): Promise<InstalledCopy> {
  let manifest: CopyManifest | null = null;
  try {
    manifest = parseManifest(await fsp.readFile(path.join(dir, SNAPSHOT_MANIFEST_FILE), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let snapshot: Buffer | null = null;
  if (manifest) {
    try {
      snapshot = await fsp.readFile(path.join(dir, SNAPSHOT_FILE));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      snapshot = manifest.snapshotBytes === 0 ? Buffer.alloc(0) : null;
    }
    if (snapshot && snapshot.length !== manifest.snapshotBytes) throw new Error(`${path.join(dir, SNAPSHOT_FILE)} has ${snapshot.length} bytes, its manifest says ${manifest.snapshotBytes}`);
    // a snapshot older than the log start would leave a hole in the state
    if (manifest.snapshotAppliedIndex < firstIndex - 1) snapshot = null;
  }
  return { firstIndex, startPos, snapshot, manifest };
}
