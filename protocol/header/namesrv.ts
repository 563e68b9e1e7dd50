// Custom headers of the requests a name server serves (spec §4.12).
import { bool, defineHeader, int, long, str } from './schema.js';

export const RegisterBrokerRequestHeader = defineHeader('RegisterBrokerRequestHeader', {
  brokerName: str.R,
  brokerAddr: str.R,
  clusterName: str.R,
  haServerAddr: str.R,
  brokerId: long.R,
  heartbeatTimeoutMillis: long.o,
  enableActingMaster: bool.o,
  compressed: bool.o,
  bodyCrc32: int.o,
});

export const RegisterBrokerResponseHeader = defineHeader('RegisterBrokerResponseHeader', {
  haServerAddr: str.o,
  masterAddr: str.o,
});

export const UnRegisterBrokerRequestHeader = defineHeader('UnRegisterBrokerRequestHeader', {
  brokerName: str.R,
  brokerAddr: str.R,
  clusterName: str.R,
  brokerId: long.R,
});

export const GetRouteInfoRequestHeader = defineHeader('GetRouteInfoRequestHeader', {
  topic: str.R,
  acceptStandardJsonOnly: bool.o,
});

export const GetTopicsByClusterRequestHeader = defineHeader('GetTopicsByClusterRequestHeader', {
  cluster: str.R,
});

export const PutKVConfigRequestHeader = defineHeader('PutKVConfigRequestHeader', {
  namespace: str.R,
  key: str.R,
  value: str.R,
});

export const GetKVConfigRequestHeader = defineHeader('GetKVConfigRequestHeader', {
  namespace: str.R,
  key: str.R,
});

export const GetKVConfigResponseHeader = defineHeader('GetKVConfigResponseHeader', {
  value: str.o,
});

export const DeleteKVConfigRequestHeader = defineHeader('DeleteKVConfigRequestHeader', {
  namespace: str.R,
  key: str.R,
});

export const GetKVListByNamespaceRequestHeader = defineHeader('GetKVListByNamespaceRequestHeader', {
  namespace: str.R,
});

export const QueryDataVersionRequestHeader = defineHeader('QueryDataVersionRequestHeader', {
  brokerName: str.R,
  brokerAddr: str.R,
  clusterName: str.R,
  brokerId: long.R,
});

export const QueryDataVersionResponseHeader = defineHeader('QueryDataVersionResponseHeader', {
  changed: bool.R,
});

export const WipeWritePermOfBrokerRequestHeader = defineHeader('WipeWritePermOfBrokerRequestHeader', {
  brokerName: str.R,
});

export const WipeWritePermOfBrokerResponseHeader = defineHeader('WipeWritePermOfBrokerResponseHeader', {
  wipeTopicCount: int.R,
});

export const AddWritePermOfBrokerRequestHeader = defineHeader('AddWritePermOfBrokerRequestHeader', {
  brokerName: str.R,
});

export const AddWritePermOfBrokerResponseHeader = defineHeader('AddWritePermOfBrokerResponseHeader', {
  addTopicCount: int.R,
});

export const DeleteTopicFromNamesrvRequestHeader = defineHeader('DeleteTopicFromNamesrvRequestHeader', {
  topic: str.R,
  clusterName: str.o,
});
