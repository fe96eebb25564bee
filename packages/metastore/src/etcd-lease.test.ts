import { EventEmitter } from 'node:events';

import { noopLogger } from '@streamsvc/common';

import type { EtcdLeaseDeps, KeepAliveStream } from './etcd-lease.js';
import { EtcdLease } from './etcd-lease.js';

class FakeStream extends EventEmitter implements KeepAliveStream {
  readonly written: string[] = [];
  cancelled = false;
  write(request: { ID: string }): void {
    this.written.push(request.ID);
  }
  cancel(): void {
    this.cancelled = true;
  }
  answer(ttl: number): void {
    this.emit('data', { TTL: String(ttl) });
  }
}

function harness(keepAlive = true) {
  const streams: FakeStream[] = [];
  const revoked: string[] = [];
  const deps: EtcdLeaseDeps = {
    openKeepAlive: async () => {
      const s = new FakeStream();
      streams.push(s);
      return s;
    },
    revoke: async (id) => void revoked.push(id),
    log: noopLogger,
    onDone: () => {},
    nowMs: () => Date.now(),
  };
  const lease = EtcdLease.start('42', 3000, Date.now(), keepAlive, deps);
  return { lease, streams, revoked };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('EtcdLease', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('sends a keepalive every third of the TTL and stays alive while they are answered', async () => {
    const { lease, streams } = harness();
    await flush();
    const stream = streams[0]!;
    expect(stream.written).toEqual(['42']);
    for (let i = 0; i < 9; i++) {
      stream.answer(3);
      jest.advanceTimersByTime(1000);
    }
    expect(stream.written.length).toBe(10);
    expect(lease.isLost).toBe(false);
    await lease.revoke();
  });

  it('considers the lease lost one TTL after the send time of the last answered keepalive', async () => {
    const { lease, streams, revoked } = harness();
    await flush();
    streams[0]!.answer(3); // answers the keepalive sent at t=0
    jest.advanceTimersByTime(2999);
    expect(lease.isLost).toBe(false);
    jest.advanceTimersByTime(1);
    expect(await lease.lost).toMatchObject({ reason: 'expired', error: { code: 'LEASE_NOT_FOUND' } });
    expect(revoked).toEqual(['42']); // best effort, so the keys go now
    expect(streams[0]!.cancelled).toBe(true);
  });

  it('settles lost at once when etcd answers that the lease is gone', async () => {
    const { lease, streams } = harness();
    await flush();
    streams[0]!.answer(0);
    expect(await lease.lost).toMatchObject({
      reason: 'expired',
      error: { message: expect.stringContaining('is gone') },
    });
  });

  it('reopens a broken keepalive stream and ignores answers from the old one', async () => {
    const { lease, streams } = harness();
    await flush();
    const first = streams[0]!;
    first.emit('error', new Error('14 UNAVAILABLE'));
    jest.advanceTimersByTime(200);
    await flush();
    const second = streams[1]!;
    expect(second.written).toEqual(['42']); // sent at t=200
    jest.advanceTimersByTime(800); // t=1000: another send, so two are pending: [200, 1000]
    expect(second.written.length).toBe(2);
    first.answer(3); // stale: taken as an answer, it would let the next one prove t=1000
    second.answer(3); // answers the send at t=200: the lease lives until 3200
    jest.advanceTimersByTime(2199);
    expect(lease.isLost).toBe(false);
    jest.advanceTimersByTime(1);
    expect(lease.isLost).toBe(true);
  });

  it('expires a lease granted without keepalive one TTL after the grant, sending nothing', async () => {
    const { lease, streams } = harness(false);
    await flush();
    expect(streams).toEqual([]);
    jest.advanceTimersByTime(3000);
    expect((await lease.lost).reason).toBe('expired');
  });

  it("revokes once, settles lost with 'revoked', and stops keepalives", async () => {
    const { lease, streams, revoked } = harness();
    await flush();
    await Promise.all([lease.revoke(), lease.revoke()]);
    expect(revoked).toEqual(['42']);
    expect(await lease.lost).toEqual({ reason: 'revoked' });
    expect(streams[0]!.cancelled).toBe(true);
    jest.advanceTimersByTime(10_000);
    expect(streams[0]!.written).toEqual(['42']);
    await lease.revoke();
    expect(revoked).toEqual(['42']);
  });
});
