/**
 * Mapping between the port's values and etcd's wire shapes (as etcd3's proto-loader objects: snake_case
 * fields, int64 as decimal strings, bytes as Buffers), and the adapter's key namespace. Structural on
 * purpose: only `etcd-meta-kv.ts` imports etcd3.
 */
import { fromUtf8, prefixEnd, toBytes, utf8 } from './bytes.js';
import type { Compare, KeyValue, TxnOp } from './meta-kv.js';

/** etcd's `mvccpb.KeyValue` as etcd3 decodes it. */
export interface WireKeyValue {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly create_revision: string;
  readonly mod_revision: string;
  readonly version: string;
  readonly lease: string;
}

/** etcd's `Compare` message. */
export interface WireCompare {
  key: Buffer;
  target: 'Version' | 'Create' | 'Mod' | 'Value';
  result: 'Equal' | 'Greater' | 'Less' | 'NotEqual';
  version?: string;
  create_revision?: string;
  mod_revision?: string;
  value?: Buffer;
}

/** etcd's `RequestOp` message (the kinds the port uses). */
export type WireRequestOp =
  | { request_put: { key: Buffer; value: Buffer; lease?: string } }
  | { request_delete_range: { key: Buffer; range_end?: Buffer } }
  | { request_range: { key: Buffer } };

/** A byte range `[key, range_end)`; `range_end` `\0` means "to the end of the key space". */
export interface WireRange {
  readonly key: Buffer;
  readonly range_end: Buffer;
}

const ALL_KEYS_END = Buffer.from([0]);

/**
 * Keys of one namespace: every key the adapter sends is `namespace + key`, and keys coming back lose the
 * namespace again. With an empty namespace it is the identity.
 */
export class KeySpace {
  readonly #prefix: Buffer;

  constructor(namespace: string) {
    this.#prefix = Buffer.from(utf8(namespace));
  }

  /** The wire key of `key`. */
  key(key: string): Buffer {
    return Buffer.concat([this.#prefix, utf8(key)]);
  }

  /** The wire range of every key starting with `prefix` (and at or after `from`, when given). */
  prefixRange(prefix: string, from?: Buffer): WireRange {
    const wirePrefix = this.key(prefix);
    const end = prefixEnd(wirePrefix);
    // etcd refuses an empty key; `\0` is the smallest key there is.
    const start = wirePrefix.length === 0 ? ALL_KEYS_END : wirePrefix;
    return {
      key: from && Buffer.compare(from, start) > 0 ? from : start,
      range_end: end ? Buffer.from(end) : ALL_KEYS_END,
    };
  }

  /** The port key of a wire key. */
  unkey(wire: Uint8Array): string {
    return fromUtf8(wire.subarray(this.#prefix.length));
  }
}

/** An etcd KeyValue as the port shows it. */
export function fromWireKv(space: KeySpace, kv: WireKeyValue): KeyValue {
  return {
    key: space.unkey(kv.key),
    value: new Uint8Array(kv.value),
    createRevision: BigInt(kv.create_revision),
    modRevision: BigInt(kv.mod_revision),
    version: BigInt(kv.version),
    lease: kv.lease === '0' || kv.lease === '' ? undefined : kv.lease,
  };
}

const RESULT = { '==': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' } as const;

/** A port compare as an etcd Compare. */
export function toWireCompare(space: KeySpace, c: Compare): WireCompare {
  const base = { key: space.key(c.key), result: RESULT[c.op] };
  switch (c.target) {
    case 'value':
      return { ...base, target: 'Value', value: Buffer.from(toBytes(c.value)) };
    case 'version':
      return { ...base, target: 'Version', version: String(c.value) };
    case 'createRevision':
      return { ...base, target: 'Create', create_revision: String(c.value) };
    case 'modRevision':
      return { ...base, target: 'Mod', mod_revision: String(c.value) };
  }
}

/** A port txn op as an etcd RequestOp. */
export function toWireOp(space: KeySpace, op: TxnOp): WireRequestOp {
  switch (op.type) {
    case 'put':
      return {
        request_put: {
          key: space.key(op.key),
          value: Buffer.from(toBytes(op.value)),
          ...(op.lease === undefined ? {} : { lease: op.lease }),
        },
      };
    case 'delete':
      return { request_delete_range: { key: space.key(op.key) } };
    case 'deletePrefix':
      return { request_delete_range: space.prefixRange(op.prefix) };
    case 'get':
      return { request_range: { key: space.key(op.key) } };
  }
}

/** The smallest wire key strictly after `key` (for `startAfter`). */
export function wireKeyAfter(space: KeySpace, key: string): Buffer {
  return Buffer.concat([space.key(key), ALL_KEYS_END]);
}
