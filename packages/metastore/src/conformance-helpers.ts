/**
 * Helpers of the MetaKV conformance suite: every wait is bounded in time, every loop in count.
 */
import assert from 'node:assert/strict';

import { MetaKvError } from './errors.js';
import type { MetaKvErrorCode } from './errors.js';
import type { MetaKv, WatchEvent } from './meta-kv.js';

/** What each scenario gets. */
export interface ScenarioContext {
  /** A fresh, empty store, closed by the suite after the scenario. */
  readonly kv: MetaKv;
  /** Opens another fresh store (for scenarios that need two); closed after the scenario as well. */
  readonly open: () => Promise<MetaKv>;
  /** The lease TTL scenarios use, in ms. */
  readonly leaseTtlMs: number;
}

/** One conformance scenario: a sentence about behaviour and its check. */
export interface Scenario {
  readonly name: string;
  readonly run: (ctx: ScenarioContext) => Promise<void>;
  /** Extra time the scenario needs beyond the default (lease waits). */
  readonly slow?: boolean;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves with `promise`, or rejects after `ms` naming `what`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every 50 ms until it returns true, for at most `ms`. */
export async function eventually(ms: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < Math.ceil(ms / 50) + 1; i++) {
    if (await check()) return;
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  assert.fail(`${what} did not happen within ${ms} ms`);
}

/** Takes the next `count` events of a watch (bounded by `ms`), leaving the iterator open. */
export async function take(iterator: AsyncIterator<WatchEvent>, count: number, ms = 5000): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  for (let i = 0; i < count; i++) {
    const next = await within(ms, `watch event ${i + 1} of ${count}`, iterator.next());
    if (next.done) assert.fail(`watch ended after ${i} of ${count} events`);
    events.push(next.value);
  }
  return events;
}

/** The next value of `iterator` within `ms`; fails when it ends instead. */
export async function nextValue<T>(iterator: AsyncIterator<T>, what: string, ms = 5000): Promise<T> {
  const next = await within(ms, what, iterator.next());
  if (next.done) assert.fail(`the iterator ended before ${what}`);
  return next.value;
}

/** A watch's iterator. */
export function iterate<T>(iterable: AsyncIterable<T>): AsyncIterator<T> {
  return iterable[Symbol.asyncIterator]();
}

/**
 * Asserts that nothing more arrives on `iterator` within `ms`. The `next()` it leaves pending settles
 * when the watch ends, so end it (abort) afterwards.
 */
export async function assertQuiet(iterator: AsyncIterator<WatchEvent>, ms: number): Promise<void> {
  const next = iterator.next();
  next.catch(() => {});
  const raced = await Promise.race([next.then((r) => ({ r })), sleep(ms).then(() => undefined)]);
  if (raced && !raced.r.done) assert.fail(`unexpected watch event ${JSON.stringify(describe(raced.r))}`);
}

function describe(r: IteratorResult<WatchEvent>): unknown {
  return r.done ? 'end' : { type: r.value.type, key: r.value.kv.key, rev: String(r.value.kv.modRevision) };
}

/** Asserts `promise` rejects with a MetaKvError of `code` whose message matches `message`. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: MetaKvErrorCode,
  message?: RegExp,
): Promise<MetaKvError> {
  const e = await promise.then(
    () => assert.fail(`expected a ${code} error, but it succeeded`),
    (err: unknown) => err,
  );
  assert.ok(MetaKvError.is(e), `expected a MetaKvError ${code}, got ${String(e)}`);
  assert.equal(e.code, code, `wrong code: ${e.message}`);
  if (message) assert.match(e.message, message);
  return e;
}

/** Asserts that calling `fn` throws or rejects with a MetaKvError of `code`. */
export async function failsWith(fn: () => unknown, code: MetaKvErrorCode, message?: RegExp): Promise<MetaKvError> {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    result = Promise.reject(e);
  }
  if (isAsyncIterable(result)) result = iterate(result).next();
  return rejectsWith(Promise.resolve(result), code, message);
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof x === 'object' && x !== null && Symbol.asyncIterator in x && !(x instanceof Promise);
}

/** UTF-8 text of a value. */
export const text = (value: Uint8Array): string => new TextDecoder().decode(value);

/** A unique-enough suffix for names within one scenario. */
export const unique = (): string => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
