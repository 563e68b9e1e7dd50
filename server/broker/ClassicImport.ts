// Upgrading a classic (master/slave, pre-DLedger) RocketMQ store: the records of its commit log
// (storePathCommitLog) are proposed into this broker's log, in order, as the first messages of
// the group, keeping topic, queue, queue offset, store time and every byte but the physical
// offset. Only the node holding the old files needs them (Java's mixed mode needs them on all).
//
// The group learns of the import first (a progress record, magic 21), then the Java config/*.json
// goes in, then the records, each batch in one append that ends with a progress record. Until a
// final progress record says `done`, no node of the group takes ordinary writes nor shows itself
// to the name servers: the importer answers sends with SYSTEM_BUSY and its progress, any other
// leader names the importer and hands leadership back to it. A crash can cut a batch short (Raft replicates entries, not appends); the records
// of a cut batch are found in the consume queues on resume (imported records keep their queue
// offsets and nothing else writes meanwhile), so none is imported twice and none is lost.
import fs from 'node:fs';
import path from 'node:path';
import { MessageSysFlag, TransactionType } from '../../protocol/message/index.js';
import { ClassicCommitLog, ClassicCommitLogError, type ClassicRecord } from '../../storage/classic/ClassicCommitLog.js';
import type { Logger } from '../log.js';
import type { AppendRecord, CommitLog, MessageAppendRecord } from './commitlog/CommitLog.js';
import { MessageTooLargeError } from './commitlog/CommitLogError.js';
import { CLASSIC_IMPORT_SLOT, classicImportProgressFromSlots, classicImportRecord, type ClassicImportProgress } from './metadata/BrokerMetadata.js';

/** Written into storePathRootDir once this node's classic commit log is in the group's log; the classic files are never changed. */
export const CLASSIC_IMPORTED_MARKER = 'raftmq-classic-imported';
/** Bytes of imported records per append (a single larger record goes alone). */
export const DEFAULT_IMPORT_BATCH_BYTES = 1024 * 1024;
export const DEFAULT_IMPORT_BATCH_MESSAGES = 256;
/** Appends of the import waiting for their commit at once: the next batch is read and proposed while earlier ones replicate. */
export const DEFAULT_IMPORT_BATCHES_IN_FLIGHT = 4;
/** Records looked at per batch at most, imported or not (skipped or already present ones cost reads only). */
const EXAMINED_PER_MESSAGE = 4;

export class ClassicImportError extends Error {
  override readonly name = 'ClassicImportError';
}

/**
 * The classic commit log in `dir` when it holds records to import, else undefined (no folder,
 * no segment, only zeros, or this store's marker says it was imported). Recovery as Java's:
 * the newest files are checked record by record and damage ends the log there (logged).
 * Throws ClassicImportError when the files cannot be read as a classic log at all.
 */
export async function openClassicCommitLog(dir: string, segmentSize: number, storeRoot: string, log: Logger): Promise<ClassicCommitLog | undefined> {
  if (fs.existsSync(path.join(storeRoot, CLASSIC_IMPORTED_MARKER)) || !fs.existsSync(dir)) return undefined;
  let classic: ClassicCommitLog;
  try {
    classic = await ClassicCommitLog.open(dir, { segmentSize, stopAtDamage: true });
  } catch (e) {
    throw new ClassicImportError(
      `the classic commit log in ${dir} cannot be read, so it cannot be imported: ${(e as Error).message}. Set mappedFileSizeCommitLog to the size its broker used, or move the folder away to start without its messages`,
      { cause: e },
    );
  }
  if (classic.damage) log(`classic commit log ${dir}: damaged records end it early at offset ${classic.maxOffset}, as Java's recovery would: ${classic.damage.message}`);
  if (classic.maxOffset <= classic.minOffset) return undefined;
  log(`classic commit log ${dir}: ${classic.segments.length} file(s), offsets ${classic.minOffset}..${classic.maxOffset}; imported once this node takes writes`);
  return classic;
}

// ---------------------------------------------------------------------------------------
// Planning batches

/** What the group's consume queues hold already (the applied index). */
export interface ImportedQueues {
  maxOffset(topic: string, queueId: number): number;
}

export interface ClassicBatchLimits {
  maxBytes: number;
  maxMessages: number;
}

export interface ClassicBatch {
  /** one append: the imported messages, then the progress record */
  records: AppendRecord[];
  /** what the progress record says */
  progress: ClassicImportProgress;
  messages: number;
  /** records the group's log holds already (the part of a batch a crash cut short that did commit) */
  present: number;
  /** transaction half (prepared) and rolled-back records: Java never queued them; left out */
  skipped: number;
}

/** A classic record as a record of our log: the same bytes, keeping queue offset and store time. */
export function importedRecord(rec: ClassicRecord): MessageAppendRecord {
  const m = rec.message;
  return {
    record: Buffer.from(rec.bytes),
    topic: m.topic,
    queueId: m.queueId,
    keepQueueOffset: m.queueOffset,
    keepStoreTimestamp: m.storeTimestamp,
  };
}

function isLeftOut(sysFlag: number): boolean {
  const tx = sysFlag & MessageSysFlag.TRANSACTION_MASK;
  return tx === TransactionType.PREPARED || tx === TransactionType.ROLLBACK;
}

/**
 * Cuts the classic records from `progress.next` on into bounded batches. Each batch assumes the
 * previous one was committed; after a failed append start a new planner from the applied state.
 */
export class ClassicImportPlanner {
  private pending: ClassicRecord | undefined;
  private progress: ClassicImportProgress;

  constructor(
    private readonly source: AsyncIterator<ClassicRecord>,
    from: ClassicImportProgress,
    private readonly queues: ImportedQueues,
    private readonly limits: ClassicBatchLimits = { maxBytes: DEFAULT_IMPORT_BATCH_BYTES, maxMessages: DEFAULT_IMPORT_BATCH_MESSAGES },
  ) {
    if (!(limits.maxBytes > 0) || !(limits.maxMessages >= 1)) throw new RangeError(`batch limits must be positive, got ${limits.maxBytes} bytes, ${limits.maxMessages} messages`);
    this.progress = { ...from };
  }

  /** The next batch, or undefined when every record up to the classic log's end was planned. */
  async next(): Promise<ClassicBatch | undefined> {
    const { maxBytes, maxMessages } = this.limits;
    const records: AppendRecord[] = [];
    let bytes = 0;
    let present = 0;
    let skipped = 0;
    let examined = 0;
    let next = this.progress.next;
    while (examined < maxMessages * EXAMINED_PER_MESSAGE) {
      const rec = this.pending ?? (await this.pull());
      this.pending = undefined;
      if (rec === undefined) break;
      const size = rec.bytes.length;
      if (records.length > 0 && (records.length >= maxMessages || bytes + size > maxBytes)) {
        this.pending = rec;
        break;
      }
      examined++;
      next = rec.physicalOffset + size;
      const m = rec.message;
      if (isLeftOut(m.sysFlag)) skipped++;
      else if (this.queues.maxOffset(m.topic, m.queueId) > m.queueOffset) present++;
      else {
        records.push(importedRecord(rec));
        bytes += size;
      }
    }
    if (next === this.progress.next) return undefined;
    const messages = records.length;
    this.progress = { ...this.progress, next, records: this.progress.records + messages + present, skipped: this.progress.skipped + skipped };
    records.push(classicImportRecord(this.progress));
    return { records, progress: this.progress, messages, present, skipped };
  }

  private async pull(): Promise<ClassicRecord | undefined> {
    const r = await this.source.next();
    return r.done === true ? undefined : r.value;
  }
}

// ---------------------------------------------------------------------------------------
// The import on a running broker

export interface ClassicImportOptions {
  commitLog: CommitLog;
  /** dLegerSelfId; '' on a single-node broker */
  selfId: string;
  /** this node's classic commit log (openClassicCommitLog), if it has one */
  classic: ClassicCommitLog | undefined;
  /** storePathRootDir, for the marker */
  storeRoot: string;
  log: Logger;
  /** this node takes writes (Raft: leader with its no-op applied), holds aside */
  takesWrites: () => boolean;
  /** hands the group's leadership to another member (Raft only) */
  transferLeadership?: (to: string) => Promise<void>;
  /**
   * Raft only: asks the group's leader to hand leadership to this node. Called while this node
   * holds classic records not yet imported, is a follower, and the group has no messages yet
   * (an empty node won the first election, e.g. because this one started late).
   */
  requestLeadership?: () => Promise<void>;
  /**
   * Runs once the group knows of the import, before the first record (the Java config/*.json:
   * topics exist while sends are refused, so producers hear SYSTEM_BUSY); appends with pastHold,
   * and runs again on every resume, so it must do nothing the second time.
   */
  beforeRecords?: () => Promise<void>;
  /** the group became hidden from the name servers (an import began) or visible again */
  onVisibilityChange?: (hidden: boolean) => void;
  batchBytes?: number;
  batchMessages?: number;
  batchesInFlight?: number;
  /** wait between batches (tests that interrupt an import) */
  pauseMs?: number;
  /** wait before trying again after a failed append or leadership transfer */
  retryMs?: number;
}

type Phase =
  | 'none' // nothing of this node's to import
  | 'pending' // this node has records; the import has not begun here
  | 'running' // this node imports (or will resume when it takes writes again)
  | 'declined' // the group held messages before any import: not imported
  | 'failed' // the classic files cannot be read any further
  | 'done';

export class ClassicImport {
  private applied: ClassicImportProgress | undefined;
  /** what this node's import last committed */
  private live: ClassicImportProgress | undefined;
  private phase: Phase;
  private running: Promise<void> | undefined;
  private handingBack: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private hidden = false;
  private stopped = false;
  private lastError = '';
  private toldCannotContinue = false;

  private constructor(private readonly opts: ClassicImportOptions) {
    this.phase = opts.classic ? 'pending' : 'none';
  }

  /** Reads where the group's import stands and follows it from there on. */
  static async start(opts: ClassicImportOptions): Promise<ClassicImport> {
    const imp = new ClassicImport(opts);
    opts.commitLog.onApplied((batch) => {
      for (const m of batch.metadata) {
        if (m.kind !== 'delayOffsets' || !m.offsets.some((o) => o.level === CLASSIC_IMPORT_SLOT.STATE)) continue;
        imp.adoptApplied(classicImportProgressFromSlots(new Map(m.offsets.map((o) => [o.level, o.offset]))));
      }
    });
    const stored = classicImportProgressFromSlots(await opts.commitLog.index.getDelayOffsets());
    // an entry applied while the table was read is at least as new as what the read returned
    if (imp.applied === undefined) imp.adoptApplied(stored);
    imp.updateVisibility();
    return imp;
  }

  /** The group's import as the applied state says: undefined when there was none. */
  get progress(): ClassicImportProgress | undefined {
    return this.applied;
  }

  /** Whether this node holds classic records not yet in the group (it counts as a node with data). */
  get hasRecordsToImport(): boolean {
    return this.phase === 'pending' || this.phase === 'running';
  }

  /** The group stays out of the name servers' routes: an import is unfinished. */
  get hidesGroup(): boolean {
    return (this.applied !== undefined && !this.applied.done) || this.phase === 'running';
  }

  /** Why ordinary writes wait (the commit log's write hold); undefined when they do not. */
  holdReason(): string | undefined {
    if (this.phase === 'done') return undefined;
    const p = this.applied;
    if (p?.done === true) return undefined;
    if (this.phase === 'running' || (this.phase === 'pending' && (p === undefined || this.canContinue(p)))) return this.importingReason();
    if (p !== undefined) return this.waitingReason(p);
    return undefined;
  }

  /** This node started taking writes: import, resume, or hand leadership to the node that can. */
  takingWrites(): void {
    if (this.stopped || this.running || !this.opts.takesWrites()) return;
    const p = this.applied;
    if (p?.done === true || this.phase === 'failed') return;
    if (p !== undefined) {
      if (this.canContinue(p)) this.begin();
      else this.handBack(p);
      return;
    }
    // 'running' without an applied progress: the import's first record never committed
    if (this.phase !== 'pending' && this.phase !== 'running') return;
    if (this.opts.commitLog.index.lastIndexed.physicalOffset >= 0) {
      this.phase = 'declined';
      this.updateVisibility();
      this.opts.log(
        `NOT importing the classic commit log ${this.opts.classic?.dir}: the group's log holds messages already (another node took writes before this one), and imported records must come first. Its messages are not in the group`,
      );
      return;
    }
    this.begin();
  }

  /**
   * Called now and then by the broker (every few seconds): a node with records to import that
   * is not taking writes, in a group whose log holds no messages and knows no import yet, asks
   * the leader for leadership, so the records can still come first.
   */
  askForLeadership(): void {
    if (this.stopped || this.asking || this.phase !== 'pending' || this.applied !== undefined || this.opts.takesWrites()) return;
    if (!this.opts.requestLeadership || this.opts.commitLog.index.lastIndexed.physicalOffset >= 0) return;
    this.asking = this.opts
      .requestLeadership()
      .then(
        () => this.opts.log(`asked the leader to hand leadership over: this node holds the classic commit log ${this.opts.classic?.dir} to import first`),
        (e: Error) => {
          if (e.message !== this.lastAskError) this.opts.log(`could not ask the leader for leadership (classic import waits): ${e.message}`);
          this.lastAskError = e.message;
        },
      )
      .finally(() => (this.asking = undefined));
  }

  private asking: Promise<void> | undefined;
  private lastAskError = '';

  /** Stops between batches; resolves once no append of the import is in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.asking;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await Promise.all([this.running, this.handingBack]);
  }

  private canContinue(p: ClassicImportProgress): boolean {
    const c = this.opts.classic;
    if (c === undefined || this.phase === 'failed' || this.phase === 'declined') return false;
    // another node's import continues here only from a copy of the same log (Java's upgrade guide copies it to every node)
    return p.importer === this.opts.selfId || (c.maxOffset === p.end && c.minOffset <= p.next);
  }

  private importingReason(): string {
    const c = this.opts.classic;
    const p = this.live ?? (this.applied?.done === false ? this.applied : undefined);
    if (c === undefined || p === undefined) return `importing the classic commit log ${c?.dir ?? ''}: starting`;
    const span = Math.max(1, p.end - p.start);
    return `importing the classic commit log ${c.dir}: ${p.records} records so far, offset ${p.next} of ${p.end} (${Math.floor(((p.next - p.start) * 100) / span)}%)`;
  }

  private waitingReason(p: ClassicImportProgress): string {
    const who = p.importer === '' ? 'the single-node broker' : p.importer;
    const why =
      p.importer === this.opts.selfId
        ? this.phase === 'failed'
          ? `; it cannot go on: ${this.lastError}`
          : `; this node no longer has it (storePathCommitLog moved or removed?)`
        : `; writes wait until ${who} leads again and finishes it`;
    return `the import of ${who}'s classic commit log is unfinished (${p.records} records, offset ${p.next} of ${p.end})${why}`;
  }

  private adoptApplied(p: ClassicImportProgress | undefined): void {
    if (p === undefined) return;
    this.applied = p;
    if (p.done) this.finishedElsewhere(p);
    this.updateVisibility();
  }

  /** The group's import is done: this node's own, or another's while this node has classic files too. */
  private finishedElsewhere(p: ClassicImportProgress): void {
    if (this.phase === 'done' || this.phase === 'none') return;
    const c = this.opts.classic;
    if (p.importer === this.opts.selfId) {
      // done before this start (the marker was not written then): the classic log was found again
      if (this.phase === 'pending' && c !== undefined) this.writeMarker(`imported: ${p.records} records (classic offsets ${p.start}..${p.end})`);
      this.phase = 'done';
      return;
    }
    this.phase = 'none';
    if (c !== undefined && c.maxOffset === p.end) {
      this.writeMarker(`not imported from this node: ${p.importer} imported a log ending at the same offset ${p.end} (a copy)`);
    } else if (c !== undefined) {
      this.opts.log(`the group imported ${p.importer}'s classic commit log; this node's (${c.dir}, offsets ${c.minOffset}..${c.maxOffset}) differs and is NOT imported`);
    }
  }

  private updateVisibility(): void {
    const hidden = this.hidesGroup;
    if (hidden === this.hidden) return;
    this.hidden = hidden;
    this.opts.onVisibilityChange?.(hidden);
  }

  private begin(): void {
    this.phase = 'running';
    this.updateVisibility();
    this.running = this.run()
      .catch((e: unknown) => this.failedOnce(e as Error))
      .finally(() => (this.running = undefined));
  }

  private failedOnce(e: Error): void {
    // damaged files, or a record larger than our log's entries: trying again changes nothing
    if (e instanceof ClassicCommitLogError || e instanceof ClassicImportError || e instanceof MessageTooLargeError) {
      this.phase = 'failed';
      this.lastError = e.message;
      this.opts.log(`the classic commit log import stops, writes stay held: ${e.message}`);
      return;
    }
    if (e.message !== this.lastError) this.opts.log(`the classic commit log import paused, trying again while this node takes writes: ${e.message}`);
    this.lastError = e.message;
    this.retryLater(() => this.takingWrites());
  }

  private retryLater(fn: () => void): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      fn();
    }, this.opts.retryMs ?? 1000);
    this.retryTimer.unref();
  }

  private async run(): Promise<void> {
    const c = this.opts.classic as ClassicCommitLog;
    const log = this.opts.commitLog;
    const applied = this.applied;
    let p: ClassicImportProgress =
      applied === undefined
        ? { importer: this.opts.selfId, start: c.minOffset, next: c.minOffset, end: c.maxOffset, records: 0, skipped: 0, done: false }
        : { ...applied, importer: this.opts.selfId };
    if (p.next > c.maxOffset || p.next < c.minOffset) {
      throw new ClassicImportError(`the import stands at classic offset ${p.next}, outside this node's classic commit log ${c.dir} (${c.minOffset}..${c.maxOffset})`);
    }
    p.end = c.maxOffset;
    if (applied === undefined) {
      // the group learns of the import before any record: a crash from here on resumes, never starts over
      await log.append([classicImportRecord(p)], { pastHold: true });
      this.opts.log(`importing the classic commit log ${c.dir} (offsets ${p.start}..${p.end}) into the group's log`);
    } else if (applied.importer !== this.opts.selfId) {
      this.opts.log(`continuing ${applied.importer}'s classic commit log import from offset ${p.next} with this node's copy (${c.dir})`);
    } else {
      this.opts.log(`resuming the classic commit log import at offset ${p.next} of ${p.end} (${p.records} records in)`);
    }
    this.live = p;
    await this.opts.beforeRecords?.();
    const iterator = c.iterate(p.next);
    const maxInFlight = Math.max(1, this.opts.batchesInFlight ?? DEFAULT_IMPORT_BATCHES_IN_FLIGHT);
    // committed in order: a later batch is proposed only once the log took the earlier one, so a refusal leaves no gap
    const inFlight: Array<Promise<ClassicImportProgress>> = [];
    let finished = false;
    const settleOldest = async (): Promise<void> => {
      this.live = p = await (inFlight.shift() as Promise<ClassicImportProgress>);
    };
    try {
      const planner = new ClassicImportPlanner(iterator, p, log, {
        maxBytes: this.opts.batchBytes ?? DEFAULT_IMPORT_BATCH_BYTES,
        maxMessages: this.opts.batchMessages ?? DEFAULT_IMPORT_BATCH_MESSAGES,
      });
      for (;;) {
        if (this.stopped || !this.opts.takesWrites()) break;
        const batch = await planner.next();
        if (batch === undefined) {
          finished = true;
          break;
        }
        let accepted = false;
        const committed = log.append(batch.records, { pastHold: true, onAccepted: () => (accepted = true) });
        if (!accepted) {
          await committed; // rejects with the refusal
          throw new ClassicImportError('internal: an import append neither accepted nor refused');
        }
        const progress = committed.then(() => batch.progress);
        progress.catch(() => undefined); // awaited in order below; not unhandled meanwhile
        inFlight.push(progress);
        if (inFlight.length >= maxInFlight) await settleOldest();
        if (this.opts.pauseMs) await new Promise((r) => setTimeout(r, this.opts.pauseMs));
      }
      while (inFlight.length > 0) await settleOldest();
    } catch (e) {
      await Promise.allSettled(inFlight);
      throw e;
    } finally {
      await iterator.return(undefined);
    }
    // stopped, or no longer the leader: the import resumes when this node takes writes again
    if (!finished || this.stopped) return;
    const done: ClassicImportProgress = { ...p, next: p.end, done: true };
    await log.append([classicImportRecord(done)], { pastHold: true });
    this.live = done;
    this.phase = 'done';
    const line = `${done.records} records (classic offsets ${done.start}..${done.end}), ${done.skipped} transaction half/rolled-back records left out`;
    this.writeMarker(`imported: ${line}`);
    this.opts.log(`imported the classic commit log ${c.dir}: ${line}; the group takes writes`);
    this.updateVisibility();
  }

  /** A leader that cannot import hands leadership to the node that can, until it does. */
  private handBack(p: ClassicImportProgress): void {
    const transfer = this.opts.transferLeadership;
    if (this.handingBack || transfer === undefined || p.importer === '' || p.importer === this.opts.selfId) {
      if (p.importer === this.opts.selfId && !this.toldCannotContinue) {
        this.toldCannotContinue = true;
        this.opts.log(`this node began a classic commit log import that it cannot go on with: ${this.waitingReason(p)}`);
      }
      return;
    }
    this.opts.log(`the import of ${p.importer}'s classic commit log is unfinished: refusing writes and handing leadership to ${p.importer}`);
    this.handingBack = (async () => {
      let lastFailure = '';
      while (!this.stopped && this.opts.takesWrites() && this.applied?.done === false && !this.canContinue(this.applied)) {
        try {
          await transfer(p.importer);
          return;
        } catch (e) {
          const msg = (e as Error).message;
          if (msg !== lastFailure) this.opts.log(`handing leadership to ${p.importer} failed, trying again: ${msg}`);
          lastFailure = msg;
        }
        await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 1000).unref());
      }
    })().finally(() => (this.handingBack = undefined));
  }

  private writeMarker(text: string): void {
    const file = path.join(this.opts.storeRoot, CLASSIC_IMPORTED_MARKER);
    try {
      fs.writeFileSync(file, `${this.opts.classic?.dir ?? ''}: ${text}, by raftmq at ${new Date().toISOString()}\n`);
    } catch (e) {
      this.opts.log(`could not write ${file} (the classic log will be scanned again at the next start): ${(e as Error).message}`);
    }
  }
}
