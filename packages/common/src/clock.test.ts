import { ManualClock, systemClock } from './clock.js';
import { raceAbort, isAbortError, throwIfAborted } from './abort.js';
import { CloseOnce, deferred } from './deferred.js';

describe('ManualClock', () => {
  it('wakes sleepers in deadline order only when time passes their deadline', async () => {
    const clock = new ManualClock(1000);
    const woke: number[] = [];
    const a = clock.sleep(50).then(() => woke.push(50));
    const b = clock.sleep(10).then(() => woke.push(10));
    clock.advance(9);
    await Promise.resolve();
    expect(woke).toEqual([]);
    clock.advance(100);
    await Promise.all([a, b]);
    expect(woke).toEqual([10, 50]);
    expect(clock.nowMs()).toBe(1109);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('rejects a sleep whose signal aborts and forgets it', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const p = clock.sleep(10, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(clock.pendingSleeps).toBe(0);
  });
});

describe('systemClock', () => {
  it('rejects at once when the signal is already aborted', async () => {
    await expect(systemClock.sleep(10_000, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

describe('abort helpers', () => {
  it('raceAbort settles with the promise when no abort happens', async () => {
    await expect(raceAbort(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
  });

  it('raceAbort rejects with the abort reason on abort', async () => {
    const ac = new AbortController();
    const d = deferred<number>();
    const p = raceAbort(d.promise, ac.signal);
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(isAbortError(await p.catch((e: unknown) => e))).toBe(true);
    d.resolve(1);
  });

  it('throwIfAborted throws the reason of an aborted signal', () => {
    expect(() => throwIfAborted(AbortSignal.abort(new Error('stop')))).toThrow('stop');
    expect(() => throwIfAborted(undefined)).not.toThrow();
  });
});

describe('CloseOnce', () => {
  it('runs the close routine once and returns the same promise to every caller', async () => {
    const once = new CloseOnce();
    let runs = 0;
    const close = async (): Promise<void> => {
      runs++;
    };
    const p1 = once.run(close);
    const p2 = once.run(close);
    expect(p1).toBe(p2);
    await p1;
    expect(runs).toBe(1);
    expect(once.started).toBe(true);
  });
});
