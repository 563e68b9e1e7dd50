// Golden: the store a real RocketMQ 4.9.8 broker on DLedger 0.3.1.2 wrote (node n2 of a
// three-node group) opens in place, and every entry reads back as the manifest lists it.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { decodeStoredMessage } from '../../../protocol/message/index.js';
import { EntryMagic } from '../../../storage/log/entryCodec.js';
import { readCheckpoint, readCurrTerm } from '../../../storage/log/termFiles.js';
import { tempDir } from '../../helpers/processes.js';
import { extractStore, manifestStore } from '../../helpers/storeManifest.js';
import { SegmentedLog } from '../../../storage/log/SegmentedLog.js';
import { SyncLogWriter } from '../../../storage/log/SyncLogWriter.js';

const store = manifestStore('dledger-node2');

// The 160 MiB index file is almost all zeros: extract once, then give each test a sparse copy.
let extracted: string | undefined;

function extract(test: Test): string {
  if (!extracted) {
    const root = tempDir(t); // the root test: removed when the file ends
    extractStore(store, root);
    extracted = path.join(root, 'node2', 'dledger-n2');
  }
  const copy = path.join(tempDir(test), 'dledger-n2');
  try {
    execFileSync('cp', ['-r', '--sparse=always', extracted, copy]);
  } catch {
    fs.cpSync(extracted, copy, { recursive: true }); // a cp without --sparse: slower, same result
  }
  return copy;
}

async function open(dir: string, lines: string[] = []): Promise<SegmentedLog> {
  return SegmentedLog.open({ dir, writer: new SyncLogWriter(), dataSegmentSize: 1024 * 1024, log: (l) => lines.push(l) });
}

t.test('the Java DLedger store opens in place and reads back per the manifest', async (t) => {
  const dir = extract(t);
  const lines: string[] = [];
  const log = await open(dir, lines);
  t.teardown(() => log.close());
  t.same([log.firstIndex, log.lastIndex, log.lastTerm, log.startPosition], [0, 10, 1, 0]);
  t.equal(store.messages.length, 11);
  const last = store.messages.at(-1)!;
  t.equal(log.endPosition, last.dledgerEntryPos + last.dledgerEntrySize);
  t.same(lines.filter((l) => /cut|rebuilt/.test(l)), [], 'zero-filled file tails are the end of the log, not damage');
  t.equal(fs.statSync(path.join(dir, 'data', '00000000000000000000')).size, 1024 * 1024, 'the preallocated file is left at full length');
  t.equal(log.crcCheckedFrom, log.endPosition, 'crc-checked-from marks where the Java entries end');
  t.equal(fs.readFileSync(path.join(dir, 'crc-checked-from'), 'utf8'), `${log.endPosition}\n`);

  for (const m of store.messages) {
    const e = log.entryAt(m.dledgerIndex);
    t.same([e.magic, e.index, e.term, e.pos, 48 + e.body.length], [EntryMagic.MESSAGE, m.dledgerIndex, m.dledgerTerm, m.dledgerEntryPos, m.dledgerEntrySize], `entry ${m.dledgerIndex} header`);
    t.same(log.entryAtPosition(m.dledgerEntryPos), e);
    const msg = decodeStoredMessage(e.body, 0, { inflate: true });
    t.equal(msg.physicalOffset, e.pos + 48, 'physical offset = pos + 48');
    t.same(
      {
        topic: msg.topic,
        queueId: msg.queueId,
        queueOffset: msg.queueOffset,
        physicalOffset: msg.physicalOffset,
        storeSize: msg.storeSize,
        sysFlag: msg.sysFlag,
        tags: msg.properties.get('TAGS'),
        keys: msg.properties.get('KEYS'),
        body: msg.body.toString('hex'),
        text: msg.inflatedBody!.toString('utf8'),
        msgId: msg.msgId,
        offsetMsgId: msg.offsetMsgId,
      },
      {
        topic: m.topic,
        queueId: m.queueId,
        queueOffset: m.queueOffset,
        physicalOffset: m.physicalOffset,
        storeSize: m.storeSize,
        sysFlag: m.sysFlag,
        tags: m.tags,
        keys: m.keys,
        body: m.storedBodyHex,
        text: m.bodyText ?? m.uncompressedBodyText,
        msgId: m.msgId,
        offsetMsgId: m.offsetMsgId,
      },
      `message at index ${m.dledgerIndex}: ${m.topic}`,
    );
  }
  t.same(log.readRange(0, 100, 1 << 20).map((e) => e.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

t.test("DLedger's currterm and checkpoint read back", async (t) => {
  const dir = extract(t);
  t.same(await readCurrTerm(dir), { currTerm: 1, voteLeader: 'n0' });
  t.same(await readCheckpoint(dir), { committedIndex: 10, endIndex: 10 });
  fs.rmSync(path.join(dir, 'currterm'));
  t.same(await readCurrTerm(dir), { currTerm: 1, voteLeader: null }, 'the .bak DLedger wrote has an empty voteLeader');
});

t.test('appending after the Java entries carries CRCs; reopening keeps the old zero-CRC entries and refuses new zero CRCs', async (t) => {
  const dir = extract(t);
  let log = await open(dir);
  const marker = log.endPosition;
  const r = log.append([{ magic: EntryMagic.NOOP, term: 2, body: Buffer.from('raftmq was here') }], { sync: true });
  t.same([r.firstIndex, r.positions[0]], [11, marker]);
  await log.whenDurable(r.endPosition);
  await log.close();
  const data = path.join(dir, 'data', '00000000000000000000');
  const raw = fs.readFileSync(data);
  t.not(raw.readInt32BE(marker + 40), 0, 'bodyCrc is filled');
  t.not(raw.readInt32BE(marker + 36), 0, 'chainCrc is filled');
  t.equal(raw.readInt32BE(0 + 40), 0, 'the Java entries keep their zero CRCs');

  // reopen with a full scan (no checkpoint): the Java entries pass below the marker
  fs.rmSync(path.join(dir, 'checkpoint'));
  fs.rmSync(path.join(dir, 'checkpoint.bak'));
  const lines: string[] = [];
  log = await open(dir, lines);
  t.same([log.lastIndex, log.lastTerm, log.crcCheckedFrom], [11, 2, marker]);
  t.same(lines.filter((l) => /cut|rebuilt/.test(l)), []);
  for (let i = 0; i <= 11; i++) t.equal(log.entryAt(i).index, i);
  t.same(log.entryAt(11).body, Buffer.from('raftmq was here'));
  await log.close();

  // the same entry with its CRCs zeroed, as Java would have written it, is not accepted after the marker
  const fd = fs.openSync(data, 'r+');
  fs.writeSync(fd, Buffer.alloc(8), 0, 8, marker + 36);
  fs.closeSync(fd);
  lines.length = 0;
  log = await open(dir, lines);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, 10);
  // the rest of the preallocated file goes with it
  t.match(lines.find((l) => l.includes('cut')), new RegExp(`cut ${1024 * 1024 - marker} bytes .* byte ${marker} \\(body CRC 0 but`));
});
