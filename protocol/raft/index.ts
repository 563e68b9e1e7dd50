// protocol/raft: the Raft peer wire format (protobufjs schema, frames). No I/O.
export * from './raftCodec.js';
export { RAFT_SCHEMA } from './raftSchema.js';
