import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs and starts over after reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('draws each delay from [delay × (1 − jitter), delay]', () => {
    expect(new Backoff({ initialMs: 100, maxMs: 100, jitter: 0.5 }, () => 1).next()).toBe(50);
    expect(new Backoff({ initialMs: 100, maxMs: 100, jitter: 0.5 }, () => 0).next()).toBe(100);
  });

  it('supports a fixed delay (multiplier 1)', () => {
    const b = new Backoff({ initialMs: 50, maxMs: 50, multiplier: 1, jitter: 0 });
    expect([b.next(), b.next(), b.next()]).toEqual([50, 50, 50]);
  });
});
