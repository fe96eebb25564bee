/**
 * @streamsvc/metastore — the MetaKV port (an etcd-shaped, strongly consistent key-value store for
 * streamsvc's metadata) with two adapters, and the algorithms written once over it.
 *
 * ```ts
 * import { EmbeddedMetaKv, EtcdMetaKv, Session, Election } from '@streamsvc/metastore';
 * await using kv = await EmbeddedMetaKv.open({ path: './data/meta' }); // or EtcdMetaKv.connect({ endpoints })
 * await using session = await Session.register(kv, { key: 'nodes/1', value: '127.0.0.1:19540', ttlMs: 10_000 });
 * const leadership = await new Election(kv, { prefix: 'coord/leader', lease: session.lease }).campaign('node-1');
 * ```
 */
export { MetaKvError, MetaKvErrorCode } from './errors.js';
export { EtcdMetaKv } from './etcd-meta-kv.js';
export { EmbeddedMetaKv, DEFAULT_HISTORY_RETENTION } from './embedded-meta-kv.js';
export { Session, listSessions, watchSessions } from './session.js';
export { Election, observeLeader } from './election.js';
export { listAll } from './list-all.js';
export { MAX_KEY_BYTES, MAX_TXN_OPS, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './validate.js';

export type {
  MetaKv,
  KeyValue,
  LeaseId,
  PutOptions,
  WriteResult,
  DeleteResult,
  ListOptions,
  ListPage,
  Compare,
  CompareOp,
  CompareTarget,
  TxnOp,
  TxnRequest,
  TxnResult,
  WatchOptions,
  WatchEvent,
  GrantLeaseOptions,
  Lease,
  MetaKvLeaseLost,
} from './meta-kv.js';
export type { EtcdMetaKvOptions } from './etcd-meta-kv.js';
export type { EmbeddedMetaKvOptions } from './embedded-meta-kv.js';
export type { SessionOptions, SessionsSnapshot } from './session.js';
export type { ElectionOptions, Leadership, LeadershipLost } from './election.js';
export type { ListAllOptions } from './list-all.js';
