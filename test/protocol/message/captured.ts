// Cuts captured remoting frames into header and body for the message-format tests.
import { decodeCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { loadCapture, type CapturedFrame } from '../../helpers/fixtures.js';

export interface CutFrame {
  frame: CapturedFrame;
  header: { code: number; flag: number; opaque: number; remark?: string; extFields?: Record<string, string> };
  body: Buffer;
}

export function cutFrame(frame: CapturedFrame): CutFrame {
  const bytes = frame.bytes;
  if (bytes.readUInt32BE(0) !== bytes.length - 4) throw new Error(`frame ${frame.i}: length prefix disagrees with its bytes`);
  const cmd = decodeCommand(bytes.subarray(4));
  return { frame, header: cmd, body: cmd.body ?? Buffer.alloc(0) };
}

export function requests(capture: string, code: number): CutFrame[] {
  return loadCapture(capture)
    .map(cutFrame)
    .filter((f) => (f.header.flag & 1) === 0 && f.header.code === code);
}

/** Successful responses to requests of `requestCode`, paired by connection and opaque. */
export function successfulResponses(capture: string, requestCode: number): CutFrame[] {
  const pending = new Map<string, number>();
  const out: CutFrame[] = [];
  for (const f of loadCapture(capture).map(cutFrame)) {
    const key = `${f.frame.conn}:${f.header.opaque}`;
    if ((f.header.flag & 1) === 0) pending.set(key, f.header.code);
    else if (pending.get(key) === requestCode && f.header.code === 0) out.push(f);
  }
  return out;
}
