// Bodies of captured frames, by request code: requests as sent, responses matched to their request.
import { decodeCommand, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { captureNames, loadCapture } from '../../helpers/fixtures.js';

export interface CapturedBody {
  file: string;
  index: number;
  command: RemotingCommand;
}

/** Every request with `code` (requests) or every SUCCESS answer to one (responses) that carries a body. */
export function capturedBodies(code: number, kind: 'request' | 'response'): CapturedBody[] {
  const out: CapturedBody[] = [];
  for (const file of captureNames()) {
    const pending = new Map<string, number>();
    for (const f of loadCapture(file)) {
      const cmd = decodeCommand(f.bytes.subarray(4));
      const key = `${f.conn}:${f.opaque}`;
      const isResponse = (f.flag & 1) === 1;
      if (!isResponse) pending.set(key, cmd.code);
      const requestCode = isResponse ? pending.get(key) : cmd.code;
      if (requestCode !== code || isResponse !== (kind === 'response')) continue;
      if (isResponse && cmd.code !== 0) continue;
      if (!cmd.body || cmd.body.length === 0) continue;
      out.push({ file, index: f.i, command: cmd });
    }
  }
  return out;
}
