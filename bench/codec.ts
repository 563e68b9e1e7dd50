// bench/codec: remoting frames decoded and encoded per second on one core, for a SEND_MESSAGE_V2
// request (as the real Java client sent it) and a 32-message PULL_MESSAGE response.
// Usage: node dist/bench/codec.js [--runs 7] [--ms 300] [--json]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { SendMessageRequestHeaderV2 } from '../protocol/header/broker.js';
import { FrameDecoder } from '../protocol/remoting/FrameDecoder.js';
import { createResponse, decodeCommand, encodeCommandParts, SerializeType, type RemotingCommand } from '../protocol/remoting/RemotingCommand.js';
import { decodeStoredMessages, encodeStoredMessage } from '../protocol/message/index.js';

interface Args {
  runs: number;
  ms: number;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 7, ms: 300, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--runs') args.runs = Math.max(1, Math.min(100, Number(argv[++i])));
    else if (a === '--ms') args.ms = Math.max(10, Math.min(10_000, Number(argv[++i])));
    else throw new Error(`unknown option ${a}; use --runs N --ms N --json`);
  }
  return args;
}

/** Operations per second: run `op` in batches for about `ms`, `runs` times; median and spread. */
function measure(op: () => void, runs: number, ms: number): { median: number; min: number; max: number } {
  for (let i = 0; i < 2000; i++) op(); // warm up the JIT
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ms) * 1_000_000n;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < 256; i++) op();
      n += 256;
      now = process.hrtime.bigint();
    }
    rates.push(n / (Number(now - start) / 1e9));
  }
  rates.sort((a, b) => a - b);
  return { median: rates[Math.floor(rates.length / 2)] as number, min: rates[0] as number, max: rates[rates.length - 1] as number };
}

function capturedSendRequest(): Buffer {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const file = path.join(root, 'test', 'fixtures', 'remoting', 'c-producer.jsonl.gz');
  const lines = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n').filter(Boolean);
  for (const line of lines) {
    const f = JSON.parse(line) as { code: number; flag: number; dir: string; hex: string };
    if (f.dir === 'c2s' && f.code === 310 && f.flag === 0) return Buffer.from(f.hex, 'hex');
  }
  throw new Error('no SEND_MESSAGE_V2 request in c-producer capture');
}

function pullResponse(count: number): { cmd: RemotingCommand; frame: Buffer } {
  const records: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    records.push(
      encodeStoredMessage({
        topic: 'BenchTopic',
        queueId: 1,
        flag: 0,
        queueOffset: 1000 + i,
        physicalOffset: 1_000_000 + i * 1200,
        sysFlag: 0,
        bornTimestamp: 1_700_000_000_000,
        bornHost: { address: '127.0.0.1', port: 50000 },
        storeTimestamp: 1_700_000_000_001,
        storeHost: { address: '127.0.0.1', port: 10911 },
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
        body: Buffer.alloc(1024, 0x61),
        properties: { TAGS: 'TagA', KEYS: `key-${i}`, UNIQ_KEY: '7F00000100002A9F0000000000000000', WAIT: 'true' },
      }),
    );
  }
  const request: RemotingCommand = { code: 11, language: 'JAVA', version: 409, opaque: 7, flag: 0, serializeType: 0 };
  const cmd = createResponse(request, 0, {
    remark: 'FOUND',
    extFields: { suggestWhichBrokerId: '0', nextBeginOffset: String(1000 + count), minOffset: '0', maxOffset: '5000' },
    body: Buffer.concat(records),
  });
  return { cmd, frame: Buffer.concat(encodeCommandParts(cmd)) };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const send = capturedSendRequest();
  const sendCmd = decodeCommand(send.subarray(4));
  // The same request with the ROCKETMQ binary header (Java clients opt in with rocketmq.serialize.type).
  const sendBinary = Buffer.concat(encodeCommandParts({ ...sendCmd, serializeType: SerializeType.ROCKETMQ }));
  const pull = pullResponse(32);
  const sendHeaderText = send.toString('utf8', 8, 8 + (send.readUInt32BE(4) & 0xffffff));
  let sink = 0;

  const rows = [
    {
      name: 'SEND_MESSAGE_V2 decode (frame + header + typed fields)',
      ...measure(() => {
        const decoder = new FrameDecoder();
        for (const frame of decoder.push(send)) {
          const cmd = decodeCommand(frame);
          sink += SendMessageRequestHeaderV2.decode(cmd.extFields).e;
        }
      }, args.runs, args.ms),
    },
    {
      name: 'SEND_MESSAGE_V2 decode, ROCKETMQ binary header',
      ...measure(() => {
        const decoder = new FrameDecoder();
        for (const frame of decoder.push(sendBinary)) {
          const cmd = decodeCommand(frame);
          sink += SendMessageRequestHeaderV2.decode(cmd.extFields).e;
        }
      }, args.runs, args.ms),
    },
    {
      name: 'JSON.parse of the same JSON header alone (reference)',
      ...measure(() => {
        sink += (JSON.parse(sendHeaderText) as { code: number }).code;
      }, args.runs, args.ms),
    },
    {
      name: 'SEND_MESSAGE_V2 encode',
      ...measure(() => {
        sink += encodeCommandParts(sendCmd).length;
      }, args.runs, args.ms),
    },
    {
      name: 'PULL response, 32 x 1 KiB messages: encode',
      ...measure(() => {
        sink += encodeCommandParts(pull.cmd).length;
      }, args.runs, args.ms),
    },
    {
      name: 'PULL response, 32 x 1 KiB messages: decode frame + records',
      ...measure(() => {
        const decoder = new FrameDecoder();
        for (const frame of decoder.push(pull.frame)) {
          const cmd = decodeCommand(frame);
          for (const m of decodeStoredMessages(cmd.body as Buffer)) sink += m.queueOffset;
        }
      }, args.runs, args.ms),
    },
  ];
  if (sink === -1) console.log('unreachable');
  if (args.json) {
    console.log(JSON.stringify({ node: process.version, runs: args.runs, msPerRun: args.ms, rows }, null, 2));
    return;
  }
  console.log(`node ${process.version}, ${args.runs} runs of ${args.ms} ms each; ops/s median (min..max)`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(60)} ${Math.round(r.median).toLocaleString('en-US').padStart(12)}  (${Math.round(r.min).toLocaleString('en-US')}..${Math.round(r.max).toLocaleString('en-US')})`);
  }
}

main();
