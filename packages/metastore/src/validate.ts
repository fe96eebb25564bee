/**
 * Input checks shared by both adapters, so a bad argument gets the same INVALID_ARGUMENT (with a message
 * naming the problem) from etcd and from the embedded store, before anything is sent or written.
 */
import { compareBytes, hasPrefix, prefixEnd, utf8 } from './bytes.js';
import { MetaKvError, MetaKvErrorCode } from './errors.js';
import type { Compare, LeaseId, ListOptions, TxnOp, TxnRequest } from './meta-kv.js';

/** Longest key accepted, in UTF-8 bytes (the embedded store's LMDB index needs a bound; etcd gets the same). */
export const MAX_KEY_BYTES = 1024;
/** Most entries in each of a txn's `compare`, `success` and `failure` lists (etcd's default `--max-txn-ops`). */
export const MAX_TXN_OPS = 128;
/** Default and largest page size of `list`. */
export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 10_000;

/** An INVALID_ARGUMENT error with `message`. */
export function invalid(message: string): MetaKvError {
  return new MetaKvError(MetaKvErrorCode.INVALID_ARGUMENT, message);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  return String(value);
}

/** Checks a key: a non-empty string of at most {@link MAX_KEY_BYTES} UTF-8 bytes. */
export function checkKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw invalid(`${what} must be a non-empty string (got ${show(key)})`);
  }
  if (utf8(key).length > MAX_KEY_BYTES) throw invalid(`${what} is longer than ${MAX_KEY_BYTES} bytes`);
}

/** Checks a prefix: a string (empty allowed only where `allowEmpty`) of at most {@link MAX_KEY_BYTES} bytes. */
export function checkPrefix(prefix: unknown, allowEmpty: boolean, what = 'prefix'): asserts prefix is string {
  if (typeof prefix !== 'string') throw invalid(`${what} must be a string (got ${show(prefix)})`);
  if (!allowEmpty && prefix.length === 0) throw invalid(`${what} must not be empty (that would match every key)`);
  if (utf8(prefix).length > MAX_KEY_BYTES) throw invalid(`${what} is longer than ${MAX_KEY_BYTES} bytes`);
}

/** Checks a value: a string or a Uint8Array. */
export function checkValue(value: unknown, what = 'value'): asserts value is string | Uint8Array {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw invalid(`${what} must be a string or a Uint8Array (got ${show(value)})`);
  }
}

/** Checks a revision argument: a bigint of at least 1. */
export function checkRevision(revision: unknown, what: string): asserts revision is bigint {
  if (typeof revision !== 'bigint' || revision < 1n) {
    throw invalid(`${what} must be a bigint of at least 1 (got ${show(revision)})`);
  }
}

const LEASE_ID = /^[1-9][0-9]{0,18}$/;
const MAX_INT64 = (1n << 63n) - 1n;

/** Checks a lease id: the decimal string of a positive int64. */
export function checkLeaseId(id: unknown, what = 'lease id'): asserts id is LeaseId {
  if (typeof id !== 'string' || !LEASE_ID.test(id) || BigInt(id) > MAX_INT64) {
    throw invalid(`${what} must be the decimal string of a positive int64 (got ${show(id)})`);
  }
}

/**
 * Checks a lease TTL and returns it in whole seconds, rounded up, at least 1 (etcd grants whole
 * seconds; the embedded store does the same so code behaves alike on both).
 */
export function leaseTtlSeconds(ttlMs: unknown): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw invalid(`lease ttlMs must be a positive finite number (got ${show(ttlMs)})`);
  }
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  if (seconds > 9_000_000_000) throw invalid(`lease ttlMs is too large (got ${ttlMs})`);
  return seconds;
}

/** Options of `list`, checked, with defaults applied. */
export interface CheckedListOptions {
  readonly limit: number;
  readonly startAfter: string | undefined;
  readonly atRevision: bigint | undefined;
}

/** Checks `list` arguments. */
export function checkList(prefix: unknown, options: ListOptions): CheckedListOptions {
  checkPrefix(prefix, true);
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw invalid(`list limit must be an integer in 1..${MAX_LIST_LIMIT} (got ${show(limit)})`);
  }
  if (options.startAfter !== undefined && typeof options.startAfter !== 'string') {
    throw invalid(`list startAfter must be a string (got ${show(options.startAfter)})`);
  }
  if (options.atRevision !== undefined) checkRevision(options.atRevision, 'list atRevision');
  return { limit, startAfter: options.startAfter, atRevision: options.atRevision };
}

const COMPARE_OPS = new Set(['==', '!=', '<', '>']);
const NUMERIC_TARGETS = new Set(['version', 'createRevision', 'modRevision']);

function checkCompare(c: Compare, i: number): void {
  const where = `txn compare[${i}]`;
  if (typeof c !== 'object' || c === null) throw invalid(`${where} must be an object`);
  checkKey(c.key, `${where}.key`);
  if (!COMPARE_OPS.has(c.op)) throw invalid(`${where}.op must be one of == != < > (got ${show(c.op)})`);
  if (c.target === 'value') checkValue(c.value, `${where}.value`);
  else if (NUMERIC_TARGETS.has(c.target)) {
    if (typeof c.value !== 'bigint') throw invalid(`${where}.value must be a bigint for target ${c.target}`);
  } else {
    throw invalid(
      `${where}.target must be value, version, createRevision or modRevision (got ${show((c as { target: unknown }).target)})`,
    );
  }
}

function checkOp(op: TxnOp, where: string): void {
  if (typeof op !== 'object' || op === null) throw invalid(`${where} must be an object`);
  switch (op.type) {
    case 'put':
      checkKey(op.key, `${where}.key`);
      checkValue(op.value, `${where}.value`);
      if (op.lease !== undefined) checkLeaseId(op.lease, `${where}.lease`);
      return;
    case 'delete':
    case 'get':
      checkKey(op.key, `${where}.key`);
      return;
    case 'deletePrefix':
      checkPrefix(op.prefix, false, `${where}.prefix`);
      return;
    default:
      throw invalid(
        `${where}.type must be put, delete, deletePrefix or get (got ${show((op as { type: unknown }).type)})`,
      );
  }
}

/**
 * etcd refuses a branch that writes one key twice ("duplicate key given in txn request"): two puts of
 * one key, or a put inside a range the branch deletes. The embedded store refuses the same.
 */
function checkNoDuplicateWrites(ops: readonly TxnOp[], branch: string): void {
  const puts = new Map<string, Uint8Array>();
  for (const op of ops) {
    if (op.type !== 'put') continue;
    if (puts.has(op.key)) throw invalid(`txn ${branch} puts key ${show(op.key)} twice (duplicate key)`);
    puts.set(op.key, utf8(op.key));
  }
  for (const op of ops) {
    if (op.type === 'delete' && puts.has(op.key)) {
      throw invalid(`txn ${branch} both puts and deletes key ${show(op.key)} (duplicate key)`);
    }
    if (op.type === 'deletePrefix') {
      const prefix = utf8(op.prefix);
      const end = prefixEnd(prefix);
      for (const [key, bytes] of puts) {
        if (hasPrefix(bytes, prefix) && (end === undefined || compareBytes(bytes, end) < 0)) {
          throw invalid(`txn ${branch} puts key ${show(key)} inside deleted prefix ${show(op.prefix)} (duplicate key)`);
        }
      }
    }
  }
}

/** Checks a txn request: shapes, sizes and duplicate writes, in both branches. */
export function checkTxn(request: TxnRequest): void {
  if (typeof request !== 'object' || request === null) throw invalid('txn request must be an object');
  const { compare, success, failure = [] } = request;
  if (!Array.isArray(compare)) throw invalid('txn compare must be an array');
  if (!Array.isArray(success)) throw invalid('txn success must be an array');
  if (!Array.isArray(failure)) throw invalid('txn failure must be an array');
  for (const [name, list] of [
    ['compare', compare],
    ['success', success],
    ['failure', failure],
  ] as const) {
    if (list.length > MAX_TXN_OPS)
      throw invalid(`txn ${name} has ${list.length} entries; at most ${MAX_TXN_OPS} are allowed`);
  }
  compare.forEach(checkCompare);
  success.forEach((op, i) => checkOp(op, `txn success[${i}]`));
  failure.forEach((op, i) => checkOp(op, `txn failure[${i}]`));
  checkNoDuplicateWrites(success, 'success');
  checkNoDuplicateWrites(failure, 'failure');
}
