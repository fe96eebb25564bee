import type { KeyValue, TxnRequest, TxnResult } from '@streamsvc/metastore';
import type { TsoKv } from '../../src/global-allocator.js';

const encoder = new TextEncoder();

/**
 * An in-memory stand-in for the two MetaKV calls the allocator makes (get, and a txn of compare on
 * modRevision + put + get). `writes` counts successful puts; `failWrites` makes txns reject, and
 * `holdWrites` makes them wait until released.
 */
export class FakeTsoKv implements TsoKv {
  readonly data = new Map<string, KeyValue>();
  revision = 0n;
  writes = 0;
  failWrites = false;
  #held: (() => void)[] = [];
  #hold = false;

  holdWrites(): void {
    this.#hold = true;
  }

  releaseWrites(): void {
    this.#hold = false;
    for (const release of this.#held.splice(0)) release();
  }

  /** Writes `value` as another writer would (bumps the revision). */
  externalPut(key: string, value: string): void {
    this.#put(key, value);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    return this.data.get(key);
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    if (this.#hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    if (this.failWrites) throw new Error('metastore down');
    const ok = request.compare.every((c) => {
      if (c.target !== 'modRevision' || c.op !== '==') throw new Error(`fake supports modRevision == only`);
      return (this.data.get(c.key)?.modRevision ?? 0n) === c.value;
    });
    const ops = ok ? request.success : (request.failure ?? []);
    const results = ops.map((op) => {
      if (op.type === 'put') {
        this.#put(op.key, String(op.value));
        this.writes++;
        return undefined;
      }
      if (op.type === 'get') return this.data.get(op.key);
      throw new Error(`fake does not support ${op.type}`);
    });
    return { succeeded: ok, revision: this.revision, results };
  }

  #put(key: string, value: string): void {
    this.revision++;
    const prev = this.data.get(key);
    this.data.set(key, {
      key,
      value: encoder.encode(value),
      createRevision: prev?.createRevision ?? this.revision,
      modRevision: this.revision,
      version: (prev?.version ?? 0n) + 1n,
      lease: undefined,
    });
  }
}
