// Where a bench tool sends: the master of each broker of a topic's route, with its queue counts.
import { AdminApi } from '../../client/AdminApi.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';

export interface QueueTarget {
  brokerName: string;
  addr: string;
  queueId: number;
}

export interface TopicTargets {
  write: QueueTarget[];
  read: QueueTarget[];
}

/** The master queues of the topic; creates the topic on every master of the cluster first when asked. */
export async function resolveTopic(namesrv: string, topic: string, create?: { queues: number; cluster: string }): Promise<TopicTargets> {
  const admin = new AdminApi(namesrv, 5000);
  try {
    if (create) {
      const info = await admin.getClusterInfo();
      const names = info.clusterAddrTable.get(create.cluster);
      if (!names || names.size === 0) throw new Error(`cluster ${create.cluster} has no brokers at ${namesrv}`);
      for (const name of names) {
        const addr = info.brokerAddrTable.get(name)?.brokerAddrs.get(0);
        if (!addr) continue;
        const res = await admin.invokeBroker(addr, RequestCode.UPDATE_AND_CREATE_TOPIC, {
          topic,
          defaultTopic: 'TBW102',
          readQueueNums: String(create.queues),
          writeQueueNums: String(create.queues),
          perm: '6',
          topicFilterType: 'SINGLE_TAG',
          order: 'false',
        });
        if (res.code !== 0) throw new Error(`create topic ${topic} on ${addr}: code ${res.code} ${res.remark ?? ''}`);
      }
    }
    const route = await admin.getTopicRoute(topic);
    const write: QueueTarget[] = [];
    const read: QueueTarget[] = [];
    for (const q of route.queueDatas) {
      const addr = route.brokerDatas.find((b) => b.brokerName === q.brokerName)?.brokerAddrs.get(0);
      if (!addr) continue;
      if (q.perm & 2) for (let i = 0; i < q.writeQueueNums; i++) write.push({ brokerName: q.brokerName, addr, queueId: i });
      if (q.perm & 4) for (let i = 0; i < q.readQueueNums; i++) read.push({ brokerName: q.brokerName, addr, queueId: i });
    }
    if (write.length === 0 && read.length === 0) throw new Error(`topic ${topic} has no master queues in its route`);
    return { write, read };
  } finally {
    admin.close();
  }
}
