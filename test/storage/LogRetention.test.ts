// Retention over a real log and index: expired segments go oldest first with their index
// entries; the index checkpoint, a Raft hold-back and the active segment stay.
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { setPhysicalOffset } from '../../protocol/message/index.js';
import { storedRecord } from '../helpers/storedRecord.js';
import { IndexStore } from '../../storage/index/IndexStore.js';
import { LogIndexer } from '../../storage/LogIndexer.js';
import { LogRetentionSource } from '../../storage/LogRetention.js';
import { EntryMagic } from '../../storage/log/entryCodec.js';
import { SegmentedLog } from '../../storage/log/SegmentedLog.js';
import { SyncLogWriter } from '../../storage/log/SyncLogWriter.js';
import { RetentionService } from '../../storage/retention/DiskSpace.js';
import type { RetainFloor } from '../../storage/retention/RetentionPolicy.js';
import { tempDir } from '../helpers/processes.js';

const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;

async function setup(t: Test, count: number): Promise<{ log: SegmentedLog; index: IndexStore; indexer: LogIndexer }> {
  const root = tempDir(t);
  const log = await SegmentedLog.open({ dir: path.join(root, 'log'), writer: new SyncLogWriter(), dataSegmentSize: 4096, indexSegmentSize: 512 });
  t.teardown(() => log.close());
  for (let i = 0; i < count; i++) {
    const body = storedRecord({
      topic: 'T', queueOffset: i, storeTimestamp: 1000 + i, body: Buffer.alloc(300, 0x61), properties: { KEYS: `k${i}` },
    });
    // the log assigns the position (a file rollover moves it): patch the physical offset then
    log.append([{ magic: EntryMagic.MESSAGE, term: 1, body }], { beforeWrite: (_i, _index, pos) => setPhysicalOffset(body, 0, pos + 48) });
  }
  await log.whenWritten(log.endPosition);
  // every file written so far is old: 100 hours
  for (const s of log.dataSegments) fs.utimesSync(s.path, (NOW - 100 * HOUR) / 1000, (NOW - 100 * HOUR) / 1000);
  const index = await IndexStore.open(path.join(root, 'index-db'));
  t.teardown(() => index.close());
  return { log, index, indexer: new LogIndexer(log, index) };
}

function service(source: LogRetentionSource, storePath: string, lines: string[]): RetentionService {
  return new RetentionService({
    source,
    storePath,
    fileReservedTime: 72,
    deleteWhen: '04',
    now: () => NOW,
    hourOfDay: () => 4,
    diskUsage: async () => 0.3,
    log: (l) => lines.push(l),
    maxDeletesPerPass: 100,
  });
}

t.test('expired segments go with their index entries, up to the index checkpoint', async (t) => {
  const { log, index, indexer } = await setup(t, 60);
  const files = log.dataSegments.length;
  t.ok(files >= 5, `${files} data files`);
  await indexer.catchUp(29); // the index has applied only the first 30 entries
  const lines: string[] = [];
  await service(new LogRetentionSource(log, index, { log: (l) => lines.push(l) }), log.dir, lines).runOnce(NOW);
  t.ok(log.firstIndex > 0, `old segments deleted (first index now ${log.firstIndex})`);
  t.ok(log.firstIndex <= 29, 'but none past the entry the index checkpoint is at');
  t.equal(index.minOffset('T', 0), log.firstIndex, 'the consume queue starts where the log now starts');
  t.same(await index.queryByKey('T', 'k0', 10, 0, Number.MAX_SAFE_INTEGER), [], 'keys of deleted messages are gone');
  t.match(lines.join('\n'), /retention: dropped \d+ data/);

  await indexer.catchUp();
  await service(new LogRetentionSource(log, index), log.dir, []).runOnce(NOW);
  t.equal(log.dataSegments.length, 1, 'with the index caught up, everything but the active segment goes');
  t.equal(log.lastIndex, 59, 'no entry was lost from the end');
});

t.test("Raft's hold-back keeps what a lagging follower needs", async (t) => {
  const { log, index, indexer } = await setup(t, 60);
  await indexer.catchUp();
  const follower: RetainFloor = { position: log.entryAt(12).pos, holder: 'follower n2' };
  await service(new LogRetentionSource(log, index, { holdBack: () => [follower] }), log.dir, []).runOnce(NOW);
  t.ok(log.firstIndex <= 12 && log.firstIndex > 0, `entry 12 is still there (first index ${log.firstIndex})`);
  t.equal(log.entryAt(12).pos, follower.position);
});

t.test('nothing goes before it expires or outside deleteWhen', async (t) => {
  const { log, index, indexer } = await setup(t, 40);
  await indexer.catchUp();
  const lines: string[] = [];
  const s = new RetentionService({
    source: new LogRetentionSource(log, index), storePath: log.dir, fileReservedTime: 72, deleteWhen: '04',
    now: () => NOW, hourOfDay: () => 11, diskUsage: async () => 0.3, log: (l) => lines.push(l),
  });
  await s.runOnce(NOW);
  t.equal(log.firstIndex, 0, 'at 11 o\'clock with a quiet disk nothing is deleted');
});
