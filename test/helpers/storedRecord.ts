// A RocketMQ stored-message record for tests that need one and care about only a few fields.
import { encodeStoredMessage, type StoredMessageInput } from '../../protocol/message/index.js';

export function storedRecord(fields: Partial<StoredMessageInput> & Pick<StoredMessageInput, 'topic' | 'body'>): Buffer {
  return encodeStoredMessage({
    queueId: 0,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: { address: '127.0.0.1', port: 1 },
    storeHost: { address: '127.0.0.1', port: 2 },
    ...fields,
  });
}
