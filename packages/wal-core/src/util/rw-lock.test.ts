import { RwLock } from './rw-lock.js';

describe('RwLock', () => {
  it('lets readers share and makes a writer wait for them, and later readers wait for the writer', async () => {
    const lock = new RwLock();
    const order: string[] = [];
    const r1 = await lock.acquire(false);
    const r2 = await lock.acquire(false);
    const writer = lock.acquire(true).then((release) => (order.push('w'), release));
    const lateReader = lock.acquire(false).then((release) => (order.push('r3'), release));
    await Promise.resolve();
    expect(order).toEqual([]);
    r1();
    r2();
    (await writer)();
    (await lateReader)();
    expect(order).toEqual(['w', 'r3']);
    expect(lock.idle).toBe(true);
  });

  it('forgets a waiter whose signal aborts', async () => {
    const lock = new RwLock();
    const release = await lock.acquire(true);
    const ac = new AbortController();
    const waiting = lock.acquire(false, ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    release();
    expect(lock.idle).toBe(true);
  });

  it('takes a shared hold at once only when no writer holds or waits, and releasing it lets the writer in', async () => {
    const lock = new RwLock();
    expect(lock.tryAcquireShared()).toBe(true);
    const order: string[] = [];
    const writer = lock.acquire(true).then((release) => (order.push('w'), release));
    // A writer is waiting: a fast shared hold would overtake it.
    expect(lock.tryAcquireShared()).toBe(false);
    lock.releaseShared();
    const release = await writer;
    expect(order).toEqual(['w']);
    expect(lock.tryAcquireShared()).toBe(false);
    release();
    expect(lock.tryAcquireShared()).toBe(true);
    lock.releaseShared();
    expect(lock.idle).toBe(true);
  });
});
