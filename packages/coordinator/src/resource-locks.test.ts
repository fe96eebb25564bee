import { ManualClock } from '@streamsvc/common';
import { ResourceDomain, StreamingError } from '@streamsvc/message';
import fc from 'fast-check';

import { describeLockKey, ResourceLocks } from './resource-locks.js';
import type { LockKey, ResourceLockHandle } from './resource-locks.js';

const exclusive = (key: string, domain: number = ResourceDomain.CollectionName): LockKey => ({
  domain,
  key,
  shared: false,
});
const shared = (key: string, domain: number = ResourceDomain.CollectionName): LockKey => ({
  domain,
  key,
  shared: true,
});

/** Lets granted promises run their callbacks. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Tracks whether an acquire has been granted yet. */
function track(promise: Promise<ResourceLockHandle>): { handle: ResourceLockHandle | undefined; error: unknown } {
  const state: { handle: ResourceLockHandle | undefined; error: unknown } = { handle: undefined, error: undefined };
  promise.then(
    (h) => (state.handle = h),
    (e: unknown) => (state.error = e),
  );
  return state;
}

function conflict(a: readonly LockKey[], b: readonly LockKey[]): boolean {
  return a.some((x) => b.some((y) => x.domain === y.domain && x.key === y.key && (!x.shared || !y.shared)));
}

describe('ResourceLocks', () => {
  it('lets one exclusive holder in at a time and the next one in on release', async () => {
    const locks = new ResourceLocks();
    const first = await locks.acquire([exclusive('docs')]);
    const second = track(locks.acquire([exclusive('docs')]));
    await settle();
    expect(second.handle).toBeUndefined();
    expect(locks.holders(exclusive('docs'))).toEqual({ shared: 0, exclusive: true });
    first.release();
    await settle();
    expect(second.handle).toBeDefined();
  });

  it('lets shared holders in together but keeps an exclusive one out until all left', async () => {
    const locks = new ResourceLocks();
    const a = await locks.acquire([shared('db')]);
    const b = await locks.acquire([shared('db')]);
    expect(locks.holders(shared('db'))).toEqual({ shared: 2, exclusive: false });
    const writer = track(locks.acquire([exclusive('db')]));
    a.release();
    await settle();
    expect(writer.handle).toBeUndefined();
    b.release();
    await settle();
    expect(writer.handle).toBeDefined();
  });

  it('serves waiters in order, so a waiting exclusive request blocks later shared ones', async () => {
    const locks = new ResourceLocks();
    const reader = await locks.acquire([shared('docs')]);
    const writer = track(locks.acquire([exclusive('docs')]));
    const lateReader = track(locks.acquire([shared('docs')]));
    await settle();
    expect(writer.handle).toBeUndefined();
    expect(lateReader.handle).toBeUndefined();
    reader.release();
    await settle();
    expect(writer.handle).toBeDefined();
    expect(lateReader.handle).toBeUndefined();
    writer.handle!.release();
    await settle();
    expect(lateReader.handle).toBeDefined();
  });

  it('lets a request on other keys pass a blocked waiter', async () => {
    const locks = new ResourceLocks();
    await locks.acquire([exclusive('docs')]);
    const blocked = track(locks.acquire([exclusive('docs')]));
    const other = track(locks.acquire([exclusive('notes')]));
    await settle();
    expect(blocked.handle).toBeUndefined();
    expect(other.handle).toBeDefined();
  });

  it('takes all keys of a request or none of them', async () => {
    const locks = new ResourceLocks();
    const docs = await locks.acquire([exclusive('docs')]);
    const both = track(locks.acquire([exclusive('notes'), exclusive('docs')]));
    await settle();
    expect(both.handle).toBeUndefined();
    expect(locks.holders(exclusive('notes'))).toEqual({ shared: 0, exclusive: false });
    docs.release();
    await settle();
    expect(both.handle?.keys).toHaveLength(2);
    expect(locks.holders(exclusive('notes')).exclusive).toBe(true);
  });

  it('does not deadlock two requests that list the same keys in opposite orders', async () => {
    const locks = new ResourceLocks();
    const ab = track(locks.acquire([exclusive('a'), exclusive('b')]));
    const ba = track(locks.acquire([exclusive('b'), exclusive('a')]));
    await settle();
    expect(ab.handle).toBeDefined();
    expect(ba.handle).toBeUndefined();
    ab.handle!.release();
    await settle();
    expect(ba.handle).toBeDefined();
  });

  it('tells keys of different domains apart and merges a key listed twice into its strongest mode', async () => {
    const locks = new ResourceLocks();
    await locks.acquire([exclusive('x', ResourceDomain.CollectionName)]);
    const db = track(locks.acquire([exclusive('x', ResourceDomain.DbName)]));
    await settle();
    expect(db.handle).toBeDefined();
    const twice = await locks.acquire([shared('y'), exclusive('y'), shared('y')]);
    expect(twice.keys).toEqual([exclusive('y')]);
  });

  it('gives up after timeoutMs with RESOURCE_ACQUIRED naming the held key, and lets later waiters on', async () => {
    const clock = new ManualClock();
    const locks = new ResourceLocks({ clock });
    const holder = await locks.acquire([exclusive('docs')]);
    const timedOut = track(locks.acquire([shared('free'), exclusive('docs')], { timeoutMs: 1000 }));
    const later = track(locks.acquire([exclusive('free')]));
    await settle();
    clock.advance(999);
    await settle();
    expect(timedOut.error).toBeUndefined();
    clock.advance(1);
    await settle();
    expect(StreamingError.is(timedOut.error, 'RESOURCE_ACQUIRED')).toBe(true);
    expect((timedOut.error as StreamingError).retriable).toBe(true);
    expect((timedOut.error as Error).message).toContain('CollectionName:docs is held exclusively');
    expect(later.handle).toBeDefined();
    expect(locks.waiting).toBe(0);
    holder.release();
  });

  it('leaves the queue on abort, rejecting with the reason', async () => {
    const locks = new ResourceLocks();
    await locks.acquire([exclusive('docs')]);
    const controller = new AbortController();
    const aborted = track(locks.acquire([exclusive('docs')], { signal: controller.signal }));
    controller.abort(new Error('caller gave up'));
    await settle();
    expect((aborted.error as Error).message).toBe('caller gave up');
    expect(locks.waiting).toBe(0);
    await expect(locks.acquire([], { signal: controller.signal })).rejects.toThrow('caller gave up');
  });

  it('releases once however often release or dispose is called', async () => {
    const locks = new ResourceLocks();
    const a = await locks.acquire([shared('docs')]);
    const b = await locks.acquire([shared('docs')]);
    a.release();
    a.release();
    a[Symbol.dispose]();
    expect(locks.holders(shared('docs')).shared).toBe(1);
    b.release();
    expect(locks.holders(shared('docs'))).toEqual({ shared: 0, exclusive: false });
  });

  it('names keys by domain for errors and logs', () => {
    expect(describeLockKey(exclusive('docs', ResourceDomain.DbName))).toBe('DbName:docs');
    expect(describeLockKey({ domain: 55, key: 'k' })).toBe('domain 55:k');
  });

  it('never lets conflicting holders in together, serves conflicting waiters in order and never deadlocks', async () => {
    const keyArb = fc.record({
      domain: fc.constantFrom(ResourceDomain.CollectionName, ResourceDomain.DbName),
      key: fc.constantFrom('a', 'b', 'c'),
      shared: fc.boolean(),
    });
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('acquire' as const), keys: fc.array(keyArb, { maxLength: 3 }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const locks = new ResourceLocks();
        interface Request {
          readonly seq: number;
          readonly keys: readonly LockKey[];
          readonly controller: AbortController;
          state: 'waiting' | 'held' | 'released' | 'aborted';
          handle?: ResourceLockHandle;
        }
        const requests: Request[] = [];
        const grantOrder: Request[] = [];
        const check = (): void => {
          const held = requests.filter((r) => r.state === 'held');
          for (const [i, a] of held.entries()) {
            for (const b of held.slice(i + 1)) expect(conflict(a.keys, b.keys)).toBe(false);
          }
        };
        for (const op of ops) {
          if (op.kind === 'acquire') {
            const request: Request = {
              seq: requests.length,
              keys: op.keys,
              controller: new AbortController(),
              state: 'waiting',
            };
            requests.push(request);
            locks.acquire(op.keys, { signal: request.controller.signal }).then(
              (handle) => {
                request.handle = handle;
                request.state = 'held';
                grantOrder.push(request);
              },
              () => (request.state = 'aborted'),
            );
          } else {
            const wanted = op.kind === 'release' ? 'held' : 'waiting';
            const candidates = requests.filter((r) => r.state === wanted);
            const target = candidates[op.pick % Math.max(candidates.length, 1)];
            if (target?.state === 'held') {
              target.handle!.release();
              target.state = 'released';
            } else if (target !== undefined) {
              target.controller.abort(new Error('aborted'));
            }
          }
          await settle();
          check();
        }
        // Draining: releasing every holder must eventually grant every waiter (no deadlock).
        for (let round = 0; requests.some((r) => r.state === 'waiting' || r.state === 'held'); round++) {
          expect(round).toBeLessThan(100);
          for (const r of requests.filter((x) => x.state === 'held')) {
            r.handle!.release();
            r.state = 'released';
          }
          await settle();
          check();
        }
        // FIFO: of two conflicting requests that were both granted, the earlier one was granted first.
        for (const [i, later] of grantOrder.entries()) {
          for (const earlier of grantOrder.slice(i + 1)) {
            if (earlier.seq < later.seq) expect(conflict(earlier.keys, later.keys)).toBe(false);
          }
        }
        expect(locks.waiting).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
