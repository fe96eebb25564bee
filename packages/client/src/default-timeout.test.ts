import { EventEmitter } from 'node:events';

import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { MessageBuilder, StreamingError } from '@streamsvc/message';
import type { FullAssignment } from '@streamsvc/proto';

import type { ChannelPool } from './channel-pool.js';
import type { StreamingClientOptions } from './client-options.js';
import { StreamingClient } from './streaming-client.js';

// These tests run on real (short) timers: the default deadline is an unref'd timer, not the injected
// clock, so that a pending call alone does not keep the process alive (as with AbortSignal.timeout).

const VCHANNEL = 'by-dev-dml_0_449v0';
const DEFAULT_TIMEOUT_MS = 200;

function unavailable(): ServiceError {
  return Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
    code: status.UNAVAILABLE,
    details: 'No connection established',
    metadata: new Metadata(),
  });
}

/** A discovery stream that sends `snapshot` (if any) and then nothing, like a coordinator gone quiet. */
class FakeDiscoverCall extends EventEmitter {
  writableEnded = false;
  destroyed = false;

  constructor(snapshot: FullAssignment | undefined) {
    super();
    if (snapshot !== undefined) {
      setImmediate(() => this.emit('data', { response: { $case: 'fullAssignment', fullAssignment: snapshot } }));
    }
  }

  write(): boolean {
    return true;
  }

  end(): void {
    this.writableEnded = true;
    setImmediate(() => this.emit('status', { code: status.OK }));
  }

  cancel(): void {
    this.destroyed = true;
  }
}

/** A producer stream to a node that is down: every create-producer fails with gRPC UNAVAILABLE. */
class FailingProduceCall extends EventEmitter {
  writableEnded = false;
  destroyed = false;

  write(): boolean {
    setImmediate(() => {
      this.emit('error', unavailable());
      this.emit('status', { code: status.UNAVAILABLE });
    });
    return true;
  }

  end(): void {
    this.writableEnded = true;
  }

  cancel(): void {
    this.destroyed = true;
  }
}

/**
 * A channel pool whose coordinator and node are unreachable — every Broadcast, AllocTimestamp and
 * Produce fails with UNAVAILABLE, a retriable error — and whose discovery stream delivers `snapshot`
 * (none: no topology ever arrives).
 */
class UnreachablePool {
  attempts = 0;

  constructor(private readonly snapshot: FullAssignment | undefined) {}

  assignment(): unknown {
    return { assignmentDiscover: () => new FakeDiscoverCall(this.snapshot) };
  }

  broadcast(): unknown {
    return { broadcast: this.#unary };
  }

  tso(): unknown {
    return { allocTimestamp: this.#unary };
  }

  handler(): unknown {
    return {
      produce: () => {
        this.attempts++;
        return new FailingProduceCall();
      },
    };
  }

  close(): void {}

  readonly #unary = (_request: unknown, _md: unknown, _options: unknown, callback: (e: ServiceError) => void) => {
    this.attempts++;
    const answer = setImmediate(() => callback(unavailable()));
    return { cancel: () => clearImmediate(answer) };
  };
}

/** by-dev-dml_0 owned by node n:1 under term 1. */
const READY: FullAssignment = {
  version: { global: 1n, local: 1n },
  pchannels: ['by-dev-dml_0'],
  assignments: [{ node: { serverId: 1n, address: 'n:1' }, pchannels: [{ name: 'by-dev-dml_0', term: 1n }] }],
};

async function connect(
  snapshot: FullAssignment | undefined,
  options: Partial<StreamingClientOptions> = {},
): Promise<{ client: StreamingClient; pool: UnreachablePool }> {
  const pool = new UnreachablePool(snapshot);
  const client = await StreamingClient.connect(
    {
      endpoint: 'coord:19540',
      retryBackoff: { initialMs: 5, maxMs: 20 },
      discoveryBackoff: { initialMs: 5, maxMs: 20 },
      defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
      ...options,
    },
    { pool: pool as unknown as ChannelPool },
  );
  return { client, pool };
}

const data = (text: string) => MessageBuilder.data(new TextEncoder().encode(text)).vchannel(VCHANNEL).build();
const broadcastMessage = () =>
  MessageBuilder.dropCollection().header({ collectionId: 449n }).body({}).broadcast([VCHANNEL]).build();

/** Runs `call` and returns what it rejected with and after how long. */
async function rejection(call: () => Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const start = performance.now();
  try {
    await call();
  } catch (error) {
    return { error, elapsedMs: performance.now() - start };
  }
  throw new Error('the call resolved');
}

/** True when `promise` is still pending after `ms`. */
async function pendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  promise.catch(() => {});
  const later = Symbol('pending');
  let timer: NodeJS.Timeout | undefined;
  const winner = await Promise.race([
    promise.then(
      () => 'settled',
      () => 'settled',
    ),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(later), ms);
    }),
  ]);
  clearTimeout(timer);
  return winner === later;
}

function expectDefaultTimeout(error: unknown, code: 'OUTCOME_UNKNOWN' | 'INNER', what: string): void {
  expect(StreamingError.is(error, code)).toBe(true);
  const e = error as StreamingError;
  expect(e.message).toContain(`${what} took longer than defaultTimeoutMs (${DEFAULT_TIMEOUT_MS} ms)`);
  expect(e.details).toEqual(expect.objectContaining({ option: 'defaultTimeoutMs', timeoutMs: DEFAULT_TIMEOUT_MS }));
}

describe('a call without a signal, under a retriable failure that never ends', () => {
  let client: StreamingClient | undefined;
  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  it('broadcast rejects with OUTCOME_UNKNOWN naming defaultTimeoutMs once it passed (regression: retried forever while no coordinator was reachable)', async () => {
    const connected = await connect(undefined);
    client = connected.client;
    const { error, elapsedMs } = await rejection(() => client!.broadcast(broadcastMessage()));
    expectDefaultTimeout(error, 'OUTCOME_UNKNOWN', 'broadcast');
    expect(elapsedMs).toBeGreaterThanOrEqual(DEFAULT_TIMEOUT_MS - 5);
    expect(connected.pool.attempts).toBeGreaterThan(1); // it was retrying until then
  });

  it('allocateTimestamp rejects with a retriable INNER naming defaultTimeoutMs once it passed', async () => {
    ({ client } = await connect(undefined));
    const { error, elapsedMs } = await rejection(() => client!.allocateTimestamp());
    expectDefaultTimeout(error, 'INNER', 'allocateTimestamp');
    expect((error as StreamingError).retriable).toBe(true);
    expect(elapsedMs).toBeGreaterThanOrEqual(DEFAULT_TIMEOUT_MS - 5);
  });

  it('append to a node that is down rejects with OUTCOME_UNKNOWN naming defaultTimeoutMs once it passed', async () => {
    const connected = await connect(READY);
    client = connected.client;
    await client.waitReady();
    const { error, elapsedMs } = await rejection(() => client!.append(data('x')));
    expectDefaultTimeout(error, 'OUTCOME_UNKNOWN', 'append to by-dev-dml_0');
    expect(elapsedMs).toBeGreaterThanOrEqual(DEFAULT_TIMEOUT_MS - 5);
    expect(connected.pool.attempts).toBeGreaterThan(1);
  });

  it('append waiting for a topology that never comes rejects with OUTCOME_UNKNOWN once defaultTimeoutMs passed', async () => {
    ({ client } = await connect(undefined));
    const { error } = await rejection(() => client!.append(data('x')));
    expectDefaultTimeout(error, 'OUTCOME_UNKNOWN', 'append to by-dev-dml_0');
  });

  it('appendMany rejects with OUTCOME_UNKNOWN after defaultTimeoutMs for the whole call', async () => {
    ({ client } = await connect(READY));
    await client.waitReady();
    const { error, elapsedMs } = await rejection(() => client!.appendMany(VCHANNEL, [data('a'), data('b')]));
    expectDefaultTimeout(error, 'OUTCOME_UNKNOWN', `appendMany to ${VCHANNEL}`);
    expect(elapsedMs).toBeLessThan(2 * DEFAULT_TIMEOUT_MS);
  });

  it('txn rejects with OUTCOME_UNKNOWN naming the append of its BeginTxn once defaultTimeoutMs passed', async () => {
    ({ client } = await connect(READY));
    await client.waitReady();
    const { error } = await rejection(() => client!.txn({ vchannel: VCHANNEL }));
    expectDefaultTimeout(error, 'OUTCOME_UNKNOWN', 'append to by-dev-dml_0');
  });

  it('waitReady rejects with a retriable INNER naming defaultTimeoutMs when no topology arrives', async () => {
    ({ client } = await connect(undefined));
    const { error, elapsedMs } = await rejection(() => client!.waitReady());
    expectDefaultTimeout(error, 'INNER', 'waitReady');
    expect(elapsedMs).toBeGreaterThanOrEqual(DEFAULT_TIMEOUT_MS - 5);
  });

  it('a subscription is not bounded by defaultTimeoutMs', async () => {
    ({ client } = await connect(undefined));
    const sub = client.subscribe({ vchannel: VCHANNEL, from: 'earliest' });
    expect(await pendingAfter(sub.next(), 2 * DEFAULT_TIMEOUT_MS)).toBe(true);
  });
});

describe('a call with a signal', () => {
  let client: StreamingClient | undefined;
  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  // waitReady is left waiting by a topology that never arrives, the others by a node that is down.
  it.each([
    ['broadcast', (c: StreamingClient, signal: AbortSignal) => c.broadcast(broadcastMessage(), { signal })],
    ['allocateTimestamp', (c: StreamingClient, signal: AbortSignal) => c.allocateTimestamp({ signal })],
    ['append', (c: StreamingClient, signal: AbortSignal) => c.append(data('x'), { signal })],
    ['appendMany', (c: StreamingClient, signal: AbortSignal) => c.appendMany(VCHANNEL, [data('a')], { signal })],
    ['txn', (c: StreamingClient, signal: AbortSignal) => c.txn({ vchannel: VCHANNEL, signal })],
    ['waitReady', (c: StreamingClient, signal: AbortSignal) => c.waitReady({ signal })],
  ])('%s is bounded by that signal alone, and rejects with its reason', async (name, call) => {
    ({ client } = await connect(name === 'waitReady' ? undefined : READY, { defaultTimeoutMs: 50 }));
    if (name !== 'waitReady') await client.waitReady();
    const controller = new AbortController();
    const pending = call(client, controller.signal);
    expect(await pendingAfter(pending, 250)).toBe(true);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
