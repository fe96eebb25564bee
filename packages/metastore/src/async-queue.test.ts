import { AsyncQueue } from './async-queue.js';

describe('AsyncQueue', () => {
  it('hands items to a waiting consumer and buffers them otherwise, in order', async () => {
    const q = new AsyncQueue<number>();
    const first = q.next();
    q.push(1);
    q.push(2);
    q.push(3);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    expect(await q.next()).toEqual({ value: 3, done: false });
  });

  it('delivers buffered items before ending or failing, and throws the failure once', async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.fail(new Error('boom'));
    q.push(2); // ignored after the end
    expect(await q.next()).toEqual({ value: 1, done: false });
    await expect(q.next()).rejects.toThrow('boom');
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('stop drops buffered items, wakes a waiting consumer and runs cleanup exactly once', async () => {
    let cleanups = 0;
    const q = new AsyncQueue<number>(() => cleanups++);
    const waiting = q.next();
    q.stop();
    expect(await waiting).toEqual({ value: undefined, done: true });
    q.end();
    await q.return();
    expect(cleanups).toBe(1);
    expect(q.finished).toBe(true);
  });

  it('ends a for-await loop that breaks early and cleans up', async () => {
    let cleaned = false;
    const q = new AsyncQueue<string>(() => (cleaned = true));
    q.push('a');
    q.push('b');
    for await (const item of q) {
      expect(item).toBe('a');
      break;
    }
    expect(cleaned).toBe(true);
  });
});
