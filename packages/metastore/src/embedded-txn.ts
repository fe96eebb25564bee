/**
 * etcd's transaction semantics for the embedded store: evaluate every compare against the current
 * state, pick a branch, check that every lease the branch puts with exists, then apply its ops in order
 * (a `get` sees the branch's earlier writes, as in etcd) — all inside one LMDB write transaction.
 */
import { compareBytes, fromUtf8, prefixEnd, toBytes, utf8 } from './bytes.js';
import type { StoredKv } from './embedded-records.js';
import type { MvccWrite } from './embedded-mvcc.js';
import { MetaKvError, MetaKvErrorCode } from './errors.js';
import type { Compare, CompareOp, KeyValue, TxnOp, TxnRequest } from './meta-kv.js';

/** The port's view of a stored key. */
export function toKeyValue(key: string, kv: StoredKv): KeyValue {
  return {
    key,
    value: kv.value,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease === 0n ? undefined : String(kv.lease),
  };
}

/** `key` decoded from bytes with its state, as the port shows it. */
export function bytesToKeyValue(key: Uint8Array, kv: StoredKv): KeyValue {
  return toKeyValue(fromUtf8(key), kv);
}

function holds(cmp: number, op: CompareOp): boolean {
  switch (op) {
    case '==':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
    case '<':
      return cmp < 0;
    case '>':
      return cmp > 0;
  }
}

function sign(a: bigint, b: bigint): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Evaluates one compare against the state seen by `w`. */
export function evaluateCompare(w: MvccWrite, c: Compare): boolean {
  const kv = w.get(utf8(c.key));
  if (c.target === 'value') {
    // etcd: a value compare on a missing key fails whatever the op — a missing value is not "".
    if (!kv) return false;
    return holds(compareBytes(kv.value, toBytes(c.value)), c.op);
  }
  const actual =
    c.target === 'version'
      ? (kv?.version ?? 0n)
      : c.target === 'createRevision'
        ? (kv?.createRevision ?? 0n)
        : (kv?.modRevision ?? 0n);
  return holds(sign(actual, c.value), c.op);
}

/** Rejects with LEASE_NOT_FOUND when a put of `ops` names a lease that does not exist. */
export function checkLeases(w: MvccWrite, ops: readonly TxnOp[]): void {
  for (const op of ops) {
    if (op.type === 'put' && op.lease !== undefined && !w.leaseExists(BigInt(op.lease))) {
      throw new MetaKvError(MetaKvErrorCode.LEASE_NOT_FOUND, `lease ${op.lease} does not exist (expired or revoked)`, {
        details: { key: op.key, lease: op.lease },
      });
    }
  }
}

/** Applies one op; returns the entry for a `get`. Leases must have been checked. */
export function applyOp(w: MvccWrite, op: TxnOp): KeyValue | undefined {
  switch (op.type) {
    case 'put':
      w.put(utf8(op.key), toBytes(op.value), op.lease === undefined ? 0n : BigInt(op.lease));
      return undefined;
    case 'delete':
      w.delete(utf8(op.key));
      return undefined;
    case 'deletePrefix': {
      const prefix = utf8(op.prefix);
      w.deleteRange(prefix, prefixEnd(prefix));
      return undefined;
    }
    case 'get': {
      const kv = w.get(utf8(op.key));
      return kv ? toKeyValue(op.key, kv) : undefined;
    }
  }
}

/** Runs a (validated) transaction request; see the module comment. */
export function applyTxn(w: MvccWrite, request: TxnRequest): { succeeded: boolean; results: (KeyValue | undefined)[] } {
  const succeeded = request.compare.every((c) => evaluateCompare(w, c));
  const ops = succeeded ? request.success : (request.failure ?? []);
  checkLeases(w, ops);
  return { succeeded, results: ops.map((op) => applyOp(w, op)) };
}
