import { createHook } from 'node:async_hooks';
import { getEventListeners } from 'node:events';

import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { ManualClock, MemoryLogger } from '@streamsvc/common';
import type { Logger } from '@streamsvc/common';
import { StreamingError } from '@streamsvc/message';
import { Election, EmbeddedMetaKv, Session } from '@streamsvc/metastore';
import type { Leadership, Lease } from '@streamsvc/metastore';
import { TsoServiceService } from '@streamsvc/proto';
import type { AllocTimestampRequest, AllocTimestampResponse, TsoServiceServer } from '@streamsvc/proto';
import { tempDir } from '@streamsvc/testkit';
import type { TempDir } from '@streamsvc/testkit';

import { grpcFailure } from '../src/grpc-failure.js';
import { clusterKeys } from '../src/node-sessions.js';
import { RemoteTsoSource } from '../src/remote-tso.js';
import { tsoService } from '../src/tso-service.js';

// An integration test (test/, not src/) because it binds sockets; no service outside this process is needed.
// Real pieces: the embedded MetaKV holding the coordinator election, and grpc-js servers on 127.0.0.1
// serving the TSO service. Only time is injected: the source's backoff and deadline run on a ManualClock,
// so a test decides when a retry or the timeout happens (`driven`), and a test that does not move the
// clock shows that the source reacted to the election rather than to a timer.

const keys = clusterKeys('rt/');
const TIMEOUT_MS = 1000;

type AllocCall = ServerUnaryCall<AllocTimestampRequest, AllocTimestampResponse>;
type AllocHandler = (call: AllocCall, callback: sendUnaryData<AllocTimestampResponse>) => void;

/** Waits (for I/O and microtasks, not for logic timing) until `predicate` holds. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
}

/** Settles `promise` without moving any clock: what the source does at once, on I/O or an election event. */
async function promptly<T>(promise: Promise<T>, what: string): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await until(() => settled, what);
  return promise;
}

/** Settles `promise`, moving `clock` forward by `stepMs` whenever something sleeps on it. */
async function driven<T>(clock: ManualClock, promise: Promise<T>, stepMs = 100): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 2000 && !settled; i++) {
    if (clock.pendingSleeps > 0) clock.advance(stepMs);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  if (!settled) throw new Error('the promise did not settle while the clock moved');
  return promise;
}

/**
 * A coordinator as a streaming node sees one: a gRPC server with the TSO service, and a candidate in the
 * election whose value is its address (as ClusterCoordinator campaigns).
 */
class Coordinator {
  readonly address: string;
  /** Every AllocTimestamp request this coordinator received. */
  readonly requests: AllocTimestampRequest[];
  leadership: Leadership | undefined;
  readonly #server: Server;

  private constructor(address: string, server: Server, requests: AllocTimestampRequest[]) {
    this.address = address;
    this.#server = server;
    this.requests = requests;
  }

  /** Serves AllocTimestamp with `handler`, or without a TSO service at all when `handler` is undefined. */
  static async serve(handler: AllocHandler | undefined): Promise<Coordinator> {
    const server = new Server();
    const requests: AllocTimestampRequest[] = [];
    if (handler) {
      const service: TsoServiceServer = {
        allocTimestamp: (call, callback) => {
          requests.push(call.request);
          handler(call, callback);
        },
      };
      server.addService(TsoServiceService, service);
    }
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    return new Coordinator(`127.0.0.1:${port}`, server, requests);
  }

  /**
   * `tsoService` over an allocator handing out consecutive timestamps from `first`, guarded like the
   * cluster coordinator's: COORDINATOR_NOT_ACTIVE unless this coordinator holds the leadership.
   */
  static async counting(first: bigint): Promise<Coordinator> {
    let next = first;
    const holder: { c?: Coordinator } = {};
    const service = tsoService({
      allocate: (count) => {
        const leadership = holder.c?.leadership;
        if (!leadership || leadership.isLost) {
          return Promise.reject(new StreamingError('COORDINATOR_NOT_ACTIVE', 'this coordinator is a standby'));
        }
        const start = next;
        next += BigInt(count);
        return Promise.resolve(start);
      },
    });
    holder.c = await Coordinator.serve((call, callback) => service.allocTimestamp(call, callback));
    return holder.c;
  }

  /** Campaigns with `lease` and publishes this coordinator's address once elected. */
  async campaign(kv: EmbeddedMetaKv, lease: Lease): Promise<Leadership> {
    const election = new Election(kv, { prefix: keys.election, lease });
    this.leadership = await election.campaign(this.address, { signal: AbortSignal.timeout(5000) });
    return this.leadership;
  }

  close(): void {
    this.#server.forceShutdown();
  }
}

describe('RemoteTsoSource', () => {
  let dir: TempDir;
  let kv: EmbeddedMetaKv;
  let kvClock: ManualClock;
  let clock: ManualClock;
  const cleanup: (() => unknown)[] = [];

  beforeEach(async () => {
    dir = await tempDir('remote-tso-');
    kvClock = new ManualClock();
    kv = await EmbeddedMetaKv.open({ path: dir.path, clock: kvClock });
    clock = new ManualClock();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await Promise.resolve(step()).catch(() => {});
    await kv.close();
    await dir.remove();
  });

  const source = (logger?: Logger): RemoteTsoSource => {
    const s = new RemoteTsoSource({ kv, keys, timeoutMs: TIMEOUT_MS, clock, logger });
    cleanup.push(() => s.close());
    return s;
  };
  const coordinator = async (make: () => Promise<Coordinator>): Promise<Coordinator> => {
    const c = await make();
    cleanup.push(() => c.close());
    return c;
  };
  const session = async (name: string): Promise<Session> => {
    const s = await Session.register(kv, { key: `${keys.coord}members/${name}`, value: name, ttlMs: 10_000 });
    cleanup.push(() => s.close());
    return s;
  };
  /** A coordinator handing out timestamps from `first`, elected with a session of its own. */
  const elected = async (first: bigint): Promise<Coordinator> => {
    const c = await coordinator(() => Coordinator.counting(first));
    await c.campaign(kv, (await session(c.address)).lease);
    return c;
  };

  it('allocates a block of the requested size from the elected coordinator', async () => {
    const c = await elected(1000n);
    const tso = source();
    const signal = new AbortController().signal;
    expect(await promptly(tso.allocate(3, { signal }), 'the allocation')).toBe(1000n);
    expect(await tso.allocate(2)).toBe(1003n);
    expect(c.requests).toEqual([{ count: 3 }, { count: 2 }]);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('follows the election to the new coordinator when the active one resigns', async () => {
    const a = await elected(1000n);
    const b = await coordinator(() => Coordinator.counting(5000n));
    const tso = source();
    expect(await tso.allocate(1)).toBe(1000n);

    const bElected = b.campaign(kv, (await session(b.address)).lease);
    await a.leadership!.resign();
    await bElected;

    expect(await promptly(tso.allocate(1), 'the allocation')).toBe(5000n);
    expect(b.requests).toEqual([{ count: 1 }]);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('follows the election to the new coordinator when the active one stops renewing its lease', async () => {
    const a = await coordinator(() => Coordinator.counting(1000n));
    const aLease = await kv.grantLease(2000, { keepAlive: false }); // a coordinator that hangs, then dies
    await a.campaign(kv, aLease);
    const b = await coordinator(() => Coordinator.counting(5000n));
    const tso = source();
    expect(await tso.allocate(1)).toBe(1000n);

    const bElected = b.campaign(kv, (await session(b.address)).lease);
    kvClock.advance(2000);
    await bElected;
    expect(a.leadership!.isLost).toBe(true);

    expect(await promptly(tso.allocate(1), 'the allocation')).toBe(5000n);
  });

  // Regression: the allocation used to wait for the *next* leader change after a failed call, so a
  // takeover that happened while the call to the old coordinator was in flight cost a full backoff.
  it('retries on the new coordinator at once when the leader changed while the failing call was in flight', async () => {
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const a = await coordinator(() =>
      Coordinator.serve((_call, callback) => {
        void answered.then(() => callback(grpcFailure(new StreamingError('COORDINATOR_NOT_ACTIVE', 'resigned'))));
      }),
    );
    await a.campaign(kv, (await session(a.address)).lease);
    const b = await coordinator(() => Coordinator.counting(5000n));
    const logger = new MemoryLogger();
    const tso = source(logger);
    const allocation = tso.allocate(1);
    await until(() => a.requests.length === 1, 'the call to reach the first coordinator');
    const startedMs = clock.nowMs();

    const bElected = b.campaign(kv, (await session(b.address)).lease);
    await a.leadership!.resign();
    await bElected;
    await until(() => logger.records.some((r) => r.fields.leader === b.address), 'the source to see the takeover');
    answer();

    expect(await promptly(allocation, 'the allocation to go to the new coordinator')).toBe(5000n);
    expect(clock.nowMs()).toBe(startedMs);
  });

  it('waits for a coordinator to be elected and allocates from it, without waiting for a backoff', async () => {
    const tso = source();
    const signal = new AbortController().signal;
    const allocation = tso.allocate(4, { signal });
    await until(() => clock.pendingSleeps > 0, 'the allocation to wait');
    const startedMs = clock.nowMs();

    await elected(1000n);

    expect(await promptly(allocation, 'the allocation')).toBe(1000n);
    expect(clock.nowMs()).toBe(startedMs); // woken by the election, not by the clock
    expect(clock.pendingSleeps).toBe(0);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('rejects with INNER "no active coordinator" when no coordinator is elected within timeoutMs', async () => {
    const tso = source();
    const startedMs = clock.nowMs();
    const error = await driven(clock, tso.allocate(1)).catch((e: unknown) => e);

    expect(StreamingError.is(error, 'INNER')).toBe(true);
    expect((error as StreamingError).message).toContain(`no timestamp from the coordinator within ${TIMEOUT_MS} ms`);
    expect((error as StreamingError).message).toContain('no active coordinator');
    expect(clock.nowMs() - startedMs).toBeGreaterThan(0);
    expect(clock.nowMs() - startedMs).toBeLessThanOrEqual(TIMEOUT_MS);
  });

  describe.each([
    {
      answer: 'COORDINATOR_NOT_ACTIVE (a standby)',
      handler: tsoService({
        allocate: () => Promise.reject(new StreamingError('COORDINATOR_NOT_ACTIVE', 'this coordinator is a standby')),
      }).allocTimestamp,
      cause: { code: 'COORDINATOR_NOT_ACTIVE', retriable: true, text: 'this coordinator is a standby' },
    },
    {
      answer: 'INNER (its allocator failed)',
      handler: tsoService({ allocate: () => Promise.reject(new Error('metastore unreachable')) }).allocTimestamp,
      cause: { code: 'INNER', retriable: true, text: 'timestamp allocation failed: metastore unreachable' },
    },
    {
      answer: 'UNIMPLEMENTED without error details (no TSO service)',
      handler: undefined,
      cause: { code: 'INNER', retriable: true, text: 'failed: UNIMPLEMENTED' },
    },
  ])('when the elected coordinator answers $answer', ({ handler, cause }) => {
    it('retries until timeoutMs and rejects with INNER carrying the coordinator error as its cause', async () => {
      const c = await coordinator(() => Coordinator.serve(handler));
      await c.campaign(kv, (await session(c.address)).lease);
      const tso = source();
      const startedMs = clock.nowMs();
      const error = await driven(clock, tso.allocate(1)).catch((e: unknown) => e);

      expect(StreamingError.is(error, 'INNER')).toBe(true);
      const inner = (error as StreamingError).cause;
      expect(StreamingError.is(inner, cause.code as StreamingError['code'])).toBe(true);
      expect((inner as StreamingError).retriable).toBe(cause.retriable);
      expect((inner as StreamingError).message).toContain(cause.text);
      // Regression: rebuilt from the coordinator's error metadata, the message read "[streaming] [streaming] …".
      expect((inner as StreamingError).message.match(/\[streaming\]/g)).toHaveLength(1);
      // Regression: the last error was embedded with String(), which read "…within 1000 ms: StreamingError:
      // [streaming] this coordinator is a standby"; it is embedded by its message, without the prefix.
      const innerText = (inner as StreamingError).message.replace(/^\[streaming\] /, '');
      expect((error as StreamingError).message).toBe(
        `[streaming] no timestamp from the coordinator within ${TIMEOUT_MS} ms: ${innerText}`,
      );
      expect((error as StreamingError).message).toContain(cause.text);
      expect((error as StreamingError).message).not.toContain('StreamingError');
      expect((error as StreamingError).message.match(/\[streaming\]/g)).toHaveLength(1);
      if (handler) expect(c.requests.length).toBeGreaterThan(2);
      expect(clock.nowMs() - startedMs).toBeLessThanOrEqual(TIMEOUT_MS);
    });
  });

  // Regression: every call had a fixed 5 s deadline of real time, so an unresponsive coordinator could
  // make an allocation overrun its timeoutMs by up to 5 s. The clock does not move while a call hangs
  // here, only in the backoffs, so the calls get 300, 200 and 100 ms of real time.
  it('bounds each call by the time left until timeoutMs when the elected coordinator does not answer', async () => {
    const cancelled: AllocCall[] = [];
    const c = await coordinator(() => Coordinator.serve((call) => call.on('cancelled', () => cancelled.push(call))));
    await c.campaign(kv, (await session(c.address)).lease);
    const logger = new MemoryLogger();
    const tso = new RemoteTsoSource({ kv, keys, timeoutMs: 300, clock, logger });
    cleanup.push(() => tso.close());
    await until(() => logger.records.some((r) => r.fields.leader === c.address), 'the source to see the leader');
    const startedMs = clock.nowMs();
    const realStartedMs = Date.now();
    const error = await driven(clock, tso.allocate(1)).catch((e: unknown) => e);

    expect(Date.now() - realStartedMs).toBeLessThan(2_000);
    expect(StreamingError.is(error, 'INNER')).toBe(true);
    expect((error as StreamingError).message).toContain('DEADLINE_EXCEEDED');
    expect(clock.nowMs() - startedMs).toBeLessThanOrEqual(300);
    expect(c.requests).toHaveLength(3);
    await until(() => cancelled.length === 3, 'the coordinator to see every call cancelled');
  });

  // Regression: every retry raced the same leader-change promise, adding a reaction to it that was freed
  // only when the leader changed, so memory grew for as long as the elected coordinator kept failing.
  // Seen from outside through async_hooks: a `.then` on a promise creates a promise whose trigger is
  // that promise, so a reaction per retry shows up as one promise with a child promise per retry.
  it('adds no reaction per retry to a long-lived promise while the elected coordinator keeps failing', async () => {
    const c = await coordinator(() =>
      Coordinator.serve((_call, callback) => callback(grpcFailure(new StreamingError('COORDINATOR_NOT_ACTIVE', 'no')))),
    );
    await c.campaign(kv, (await session(c.address)).lease);
    const promises = new Set<number>();
    const childrenOf = new Map<number, number>();
    const hook = createHook({
      init: (id, type, triggerId) => {
        if (type !== 'PROMISE') return;
        promises.add(id);
        // A trigger that is no promise is the resource a callback runs in (a socket, a timer).
        if (promises.has(triggerId)) childrenOf.set(triggerId, (childrenOf.get(triggerId) ?? 0) + 1);
      },
    });
    hook.enable();
    try {
      const tso = new RemoteTsoSource({ kv, keys, timeoutMs: 60_000, clock });
      cleanup.push(() => tso.close());
      await driven(clock, tso.allocate(1), 1000).catch(() => undefined);
    } finally {
      hook.disable();
    }

    expect(c.requests.length).toBeGreaterThan(50);
    expect(Math.max(...childrenOf.values())).toBeLessThan(10);
  });

  it('retries a coordinator that answers fewer timestamps than asked, then rejects naming both counts', async () => {
    const c = await coordinator(() =>
      Coordinator.serve((call, callback) => callback(null, { first: 7n, count: call.request.count - 1 })),
    );
    await c.campaign(kv, (await session(c.address)).lease);
    const tso = source();
    const error = await driven(clock, tso.allocate(5)).catch((e: unknown) => e);

    expect(StreamingError.is(error, 'INNER')).toBe(true);
    expect((error as StreamingError).message).toContain('asked 5 timestamps, got 4');
    expect(StreamingError.is((error as StreamingError).cause, 'INNER')).toBe(true);
    expect(c.requests.length).toBeGreaterThan(2);
  });

  describe('on abort', () => {
    it('rejects an allocation with the abort reason before any call when the signal is already aborted', async () => {
      const c = await elected(1000n);
      const reason = new Error('caller gave up');
      await expect(source().allocate(1, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(c.requests).toEqual([]);
    });

    it('cancels the call in flight, rejects with the abort reason, and keeps serving later allocations', async () => {
      const cancelled: AllocCall[] = [];
      let hang = true;
      const c = await coordinator(() =>
        Coordinator.serve((call, callback) => {
          if (!hang) return callback(null, { first: 42n, count: call.request.count });
          call.on('cancelled', () => cancelled.push(call));
        }),
      );
      await c.campaign(kv, (await session(c.address)).lease);
      const tso = source();
      const controller = new AbortController();
      const reason = new Error('caller gave up');
      const allocation = tso.allocate(1, { signal: controller.signal });
      await until(() => c.requests.length === 1, 'the call to reach the coordinator');

      controller.abort(reason);

      await expect(promptly(allocation, 'the allocation to reject')).rejects.toBe(reason);
      await until(() => cancelled.length === 1, 'the coordinator to see the call cancelled');
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      expect(clock.pendingSleeps).toBe(0);
      hang = false;
      expect(await promptly(tso.allocate(1), 'the next allocation')).toBe(42n);
    });

    it('stops waiting for a coordinator, rejects with the abort reason, and keeps serving later allocations', async () => {
      const logger = new MemoryLogger();
      const tso = source(logger);
      const controller = new AbortController();
      const reason = new Error('caller gave up');
      const allocation = tso.allocate(1, { signal: controller.signal });
      // Once the source has seen that there is no leader, nothing but the abort can end this wait.
      await until(() => logger.records.some((r) => r.msg === 'active coordinator'), 'the source to read the election');
      await until(() => clock.pendingSleeps > 0, 'the allocation to wait');

      controller.abort(reason);

      await expect(promptly(allocation, 'the allocation to reject')).rejects.toBe(reason);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      expect(clock.pendingSleeps).toBe(0);
      await elected(1000n);
      expect(await promptly(tso.allocate(1), 'the next allocation')).toBe(1000n);
    });
  });

  describe('close()', () => {
    it('makes every later allocation reject with ON_SHUTDOWN', async () => {
      const c = await elected(1000n);
      const tso = source();
      expect(await tso.allocate(1)).toBe(1000n);

      await tso.close();

      await expect(promptly(tso.allocate(1), 'the allocation to reject')).rejects.toThrow(
        expect.objectContaining({ code: 'ON_SHUTDOWN' }) as Error,
      );
      expect(c.requests).toHaveLength(1);
    });

    // Regression (this and the next): close() woke neither a waiting allocation, which rejected only
    // after its backoff, nor one whose call was in flight, which waited for the call's deadline.
    it('makes an allocation still waiting for a coordinator reject with ON_SHUTDOWN at once', async () => {
      const logger = new MemoryLogger();
      const tso = source(logger);
      const allocation = tso.allocate(1);
      // Once the source has seen that there is no leader, nothing but close() can end this wait.
      await until(() => logger.records.some((r) => r.msg === 'active coordinator'), 'the source to read the election');
      await until(() => clock.pendingSleeps > 0, 'the allocation to wait');

      await tso.close();

      await expect(promptly(allocation, 'the allocation to reject')).rejects.toThrow(
        expect.objectContaining({ code: 'ON_SHUTDOWN' }) as Error,
      );
      expect(clock.pendingSleeps).toBe(0);
    });

    it('cancels the call in flight and makes its allocation reject with ON_SHUTDOWN at once', async () => {
      const cancelled: AllocCall[] = [];
      const c = await coordinator(() => Coordinator.serve((call) => call.on('cancelled', () => cancelled.push(call))));
      await c.campaign(kv, (await session(c.address)).lease);
      const tso = new RemoteTsoSource({ kv, keys, timeoutMs: 30_000, clock }); // each call may take 5 s
      cleanup.push(() => tso.close());
      const allocation = tso.allocate(1);
      await until(() => c.requests.length === 1, 'the call to reach the coordinator');
      const realStartedMs = Date.now();

      await tso.close();

      await expect(promptly(allocation, 'the allocation to reject')).rejects.toThrow(
        expect.objectContaining({ code: 'ON_SHUTDOWN' }) as Error,
      );
      expect(Date.now() - realStartedMs).toBeLessThan(1_000);
      await until(() => cancelled.length === 1, 'the coordinator to see the call cancelled');
      expect(c.requests).toHaveLength(1);
    });

    it('is idempotent: a second close() and asyncDispose return the same promise', async () => {
      const tso = source();
      const first = tso.close();
      expect(tso.close()).toBe(first);
      expect(tso[Symbol.asyncDispose]()).toBe(first);
      await first;
    });
  });
});
