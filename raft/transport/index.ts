// raft/transport: TCP links between the members of a Raft group.
export { RaftTransport, DEFAULT_TRANSPORT_LIMITS, type RaftTransportOptions, type TransportStats } from './RaftTransport.js';
export type { PeerLinkStats, LinkState } from './PeerLink.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { parseDLegerPeers, parseHostPort, formatAddress, PeerAddressError, type PeerAddress } from './peerAddresses.js';
