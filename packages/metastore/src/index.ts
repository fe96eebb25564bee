/**
 * @streamsvc/metastore — the MetaKV port and its adapters.
 */
export { MetaKvError, MetaKvErrorCode } from './errors.js';

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
  Lease,
  MetaKvLeaseLost,
} from './meta-kv.js';
