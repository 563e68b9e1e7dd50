// RAFTMQ_TRANSFER_LEADERSHIP: move the leadership of this node's DLedger group to the named
// member (mqadmin transferLeadership, the HTTP admin API). Answered by the current leader once
// the target leads, or refused with the reason.
import { LeaderTransferRefusedError } from '../../../raft/node/errors.js';
import { RemotingError } from '../../../protocol/remoting/errors.js';
import { createResponse } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import { defineHeader, str } from '../../../protocol/header/schema.js';
import type { RemotingServer } from '../../remoting/RemotingServer.js';
import type { BrokerContext } from '../BrokerContext.js';
import { RaftCommitLog } from '../commitlog/RaftCommitLog.js';

export const TransferLeadershipRequestHeader = defineHeader('TransferLeadershipRequestHeader', {
  targetId: str.R,
});

export function registerRaftAdminProcessor(server: RemotingServer, ctx: BrokerContext): void {
  server.register(RequestCode.RAFTMQ_TRANSFER_LEADERSHIP, async (req) => {
    const h = TransferLeadershipRequestHeader.decode(req.extFields);
    const log = ctx.commitLog;
    if (!(log instanceof RaftCommitLog)) throw new RemotingError(ResponseCode.SYSTEM_ERROR, 'this broker is not in a DLedger group (enableDLegerCommitLog=false)');
    const role = log.role;
    if (role.role !== 'leader') {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `NOT_LEADER: ask the leader${role.leaderId ? ` (${role.leaderId}, broker id 0 in the route)` : ''}; this node is ${ctx.config.dLegerSelfId}, ${role.role}`,
      );
    }
    if (h.targetId === ctx.config.dLegerSelfId) return createResponse(req, ResponseCode.SUCCESS, { remark: `${h.targetId} leads already` });
    try {
      await log.handOver(h.targetId);
    } catch (e) {
      if (e instanceof LeaderTransferRefusedError) throw new RemotingError(ResponseCode.SYSTEM_ERROR, `${e.reason}: ${e.message}`);
      throw e;
    }
    ctx.log(`leadership handed over to ${h.targetId}`);
    return createResponse(req, ResponseCode.SUCCESS, { remark: `${h.targetId} leads now` });
  });
}
