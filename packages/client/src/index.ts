/**
 * @streamsvc/client — the streaming client: learns the topology from a coordinator (or standalone
 * server), routes appends to the node owning each pchannel with transparent retry across migrations,
 * runs transactions, and reads vchannels through resumable, in-order subscriptions.
 *
 * ```ts
 * import { StreamingClient } from '@streamsvc/client';
 * await using client = await StreamingClient.connect({ endpoint: '127.0.0.1:19540' });
 * await client.waitReady({ signal: AbortSignal.timeout(10_000) });
 * ```
 */
export { StreamingClient } from './streaming-client.js';
export { Subscription } from './subscription.js';
export { Txn } from './txn.js';
export { defaultIdCodecs } from './client-options.js';
export { STREAMING_ERROR_METADATA_KEY } from './errors.js';
export { compareVersions, isTopologyReady } from './topology.js';

export type { StreamingClientOptions } from './client-options.js';
export type { AppendManyOptions, AppendManyResult } from './streaming-client.js';
export type { AppendResult, TxnContextResult } from './append-result.js';
export type { TxnOptions, TxnState } from './txn.js';
export type { SubscribeOptions } from './subscription.js';
export type { SubscribeFrom, ResumePoint } from './deliver.js';
export type { BroadcastResult, BroadcastAppendResult } from './coordinator-calls.js';
export type { BackoffOptions } from './backoff.js';
export type { TopologySnapshot, TopologyVersion, PChannelAssignment, NodeRef } from './topology.js';
