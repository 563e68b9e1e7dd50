// TopicConfigSerializeWrapper: the GET_ALL_TOPIC_CONFIG (21) answer, the broker's topic table
// with its data version (spec §4.11).
import { dataVersionFromJson, type DataVersion } from './DataVersion.js';
import { asObject, fastJsonBody, parseBody } from './fastjson.js';
import { topicConfigFromJson, type TopicConfig } from './TopicConfig.js';

export interface TopicConfigSerializeWrapper {
  topicConfigTable: Map<string, TopicConfig>;
  dataVersion: DataVersion;
}

export type TopicConfigWrapper = TopicConfigSerializeWrapper;

export function encodeTopicConfigWrapper(v: TopicConfigWrapper): Buffer {
  return fastJsonBody({ dataVersion: { ...v.dataVersion }, topicConfigTable: Object.fromEntries(v.topicConfigTable) });
}

export function decodeTopicConfigWrapper(body: Buffer): TopicConfigWrapper {
  const o = parseBody(body, 'TopicConfigSerializeWrapper');
  const topicConfigTable = new Map<string, TopicConfig>();
  for (const [name, cfg] of Object.entries(asObject(o.topicConfigTable))) topicConfigTable.set(name, topicConfigFromJson(name, cfg));
  return { topicConfigTable, dataVersion: dataVersionFromJson(o.dataVersion) };
}

export const encodeTopicConfigSerializeWrapper = encodeTopicConfigWrapper;
export const decodeTopicConfigSerializeWrapper = decodeTopicConfigWrapper;
