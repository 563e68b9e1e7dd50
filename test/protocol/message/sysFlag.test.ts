import t from 'tap';
import {
  CompressionType,
  MessageSysFlag,
  TransactionType,
  compressionType,
  isBornHostV6,
  isCompressed,
  isStoreHostV6,
  transactionType,
  withCompression,
  withTransactionType,
} from '../../../protocol/message/index.js';

t.test('bits', async (t) => {
  t.equal(MessageSysFlag.COMPRESSED, 1);
  t.equal(MessageSysFlag.MULTI_TAGS, 2);
  t.equal(MessageSysFlag.BORNHOST_V6, 16);
  t.equal(MessageSysFlag.STOREHOST_V6, 32);
  t.ok(isBornHostV6(0x10) && !isBornHostV6(0x20));
  t.ok(isStoreHostV6(0x20) && !isStoreHostV6(0x10));
});

t.test('transaction type', async (t) => {
  t.equal(transactionType(0), TransactionType.NOT_TYPE);
  t.equal(transactionType(0x4 | 0x1 | 0x30), TransactionType.PREPARED);
  t.equal(transactionType(0xc), TransactionType.ROLLBACK);
  const half = 0x4 | 0x1 | 0x20;
  t.equal(withTransactionType(half, TransactionType.COMMIT), 0x8 | 0x1 | 0x20, 'other bits kept');
  t.equal(withTransactionType(half, TransactionType.NOT_TYPE), 0x21);
});

t.test('compression', async (t) => {
  // what the Java 4.9.8 producer sent for its zlib-compressed body ("f":"769")
  t.ok(isCompressed(769));
  t.equal(compressionType(769), CompressionType.ZLIB);
  t.equal(withCompression(0, CompressionType.ZLIB), 769);
  t.equal(withCompression(0x4 | 0x100, CompressionType.ZSTD), 0x4 | 0x200 | 1, 'replaces the old type');
  t.equal(compressionType(1), CompressionType.LEGACY_ZLIB);
  t.notOk(isCompressed(0x300), 'type bits alone do not mean compressed');
});
