// Name server calls used by mqadmin, bench and the tests: routes, cluster info, topic lists, KV.
import { clusterInfoFromJson, topicRouteDataFromJson, type ClusterInfo, type TopicRouteData } from '../protocol/body/route.js';
import * as H from '../protocol/header/namesrv.js';
import { parseLenientJson } from '../protocol/json/lenientJson.js';
import { RemotingError } from '../protocol/remoting/errors.js';
import { createRequest, type ExtFields, type RemotingCommand } from '../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../protocol/remoting/RequestCode.js';
import { ResponseCode, responseCodeName } from '../protocol/remoting/ResponseCode.js';
import { RemotingClient } from './RemotingClient.js';

export class AdminApi {
  private readonly client: RemotingClient;
  private readonly namesrvAddrs: string[];
  private next = 0;

  constructor(
    namesrvAddr: string,
    private readonly timeoutMs = 3000,
    client?: RemotingClient,
  ) {
    this.namesrvAddrs = namesrvAddr
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (this.namesrvAddrs.length === 0) throw new Error('no name server address given');
    this.client = client ?? new RemotingClient();
  }

  close(): void {
    this.client.close();
  }

  /** Ask the name servers in turn until one answers. */
  async invokeNamesrv(code: number, extFields?: ExtFields, body?: Buffer): Promise<RemotingCommand> {
    let lastError: unknown;
    for (let i = 0; i < this.namesrvAddrs.length; i++) {
      const addr = this.namesrvAddrs[(this.next + i) % this.namesrvAddrs.length] as string;
      try {
        return await this.client.invoke(addr, createRequest({ code, extFields, body }), this.timeoutMs);
      } catch (e) {
        lastError = e;
      }
    }
    this.next = (this.next + 1) % this.namesrvAddrs.length;
    throw lastError;
  }

  invokeBroker(addr: string, code: number, extFields?: ExtFields, body?: Buffer): Promise<RemotingCommand> {
    return this.client.invoke(addr, createRequest({ code, extFields, body }), this.timeoutMs);
  }

  async getTopicRoute(topic: string): Promise<TopicRouteData> {
    const res = expectOk(await this.invokeNamesrv(RequestCode.GET_ROUTEINFO_BY_TOPIC, H.GetRouteInfoRequestHeader.encode({ topic })));
    return topicRouteDataFromJson(jsonBody(res));
  }

  async getClusterInfo(): Promise<ClusterInfo> {
    const res = expectOk(await this.invokeNamesrv(RequestCode.GET_BROKER_CLUSTER_INFO));
    return clusterInfoFromJson(jsonBody(res));
  }

  async getAllTopicList(): Promise<string[]> {
    const res = expectOk(await this.invokeNamesrv(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
    return topicListOf(jsonBody(res));
  }

  async getTopicsByCluster(cluster: string): Promise<string[]> {
    const res = expectOk(await this.invokeNamesrv(RequestCode.GET_TOPICS_BY_CLUSTER, H.GetTopicsByClusterRequestHeader.encode({ cluster })));
    return topicListOf(jsonBody(res));
  }

  /** undefined when the name server has no such item (QUERY_NOT_FOUND). */
  async getKvConfig(namespace: string, key: string): Promise<string | undefined> {
    const res = await this.invokeNamesrv(RequestCode.GET_KV_CONFIG, H.GetKVConfigRequestHeader.encode({ namespace, key }));
    if (res.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
    return H.GetKVConfigResponseHeader.decode(expectOk(res).extFields).value;
  }

  /** Written to every name server, as the Java admin does. */
  async putKvConfig(namespace: string, key: string, value: string): Promise<void> {
    for (const addr of this.namesrvAddrs) {
      const req = createRequest({ code: RequestCode.PUT_KV_CONFIG, extFields: H.PutKVConfigRequestHeader.encode({ namespace, key, value }) });
      expectOk(await this.client.invoke(addr, req, this.timeoutMs));
    }
  }

  async deleteKvConfig(namespace: string, key: string): Promise<void> {
    for (const addr of this.namesrvAddrs) {
      const req = createRequest({ code: RequestCode.DELETE_KV_CONFIG, extFields: H.DeleteKVConfigRequestHeader.encode({ namespace, key }) });
      expectOk(await this.client.invoke(addr, req, this.timeoutMs));
    }
  }
}

export function expectOk(res: RemotingCommand): RemotingCommand {
  if (res.code !== ResponseCode.SUCCESS) {
    throw new RemotingError(res.code, `CODE: ${res.code} (${responseCodeName(res.code)}) DESC: ${res.remark ?? ''}`);
  }
  return res;
}

export function jsonBody(res: RemotingCommand): unknown {
  if (!res.body || res.body.length === 0) return {};
  return parseLenientJson(res.body.toString('utf8'));
}

function topicListOf(doc: unknown): string[] {
  const list = (doc as { topicList?: unknown }).topicList;
  return Array.isArray(list) ? list.map(String) : [];
}
