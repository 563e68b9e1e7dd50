// Request processors of the name server (spec §4.12, §6).
import { maskedCrc32 } from '../../protocol/crc32.js';
import type { RemotingConnection } from '../../client/RemotingConnection.js';
import { dataVersionFromJson } from '../../protocol/body/DataVersion.js';
import { BodyError, decodeRegisterBrokerBody } from '../../protocol/body/RegisterBrokerBody.js';
import {
  encodeClusterInfo,
  encodeKVTable,
  encodeTopicList,
  encodeTopicRouteData,
} from '../../protocol/body/route.js';
import * as H from '../../protocol/header/namesrv.js';
import { parseLenientJson } from '../../protocol/json/lenientJson.js';
import { RemotingError } from '../../protocol/remoting/errors.js';
import { createResponse, type RemotingCommand } from '../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import type { RemotingServer } from '../remoting/RemotingServer.js';
import type { KvConfigManager } from './KvConfigManager.js';
import type { RouteInfoManager } from './RouteInfoManager.js';

export interface NamesrvProcessorDeps {
  routes: RouteInfoManager;
  kv: KvConfigManager;
  now: () => number;
  enableAllTopicList: boolean;
  orderMessageEnable: boolean;
}

const ORDER_TOPIC_CONFIG = 'ORDER_TOPIC_CONFIG';

export function registerNamesrvProcessors(server: RemotingServer, d: NamesrvProcessorDeps): void {
  const ok = (req: RemotingCommand, extra: Parameters<typeof createResponse>[2] = {}): RemotingCommand =>
    createResponse(req, ResponseCode.SUCCESS, extra);

  server.register(RequestCode.REGISTER_BROKER, (req, conn) => registerBroker(req, conn, d));

  server.register(RequestCode.UNREGISTER_BROKER, (req) => {
    const h = H.UnRegisterBrokerRequestHeader.decode(req.extFields);
    d.routes.unregisterBroker(h.clusterName, h.brokerAddr, h.brokerName, h.brokerId);
    return ok(req);
  });

  server.register(RequestCode.GET_ROUTEINFO_BY_TOPIC, (req) => {
    const h = H.GetRouteInfoRequestHeader.decode(req.extFields);
    const route = d.routes.getRouteInfo(h.topic);
    if (!route) {
      return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, {
        remark: `No topic route info in name server for the topic: ${h.topic}`,
      });
    }
    if (d.orderMessageEnable) {
      const conf = d.kv.get(ORDER_TOPIC_CONFIG, h.topic);
      if (conf) route.orderTopicConf = conf;
    }
    return ok(req, { body: encodeTopicRouteData(route) });
  });

  server.register(RequestCode.GET_BROKER_CLUSTER_INFO, (req) => ok(req, { body: encodeClusterInfo(d.routes.getClusterInfo()) }));

  server.register(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, (req) => {
    if (!d.enableAllTopicList) return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: 'disable' });
    return ok(req, { body: encodeTopicList(d.routes.getAllTopicList()) });
  });

  server.register(RequestCode.GET_TOPICS_BY_CLUSTER, (req) => {
    const h = H.GetTopicsByClusterRequestHeader.decode(req.extFields);
    return ok(req, { body: encodeTopicList(d.routes.getTopicsByCluster(h.cluster)) });
  });

  server.register(RequestCode.PUT_KV_CONFIG, (req) => {
    const h = H.PutKVConfigRequestHeader.decode(req.extFields);
    const refused = d.kv.put(h.namespace, h.key, h.value);
    if (refused) throw new RemotingError(ResponseCode.SYSTEM_ERROR, refused);
    return ok(req);
  });

  server.register(RequestCode.GET_KV_CONFIG, (req) => {
    const h = H.GetKVConfigRequestHeader.decode(req.extFields);
    const value = d.kv.get(h.namespace, h.key);
    if (value === undefined) {
      return createResponse(req, ResponseCode.QUERY_NOT_FOUND, {
        remark: `No config item, Namespace: ${h.namespace} Key: ${h.key}`,
      });
    }
    return ok(req, { extFields: H.GetKVConfigResponseHeader.encode({ value }) });
  });

  server.register(RequestCode.DELETE_KV_CONFIG, (req) => {
    const h = H.DeleteKVConfigRequestHeader.decode(req.extFields);
    d.kv.delete(h.namespace, h.key);
    return ok(req);
  });

  server.register(RequestCode.GET_KVLIST_BY_NAMESPACE, (req) => {
    const h = H.GetKVListByNamespaceRequestHeader.decode(req.extFields);
    const table = d.kv.list(h.namespace);
    if (!table) {
      return createResponse(req, ResponseCode.QUERY_NOT_FOUND, { remark: `No config item, Namespace: ${h.namespace}` });
    }
    return ok(req, { body: encodeKVTable(table) });
  });

  server.register(RequestCode.QUERY_DATA_VERSION, (req) => {
    const h = H.QueryDataVersionRequestHeader.decode(req.extFields);
    const dv = dataVersionFromJson(req.body ? parseBody(req.body, 'DataVersion') : {});
    const result = d.routes.queryDataVersion(h.brokerAddr, dv, d.now());
    return ok(req, {
      extFields: H.QueryDataVersionResponseHeader.encode({ changed: result.changed }),
      body: result.current ? Buffer.from(JSON.stringify(result.current)) : undefined,
    });
  });

  server.register(RequestCode.WIPE_WRITE_PERM_OF_BROKER, (req) => {
    const h = H.WipeWritePermOfBrokerRequestHeader.decode(req.extFields);
    const wipeTopicCount = d.routes.setWritePerm(h.brokerName, false);
    return ok(req, { extFields: H.WipeWritePermOfBrokerResponseHeader.encode({ wipeTopicCount }) });
  });

  server.register(RequestCode.ADD_WRITE_PERM_OF_BROKER, (req) => {
    const h = H.AddWritePermOfBrokerRequestHeader.decode(req.extFields);
    const addTopicCount = d.routes.setWritePerm(h.brokerName, true);
    return ok(req, { extFields: H.AddWritePermOfBrokerResponseHeader.encode({ addTopicCount }) });
  });

  server.register(RequestCode.DELETE_TOPIC_IN_NAMESRV, (req) => {
    const h = H.DeleteTopicFromNamesrvRequestHeader.decode(req.extFields);
    d.routes.deleteTopic(h.topic, h.clusterName);
    return ok(req);
  });
}

function parseBody(body: Buffer, what: string): unknown {
  try {
    return parseLenientJson(body.toString('utf8'));
  } catch (e) {
    throw new RemotingError(ResponseCode.SYSTEM_ERROR, `${what} body is not JSON: ${(e as Error).message}`);
  }
}

function registerBroker(req: RemotingCommand, conn: RemotingConnection, d: NamesrvProcessorDeps): RemotingCommand {
  const h = H.RegisterBrokerRequestHeader.decode(req.extFields);
  if (h.bodyCrc32 && req.body) {
    const crc = maskedCrc32(req.body);
    if (crc !== h.bodyCrc32) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: 'crc32 not match' });
    }
  }
  let body;
  try {
    body = decodeRegisterBrokerBody(req.body, h.compressed === true);
  } catch (e) {
    if (e instanceof BodyError) throw new RemotingError(ResponseCode.SYSTEM_ERROR, e.message);
    throw e;
  }
  const result = d.routes.registerBroker({
    clusterName: h.clusterName,
    brokerAddr: h.brokerAddr,
    brokerName: h.brokerName,
    brokerId: h.brokerId,
    haServerAddr: h.haServerAddr,
    dataVersion: body.dataVersion,
    topicConfigTable: body.topicConfigTable,
    filterServerList: body.filterServerList,
    channel: conn,
    now: d.now(),
    timeoutMillis: h.heartbeatTimeoutMillis,
  });
  const orderConf = d.kv.list(ORDER_TOPIC_CONFIG);
  return createResponse(req, ResponseCode.SUCCESS, {
    extFields: H.RegisterBrokerResponseHeader.encode(result),
    body: orderConf ? encodeKVTable(orderConf) : undefined,
  });
}
