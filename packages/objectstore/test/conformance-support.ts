/** What the conformance scenarios share: the target description and small helpers. */
import { ObjectStoreError } from '../src/index.js';
import type { ObjectStore } from '../src/index.js';

export interface ConformanceTarget {
  /** Shown in test names, e.g. `S3 on moto`. */
  readonly name: string;
  /** A fresh, empty store (a new directory or a new key prefix), closed by the scenario. */
  open(options?: { readonly maxObjectBytes?: number }): Promise<ObjectStore>;
  /** Whether `a` and `a/b` can both be objects (S3) or the second is refused with INVALID_KEY (local). */
  readonly nestedKeys: 'coexist' | 'reject';
  /** Scenarios the target cannot pass, with the reason. */
  readonly skip?: { readonly atomicPutIfAbsent?: string; readonly byteOrderListing?: string };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
export const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return ObjectStoreError.is(e) ? e.code : `not an ObjectStoreError: ${String(e)}`;
  }
};
/** Runs `fn` over `items` with at most `width` calls at a time. */
export async function inParallel<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
export async function listAll(store: ObjectStore, prefix: string, limit?: number): Promise<string[]> {
  const keys: string[] = [];
  let startAfter: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await store.list(prefix, { startAfter, limit });
    keys.push(...page.objects.map((o) => o.key));
    if (!page.more) return keys;
    startAfter = page.objects.at(-1)?.key;
    if (startAfter === undefined) throw new Error('a page with more=true must not be empty');
  }
  throw new Error('listing did not end within 10000 pages');
}

/** Wraps a scenario: opens a fresh store from the target, runs `fn`, closes the store. */
export const storeScenario =
  (target: ConformanceTarget, fn: (store: ObjectStore) => Promise<void>, options?: { maxObjectBytes?: number }) =>
  async (): Promise<void> => {
    const store = await target.open(options);
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };
