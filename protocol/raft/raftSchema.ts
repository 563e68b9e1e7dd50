// The Raft peer protocol as a protobuf schema, held as a static reflection descriptor (what
// `pbjs -t json` would emit for the .proto below), so nothing is read from disk at runtime.
//
//   syntax = "proto3"; package raftmq.raft;
//   message Hello { string group = 1; string from = 2; string to = 3; uint32 version = 4; }
//   message Entry { int64 term = 1; int32 magic = 2; int64 pos = 3; bytes body = 4;  // index = prevIndex + 1 + i
//                   sfixed32 bodyCrc = 5; }  // the body's CRC-32 in the sender's log; 0: not given
//   message VoteRequest { string from = 1; string to = 2; int64 term = 3; bool pre = 4; sint64 lastIndex = 5; sint64 lastTerm = 6; }
//   message VoteResponse { string from = 1; string to = 2; int64 term = 3; bool pre = 4; bool granted = 5; }
//   message AppendRequest { string from = 1; string to = 2; int64 term = 3; sint64 prevIndex = 4; sint64 prevTerm = 5;
//                           repeated Entry entries = 6; sint64 commit = 7; }
//   message AppendResponse { string from = 1; string to = 2; int64 term = 3; bool success = 4; sint64 index = 5;
//                            sint64 conflictTerm = 6; sint64 conflictIndex = 7; }
//   message Heartbeat { string from = 1; string to = 2; int64 term = 3; sint64 commit = 4; }
//   message HeartbeatResponse { string from = 1; string to = 2; int64 term = 3; }
//   message TimeoutNow { string from = 1; string to = 2; int64 term = 3; }   // leadership transfer
//   // segment copy to a follower behind the leader's first index (raft/node/SegmentCopy.ts)
//   message CopyChunk { string from = 1; string to = 2; int64 term = 3; uint64 copy = 4; uint32 seq = 5;
//                       uint32 part = 6; int64 offset = 7; bytes data = 8; string manifest = 9; }
//   message CopyAck { string from = 1; string to = 2; int64 term = 3; uint64 copy = 4; uint32 seq = 5;
//                     bool ok = 6; string reason = 7; }
//   message Frame { oneof kind { Hello hello = 1; VoteRequest vote = 2; VoteResponse voteResponse = 3;
//                   AppendRequest append = 4; AppendResponse appendResponse = 5; Heartbeat heartbeat = 6;
//                   HeartbeatResponse heartbeatResponse = 7; TimeoutNow timeoutNow = 8;
//                   CopyChunk copyChunk = 9; CopyAck copyAck = 10; } }
//
// Indexes and terms that may be -1 ("none") are sint64 (zigzag: -1 is one byte).

/** Bumped when a change is not wire compatible; a Hello with another version is refused. */
export const RAFT_PROTOCOL_VERSION = 1;

const envelope = {
  from: { type: 'string', id: 1 },
  to: { type: 'string', id: 2 },
  term: { type: 'int64', id: 3 },
} as const;

export const RAFT_SCHEMA = {
  nested: {
    raftmq: {
      nested: {
        raft: {
          nested: {
            Hello: {
              fields: {
                group: { type: 'string', id: 1 },
                from: { type: 'string', id: 2 },
                to: { type: 'string', id: 3 },
                version: { type: 'uint32', id: 4 },
              },
            },
            Entry: {
              fields: {
                term: { type: 'int64', id: 1 },
                magic: { type: 'int32', id: 2 },
                pos: { type: 'int64', id: 3 },
                body: { type: 'bytes', id: 4 },
                // the body's CRC-32 as the sender's log stores it (signed); 0 or absent: not given
                bodyCrc: { type: 'sfixed32', id: 5 },
              },
            },
            VoteRequest: {
              fields: {
                ...envelope,
                pre: { type: 'bool', id: 4 },
                lastIndex: { type: 'sint64', id: 5 },
                lastTerm: { type: 'sint64', id: 6 },
                // a campaign started by the leader's TimeoutNow: voters grant despite their lease
                transfer: { type: 'bool', id: 7 },
              },
            },
            VoteResponse: {
              fields: { ...envelope, pre: { type: 'bool', id: 4 }, granted: { type: 'bool', id: 5 } },
            },
            AppendRequest: {
              fields: {
                ...envelope,
                prevIndex: { type: 'sint64', id: 4 },
                prevTerm: { type: 'sint64', id: 5 },
                entries: { rule: 'repeated', type: 'Entry', id: 6 },
                commit: { type: 'sint64', id: 7 },
              },
            },
            AppendResponse: {
              fields: {
                ...envelope,
                success: { type: 'bool', id: 4 },
                index: { type: 'sint64', id: 5 },
                conflictTerm: { type: 'sint64', id: 6 },
                conflictIndex: { type: 'sint64', id: 7 },
              },
            },
            Heartbeat: { fields: { ...envelope, commit: { type: 'sint64', id: 4 } } },
            // lastIndexPlusTwo: the follower's last index + 2 (0 = not sent; an empty log's -1 is 1), so a leader notices a follower that lost entries
            HeartbeatResponse: { fields: { ...envelope, lastIndexPlusTwo: { type: 'uint64', id: 4 } } },
            TimeoutNow: { fields: { ...envelope } },
            // part: 0 begin (manifest), 1 log data (offset = log position), 2 application snapshot (offset in it), 3 end
            CopyChunk: {
              fields: {
                ...envelope,
                copy: { type: 'uint64', id: 4 },
                seq: { type: 'uint32', id: 5 },
                part: { type: 'uint32', id: 6 },
                offset: { type: 'int64', id: 7 },
                data: { type: 'bytes', id: 8 },
                manifest: { type: 'string', id: 9 },
              },
            },
            CopyAck: {
              fields: { ...envelope, copy: { type: 'uint64', id: 4 }, seq: { type: 'uint32', id: 5 }, ok: { type: 'bool', id: 6 }, reason: { type: 'string', id: 7 } },
            },
            Frame: {
              oneofs: { kind: { oneof: ['hello', 'vote', 'voteResponse', 'append', 'appendResponse', 'heartbeat', 'heartbeatResponse', 'timeoutNow', 'copyChunk', 'copyAck'] } },
              fields: {
                hello: { type: 'Hello', id: 1 },
                vote: { type: 'VoteRequest', id: 2 },
                voteResponse: { type: 'VoteResponse', id: 3 },
                append: { type: 'AppendRequest', id: 4 },
                appendResponse: { type: 'AppendResponse', id: 5 },
                heartbeat: { type: 'Heartbeat', id: 6 },
                heartbeatResponse: { type: 'HeartbeatResponse', id: 7 },
                timeoutNow: { type: 'TimeoutNow', id: 8 },
                copyChunk: { type: 'CopyChunk', id: 9 },
                copyAck: { type: 'CopyAck', id: 10 },
              },
            },
          },
        },
      },
    },
  },
} as const;
