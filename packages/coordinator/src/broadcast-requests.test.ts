import { deferred, ManualClock } from '@streamsvc/common';
import { MessageBuilder, StreamingError } from '@streamsvc/message';

import { broadcastRequestKey, BroadcastRequests } from './broadcast-requests.js';
import type { BroadcastOutcome, BroadcastRequestKey, StartBroadcast } from './broadcast-requests.js';

const VCHANNELS = ['by-dev-dml_0_449v0', 'by-dev-dml_1_449v1'];

const ddl = (collectionName = 'docs') =>
  MessageBuilder.dropCollection().header({ collectionId: 449n }).body({ collectionName }).broadcast(VCHANNELS).build();

const key = (id: string, collectionName?: string): BroadcastRequestKey => broadcastRequestKey(id, ddl(collectionName))!;

const outcome = (broadcastId: bigint): BroadcastOutcome => ({
  broadcastId,
  results: new Map(VCHANNELS.map((v) => [v, { messageId: `${v}@1`, timeTick: 1n, lastConfirmed: `${v}@1` }])),
});

/** A StartBroadcast whose broadcasts finish when the test says so; counts how often it started one. */
class FakeBroadcasts {
  started = 0;
  readonly #jobs: ReturnType<typeof deferred<BroadcastOutcome>>[] = [];

  readonly start: StartBroadcast = () => {
    this.started++;
    const job = deferred<BroadcastOutcome>();
    this.#jobs.push(job);
    return Promise.resolve({ job: job.promise });
  };

  finish(n: number, value: BroadcastOutcome | Error): void {
    if (value instanceof Error) this.#jobs[n]!.reject(value);
    else this.#jobs[n]!.resolve(value);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('BroadcastRequests', () => {
  let clock: ManualClock;
  let broadcasts: FakeBroadcasts;
  let requests: BroadcastRequests;

  beforeEach(() => {
    clock = new ManualClock();
    broadcasts = new FakeBroadcasts();
    requests = new BroadcastRequests({ clock, windowMs: 60_000, maxFinished: 2 });
  });

  it('has no key for an empty request id, and runs every request without one', async () => {
    expect(broadcastRequestKey('', ddl())).toBeUndefined();
    const first = requests.run(undefined, broadcasts.start);
    const second = requests.run(undefined, broadcasts.start);
    await settle();
    broadcasts.finish(0, outcome(1n));
    broadcasts.finish(1, outcome(2n));
    expect([(await first).broadcastId, (await second).broadcastId]).toEqual([1n, 2n]);
    expect(broadcasts.started).toBe(2);
  });

  it('answers a retry after the first request finished with its outcome, without broadcasting again', async () => {
    const first = requests.run(key('r1'), broadcasts.start);
    await settle();
    broadcasts.finish(0, outcome(7n));
    const answered = await first;
    const retry = await requests.run(key('r1'), broadcasts.start);
    expect(retry).toBe(answered);
    expect(broadcasts.started).toBe(1);
  });

  it('lets a retry while the first request is in progress join it, even after the first caller gave up', async () => {
    const caller = new AbortController();
    const first = requests.run(key('r1'), broadcasts.start, caller.signal);
    await settle();
    caller.abort(new Error('deadline exceeded'));
    await expect(first).rejects.toThrow('deadline exceeded');
    const retry = requests.run(key('r1'), broadcasts.start);
    await settle();
    expect(requests.size).toEqual({ inFlight: 1, finished: 0 });
    broadcasts.finish(0, outcome(7n));
    expect((await retry).broadcastId).toBe(7n);
    expect(broadcasts.started).toBe(1);
  });

  it('refuses a different message under a request id in use or recently finished with INVALID_ARGUMENT', async () => {
    const first = requests.run(key('r1', 'docs'), broadcasts.start);
    await settle();
    const whileRunning = await requests.run(key('r1', 'notes'), broadcasts.start).catch((e: unknown) => e);
    expect(StreamingError.is(whileRunning, 'INVALID_ARGUMENT')).toBe(true);
    expect((whileRunning as Error).message).toContain('request id r1 was already used for a different message');
    broadcasts.finish(0, outcome(7n));
    await first;
    await expect(requests.run(key('r1', 'notes'), broadcasts.start)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(broadcasts.started).toBe(1);
  });

  it('lets a waiting retry broadcast itself when the first request gave up before it started anything', async () => {
    const gate = deferred<void>();
    let calls = 0;
    const start: StartBroadcast = async () => {
      // The first request waits (for its locks) and then times out: nothing was broadcast.
      if (calls++ === 0) {
        await gate.promise;
        throw new StreamingError('RESOURCE_ACQUIRED', 'the key stayed taken');
      }
      return broadcasts.start();
    };
    const first = requests.run(key('r1'), start).catch((e: unknown) => e);
    const retry = requests.run(key('r1'), start);
    await settle();
    gate.resolve();
    expect(StreamingError.is(await first, 'RESOURCE_ACQUIRED')).toBe(true);
    await settle();
    broadcasts.finish(0, outcome(8n));
    expect((await retry).broadcastId).toBe(8n);
    expect(calls).toBe(2);
  });

  it('answers retries with a non-retriable failure but forgets a retriable one, so its retry broadcasts anew', async () => {
    const dropped = requests.run(key('r1'), broadcasts.start);
    await settle();
    broadcasts.finish(0, new StreamingError('VCHANNEL_DROPPED', 'dropped'));
    await expect(dropped).rejects.toMatchObject({ code: 'VCHANNEL_DROPPED' });
    await expect(requests.run(key('r1'), broadcasts.start)).rejects.toMatchObject({ code: 'VCHANNEL_DROPPED' });
    expect(broadcasts.started).toBe(1);

    const inner = requests.run(key('r2'), broadcasts.start);
    await settle();
    broadcasts.finish(1, new StreamingError('INNER', 'transient'));
    await expect(inner).rejects.toMatchObject({ code: 'INNER' });
    const again = requests.run(key('r2'), broadcasts.start);
    await settle();
    broadcasts.finish(2, outcome(9n));
    expect((await again).broadcastId).toBe(9n);
  });

  it('forgets a finished request windowMs after it finished: a retry then is a new broadcast', async () => {
    const first = requests.run(key('r1'), broadcasts.start);
    await settle();
    broadcasts.finish(0, outcome(1n));
    await first;
    clock.advance(59_999);
    expect((await requests.run(key('r1'), broadcasts.start)).broadcastId).toBe(1n);
    clock.advance(1);
    const late = requests.run(key('r1'), broadcasts.start);
    await settle();
    expect(broadcasts.started).toBe(2);
    broadcasts.finish(1, outcome(2n));
    expect((await late).broadcastId).toBe(2n);
  });

  it('keeps at most maxFinished finished requests, forgetting the oldest first', async () => {
    for (const [n, id] of ['r1', 'r2', 'r3'].entries()) {
      const run = requests.run(key(id), broadcasts.start);
      await settle();
      broadcasts.finish(n, outcome(BigInt(n + 1)));
      await run;
    }
    expect(requests.size).toEqual({ inFlight: 0, finished: 2 });
    expect((await requests.run(key('r2'), broadcasts.start)).broadcastId).toBe(2n);
    const r1 = requests.run(key('r1'), broadcasts.start);
    await settle();
    expect(broadcasts.started).toBe(4);
    broadcasts.finish(3, outcome(4n));
    expect((await r1).broadcastId).toBe(4n);
  });

  it('lets retries join a broadcast adopted without a caller (a resumed task)', async () => {
    const job = deferred<BroadcastOutcome>();
    requests.adopt(key('r1'), job.promise);
    const retry = requests.run(key('r1'), broadcasts.start);
    job.resolve(outcome(3n));
    expect((await retry).broadcastId).toBe(3n);
    expect(broadcasts.started).toBe(0);
  });
});
