import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { ManualClock } from '@streamsvc/common';
import { MessageBuilder, ResourceDomain, StreamingError } from '@streamsvc/message';
import type { BroadcastMutableMessage, MutableMessage } from '@streamsvc/message';
import { EmbeddedMetaKv, listAll } from '@streamsvc/metastore';
import type { Compare } from '@streamsvc/metastore';
import type { AppendResult } from '@streamsvc/proto';
import type { TsoSource } from '@streamsvc/tso';

import { Broadcaster } from './broadcaster.js';
import type { BroadcasterOptions } from './broadcaster.js';

const PREFIX = 'test/coord/';
const TASKS = `${PREFIX}broadcast/tasks/`;
const LEADER = 'test/coord/leader';
const [V0, V1, V2] = ['by-dev-dml_0_449v0', 'by-dev-dml_1_449v1', 'by-dev-dml_2_449v2'] as const;

interface Attempt {
  readonly vchannel: string;
  readonly broadcastId: bigint;
}

type Plan =
  { readonly kind: 'fail'; readonly error: unknown } | { readonly kind: 'hang'; readonly gate: Promise<void> };

/**
 * A VChannelAppender whose next attempts per vchannel can fail (retriably or not) or hang until the
 * test releases them (or the append is aborted); everything else succeeds at once.
 */
class FakeAppender {
  readonly attempts: Attempt[] = [];
  readonly landed: Attempt[] = [];
  readonly #plans = new Map<string, Plan[]>();

  readonly append = async (message: MutableMessage, options: { signal?: AbortSignal }): Promise<AppendResult> => {
    const attempt = { vchannel: message.vchannel!, broadcastId: message.broadcastHeader!.broadcastId };
    this.attempts.push(attempt);
    const plan = this.#plans.get(attempt.vchannel)?.shift();
    if (plan?.kind === 'fail') throw plan.error;
    if (plan?.kind === 'hang') {
      await new Promise<void>((resolve, reject) => {
        options.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
        void plan.gate.then(resolve);
      });
    }
    this.landed.push(attempt);
    const n = this.landed.length;
    return { messageId: `${attempt.vchannel}@${n}`, timeTick: BigInt(n), lastConfirmed: `${attempt.vchannel}@${n}` };
  };

  failRetriably(vchannel: string, times: number): void {
    for (let i = 0; i < times; i++) {
      this.#plan(vchannel, { kind: 'fail', error: new StreamingError('CHANNEL_FENCED', `${vchannel} moved`) });
    }
  }

  failPermanently(vchannel: string, error: unknown): void {
    this.#plan(vchannel, { kind: 'fail', error });
  }

  /** The next attempt on `vchannel` hangs until the returned function is called. */
  hang(vchannel: string): () => void {
    let release!: () => void;
    this.#plan(vchannel, { kind: 'hang', gate: new Promise<void>((resolve) => (release = resolve)) });
    return release;
  }

  /** Attempts on `vchannel` (optionally of one broadcast). */
  count(vchannel: string, broadcastId?: bigint): number {
    return this.attempts.filter((a) => a.vchannel === vchannel && (broadcastId ?? a.broadcastId) === a.broadcastId)
      .length;
  }

  #plan(vchannel: string, plan: Plan): void {
    this.#plans.set(vchannel, [...(this.#plans.get(vchannel) ?? []), plan]);
  }
}

class CountingTso implements TsoSource {
  next = 1000n;
  allocate(): Promise<bigint> {
    return Promise.resolve(this.next++);
  }
}

function ddl(vchannels: readonly string[], keys: { key: string; shared: boolean }[] = []): BroadcastMutableMessage {
  return MessageBuilder.dropCollection()
    .header({ collectionId: 449n })
    .body({ collectionName: 'docs' })
    .broadcast(vchannels, { resourceKeys: keys.map((k) => ({ domain: ResourceDomain.CollectionName, ...k })) })
    .build();
}

/** Waits (for MetaKV I/O and microtasks, not for logic timing) until `predicate` holds. */
async function until(predicate: () => boolean | Promise<boolean>, what = 'condition'): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Broadcaster', () => {
  let dir: string;
  let kv: EmbeddedMetaKv;
  let guard: () => readonly Compare[];
  let clock: ManualClock;
  let appender: FakeAppender;
  let tso: CountingTso;
  const started: Broadcaster[] = [];

  const start = async (overrides: Partial<BroadcasterOptions> = {}): Promise<Broadcaster> => {
    const b = await Broadcaster.start({
      kv,
      prefix: PREFIX,
      guard,
      append: appender.append,
      tso,
      clock,
      ...overrides,
    });
    started.push(b);
    return b;
  };
  const tasks = async () => (await listAll(kv, TASKS)).kvs;
  const taskJson = async () =>
    (await tasks()).map((t) => JSON.parse(Buffer.from(t.value).toString('utf8')) as Record<string, unknown>);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'broadcaster-'));
    kv = await EmbeddedMetaKv.open({ path: dir });
    const { revision } = await kv.put(LEADER, 'coordinator-1');
    guard = () => [{ key: LEADER, target: 'createRevision', op: '==', value: revision }];
    clock = new ManualClock();
    appender = new FakeAppender();
    tso = new CountingTso();
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((b) => b.close()));
    await kv.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('appends a copy with the same broadcast id to every vchannel and deletes the task once all are acknowledged', async () => {
    const b = await start();
    const message = ddl([V0, V1, V2]);
    const outcome = await b.broadcast(message);
    expect(outcome.broadcastId).toBe(1000n);
    expect([...outcome.results.keys()]).toEqual([V0, V1, V2]);
    expect(outcome.results.get(V1)).toEqual(expect.objectContaining({ messageId: expect.stringContaining(V1) }));
    expect(appender.attempts.map((a) => a.broadcastId)).toEqual([1000n, 1000n, 1000n]);
    expect(message.broadcastHeader.broadcastId).toBe(0n);
    expect(await tasks()).toEqual([]);
    expect(b.inFlight).toBe(0);
  });

  it('persists the task before appending and records each result as it lands', async () => {
    const b = await start();
    const release = appender.hang(V2);
    const pending = b.broadcast(ddl([V0, V1, V2]));
    await until(async () => (await taskJson())[0]?.['results'] !== undefined && appender.landed.length === 2);
    await until(async () => {
      const results = (await taskJson())[0]?.['results'] as Record<string, unknown>;
      return results[V0] !== null && results[V1] !== null;
    }, 'two results recorded');
    const [json] = await taskJson();
    expect(json!['broadcastId']).toBe('1000');
    expect((json!['results'] as Record<string, unknown>)[V2]).toBeNull();
    expect((json!['results'] as Record<string, unknown>)[V0]).toEqual({
      messageId: expect.any(String) as unknown,
      timeTick: expect.any(String) as unknown,
      lastConfirmed: expect.any(String) as unknown,
    });
    release();
    await pending;
    expect(await tasks()).toEqual([]);
  });

  it('retries retriable append errors with backoff until the vchannel acknowledges', async () => {
    const b = await start();
    appender.failRetriably(V1, 3);
    const pending = b.broadcast(ddl([V0, V1]));
    for (const delayMs of [50, 100, 200]) {
      await until(() => clock.pendingSleeps === 1, `backoff of ${delayMs} ms`);
      clock.advance(delayMs - 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(clock.pendingSleeps).toBe(1);
      clock.advance(1);
    }
    const outcome = await pending;
    expect(outcome.results.size).toBe(2);
    expect(appender.count(V0)).toBe(1);
    expect(appender.count(V1)).toBe(4);
  });

  it('serialises two broadcasts on the same exclusive key', async () => {
    const b = await start();
    const release = appender.hang(V0);
    const first = b.broadcast(ddl([V0, V1], [{ key: 'docs', shared: false }]));
    await until(() => appender.count(V0) === 1);
    const second = b.broadcast(ddl([V0, V1], [{ key: 'docs', shared: false }]));
    const unrelated = await b.broadcast(ddl([V1], [{ key: 'notes', shared: false }]));
    expect(unrelated.broadcastId).toBe(1001n);
    // The second one has not even taken a broadcast id: it waits for the lock.
    expect(appender.attempts.filter((a) => a.broadcastId === 1002n)).toEqual([]);
    release();
    expect((await first).broadcastId).toBe(1000n);
    expect((await second).broadcastId).toBe(1002n);
  });

  it('lets broadcasts holding the same key shared run together', async () => {
    const b = await start();
    const releaseFirst = appender.hang(V0);
    const releaseSecond = appender.hang(V0);
    const first = b.broadcast(ddl([V0], [{ key: 'db', shared: true }]));
    const second = b.broadcast(ddl([V0], [{ key: 'db', shared: true }]));
    await until(() => appender.count(V0) === 2, 'both appends in flight');
    releaseFirst();
    releaseSecond();
    await Promise.all([first, second]);
  });

  it('gives up with RESOURCE_ACQUIRED when a key stays taken for lockTimeoutMs, having broadcast nothing', async () => {
    const b = await start({ lockTimeoutMs: 1_000 });
    const release = appender.hang(V0);
    const first = b.broadcast(ddl([V0], [{ key: 'docs', shared: false }]));
    await until(() => appender.count(V0) === 1);
    const second = b.broadcast(ddl([V0], [{ key: 'docs', shared: true }])).catch((e: unknown) => e);
    await until(() => clock.pendingSleeps === 1, 'the lock wait');
    clock.advance(1_000);
    const e = await second;
    expect(StreamingError.is(e, 'RESOURCE_ACQUIRED')).toBe(true);
    expect((e as Error).message).toContain('CollectionName:docs');
    expect(tso.next).toBe(1001n);
    release();
    await first;
  });

  it('finishes only the unacknowledged vchannels after a coordinator restart, with the same broadcast id', async () => {
    const first = await start();
    appender.hang(V2);
    const pending = first.broadcast(ddl([V0, V1, V2], [{ key: 'docs', shared: false }])).catch((e: unknown) => e);
    await until(async () => {
      const results = (await taskJson())[0]?.['results'] as Record<string, unknown> | undefined;
      return results !== undefined && results[V0] !== null && results[V1] !== null;
    }, 'two of three vchannels recorded');
    await first.close();
    const interrupted = await pending;
    expect(StreamingError.is(interrupted, 'OUTCOME_UNKNOWN')).toBe(true);
    expect((interrupted as Error).message).toContain('next active coordinator completes it');
    expect(await tasks()).toHaveLength(1);

    const second = await start();
    // The resumed task holds its lock again: a new broadcast on the key waits for it.
    const next = second.broadcast(ddl([V0], [{ key: 'docs', shared: false }]));
    await until(async () => (await tasks()).length <= 1 && appender.count(V2) === 2, 'the third vchannel appended');
    await next;
    expect(await tasks()).toEqual([]);
    expect(appender.count(V0, 1000n)).toBe(1);
    expect(appender.count(V1, 1000n)).toBe(1);
    expect(appender.count(V2, 1000n)).toBe(2);
    expect(appender.landed.filter((a) => a.broadcastId === 1000n).map((a) => a.vchannel)).toEqual([V0, V1, V2]);
  });

  it('stops with COORDINATOR_NOT_ACTIVE and writes nothing more once the leadership guard fails', async () => {
    const b = await start();
    const release = appender.hang(V1);
    const pending = b.broadcast(ddl([V0, V1, V2])).catch((e: unknown) => e);
    await until(() => appender.count(V1) === 1 && appender.landed.length === 2);
    await kv.delete(LEADER);
    await kv.put(LEADER, 'coordinator-2');
    const revision = await kv.revision();
    release();
    const stopped = await b.stopped;
    expect(stopped.reason).toBe('not-active');
    expect(StreamingError.is(stopped.error, 'COORDINATOR_NOT_ACTIVE')).toBe(true);
    const e = await pending;
    expect(StreamingError.is(e, 'OUTCOME_UNKNOWN')).toBe(true);
    expect(StreamingError.is((e as Error).cause, 'COORDINATOR_NOT_ACTIVE')).toBe(true);
    const refused = await b.broadcast(ddl([V0])).catch((x: unknown) => x);
    expect(StreamingError.is(refused, 'COORDINATOR_NOT_ACTIVE')).toBe(true);
    await b.close();
    expect(await kv.revision()).toBe(revision);
    expect(await tasks()).toHaveLength(1);
    expect(appender.attempts).toHaveLength(3);
  });

  it('answers COORDINATOR_NOT_ACTIVE without appending when the task cannot be persisted', async () => {
    const b = await start();
    await kv.delete(LEADER);
    const e = await b.broadcast(ddl([V0, V1])).catch((x: unknown) => x);
    expect(StreamingError.is(e, 'COORDINATOR_NOT_ACTIVE')).toBe(true);
    expect((await b.stopped).reason).toBe('not-active');
    expect(appender.attempts).toEqual([]);
    expect(await tasks()).toEqual([]);
  });

  it('refuses to start when this coordinator is not the active one', async () => {
    await kv.delete(LEADER);
    const e = await start().catch((x: unknown) => x);
    expect(StreamingError.is(e, 'COORDINATOR_NOT_ACTIVE')).toBe(true);
  });

  it('fails the call with a non-retriable append error, deletes the task and releases the locks', async () => {
    const b = await start();
    const release = appender.hang(V0);
    appender.failPermanently(V1, new StreamingError('VCHANNEL_DROPPED', `${V1} was dropped`));
    const e = await b.broadcast(ddl([V0, V1, V2], [{ key: 'docs', shared: false }])).catch((x: unknown) => x);
    expect(StreamingError.is(e, 'VCHANNEL_DROPPED')).toBe(true);
    expect(await tasks()).toEqual([]);
    // V2 holds its copy; V0's append was cut short (outcome unknown) and is never retried.
    expect(appender.landed.map((a) => a.vchannel)).toEqual([V2]);
    release();
    expect(appender.count(V0, 1000n)).toBe(1);
    const next = await b.broadcast(ddl([V0], [{ key: 'docs', shared: false }]));
    expect(next.broadcastId).toBe(1001n);
    expect(b.inFlight).toBe(0);
  });

  it('keeps a persisted broadcast going in the background when its caller aborts', async () => {
    const b = await start();
    const release = appender.hang(V1);
    const controller = new AbortController();
    const pending = b.broadcast(ddl([V0, V1]), { signal: controller.signal }).catch((e: unknown) => e);
    await until(() => appender.count(V1) === 1);
    controller.abort(new Error('client went away'));
    expect(((await pending) as Error).message).toBe('client went away');
    expect(await tasks()).toHaveLength(1);
    expect(b.inFlight).toBe(1);
    release();
    await until(async () => (await tasks()).length === 0, 'the task deleted');
    await until(() => b.inFlight === 0);
    expect(appender.count(V1)).toBe(1);
  });

  it('broadcasts nothing when the caller aborts while waiting for the lock', async () => {
    const b = await start();
    const release = appender.hang(V0);
    const first = b.broadcast(ddl([V0], [{ key: 'docs', shared: false }]));
    await until(() => appender.count(V0) === 1);
    const controller = new AbortController();
    const second = b.broadcast(ddl([V0], [{ key: 'docs', shared: false }]), { signal: controller.signal });
    controller.abort(new Error('never mind'));
    await expect(second).rejects.toThrow('never mind');
    release();
    await first;
    expect(tso.next).toBe(1001n);
    expect(appender.attempts).toHaveLength(1);
  });

  it('refuses a message that already carries a broadcast id', async () => {
    const b = await start();
    const e = await b.broadcast(ddl([V0]).withBroadcastId(5n)).catch((x: unknown) => x);
    expect(StreamingError.is(e, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('closes idempotently, answering later broadcasts with COORDINATOR_NOT_ACTIVE', async () => {
    const b = await start();
    const closing = b.close();
    expect(b.close()).toBe(closing);
    await closing;
    expect((await b.stopped).reason).toBe('closed');
    await expect(b.broadcast(ddl([V0]))).rejects.toThrow(/broadcaster stopped/);
  });

  describe('with request ids', () => {
    it('answers a retry of a finished broadcast with its outcome and appends nothing', async () => {
      const b = await start();
      const first = await b.broadcast(ddl([V0, V1]), { requestId: 'req-1' });
      const retry = await b.broadcast(ddl([V0, V1]), { requestId: 'req-1' });
      expect(retry.broadcastId).toBe(first.broadcastId);
      expect(retry.results).toEqual(first.results);
      expect(appender.attempts).toHaveLength(2);
      expect(tso.next).toBe(1001n);
    });

    it('lets a retry join the broadcast its first attempt started when that caller gave up (a client deadline)', async () => {
      const b = await start();
      const release = appender.hang(V1);
      const caller = new AbortController();
      const first = b.broadcast(ddl([V0, V1]), { requestId: 'req-1', signal: caller.signal }).catch((e: unknown) => e);
      await until(() => appender.count(V1) === 1, 'the slow append in flight');
      caller.abort(new Error('deadline exceeded'));
      expect(((await first) as Error).message).toBe('deadline exceeded');
      const retry = b.broadcast(ddl([V0, V1]), { requestId: 'req-1' });
      release();
      const outcome = await retry;
      expect(outcome.broadcastId).toBe(1000n);
      expect([...outcome.results.keys()]).toEqual([V0, V1]);
      expect(appender.attempts.map((a) => a.vchannel)).toEqual([V0, V1]);
      expect(tso.next).toBe(1001n);
      // Kept, marked finished, for retries that reach the next active coordinator.
      expect((await taskJson()).map((t) => t['finishedAtMs'])).toEqual([clock.nowMs()]);
    });

    it('keeps a finished task of a request, so a coordinator that takes over answers its retry without appending', async () => {
      const first = await start();
      const applied = await first.broadcast(ddl([V0, V1]), { requestId: 'req-1' });
      await first.broadcast(ddl([V2]));
      await until(async () => (await tasks()).length === 1, 'the task without a request deleted');
      await first.close();

      const second = await start();
      const retry = await second.broadcast(ddl([V0, V1]), { requestId: 'req-1' });
      expect(retry.broadcastId).toBe(applied.broadcastId);
      expect(retry.results).toEqual(applied.results);
      expect(appender.attempts).toHaveLength(3);
      expect(tso.next).toBe(1002n);
      const other = await second.broadcast(ddl([V0]), { requestId: 'req-1' }).catch((x: unknown) => x);
      expect(StreamingError.is(other, 'INVALID_ARGUMENT')).toBe(true);
    });

    it('deletes kept finished tasks once the dedup window has passed, and then broadcasts a late retry anew', async () => {
      const first = await start({ dedup: { windowMs: 60_000 } });
      await first.broadcast(ddl([V0]), { requestId: 'req-1' });
      await first.close();
      expect(await tasks()).toHaveLength(1);
      clock.advance(60_000);

      const second = await start({ dedup: { windowMs: 60_000 } });
      await until(async () => (await tasks()).length === 0, 'the expired task deleted');
      const late = await second.broadcast(ddl([V0]), { requestId: 'req-1' });
      expect(late.broadcastId).toBe(1001n);
      expect(appender.count(V0)).toBe(2);
      // The sweep after each finish: this one expires too once the window passes.
      clock.advance(60_001);
      await second.broadcast(ddl([V1]));
      await until(async () => (await tasks()).length === 0, 'the second expired task deleted');
    });

    it('refuses another message under a request id already used, with INVALID_ARGUMENT, appending nothing', async () => {
      const b = await start();
      await b.broadcast(ddl([V0, V1]), { requestId: 'req-1' });
      const e = await b.broadcast(ddl([V0, V2]), { requestId: 'req-1' }).catch((x: unknown) => x);
      expect(StreamingError.is(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as Error).message).toContain('request id req-1 was already used for a different message');
      expect(appender.attempts).toHaveLength(2);
    });

    it('broadcasts again for an empty request id, as for a client that sends none', async () => {
      const b = await start();
      const first = await b.broadcast(ddl([V0]), { requestId: '' });
      const second = await b.broadcast(ddl([V0]), { requestId: '' });
      expect([first.broadcastId, second.broadcastId]).toEqual([1000n, 1001n]);
      expect(appender.count(V0)).toBe(2);
    });

    it('persists the request with the task, so the coordinator that resumes it answers retries of the request', async () => {
      const first = await start();
      appender.hang(V2);
      const pending = first.broadcast(ddl([V0, V1, V2]), { requestId: 'req-1' }).catch((e: unknown) => e);
      await until(() => appender.count(V2) === 1, 'the slow append in flight');
      expect((await taskJson())[0]?.['request']).toEqual({ id: 'req-1', fingerprint: expect.any(String) as unknown });
      await first.close();
      expect(StreamingError.is(await pending, 'OUTCOME_UNKNOWN')).toBe(true);

      const second = await start();
      const retry = await second.broadcast(ddl([V0, V1, V2]), { requestId: 'req-1' });
      expect(retry.broadcastId).toBe(1000n);
      expect([...retry.results.keys()]).toEqual([V0, V1, V2]);
      expect(tso.next).toBe(1001n);
      expect(appender.landed.map((a) => a.broadcastId)).toEqual([1000n, 1000n, 1000n]);
      const other = await second.broadcast(ddl([V0]), { requestId: 'req-1' }).catch((x: unknown) => x);
      expect(StreamingError.is(other, 'INVALID_ARGUMENT')).toBe(true);
    });
  });
});
