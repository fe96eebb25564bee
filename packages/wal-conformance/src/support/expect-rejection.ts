import assert from 'node:assert/strict';
import { StreamingError } from '@streamsvc/message';
import type { StreamingErrorCode } from '@streamsvc/message';
import { WalError } from '@streamsvc/wal-core';
import type { WalErrorCode } from '@streamsvc/wal-core';
import { describeError } from './describe-error.js';
import { WaitTimeoutError, within } from './within.js';

/**
 * Calls `call` and returns what the promise it returns rejects with. Asynchronous APIs must report
 * failure through the promise, never by throwing synchronously (a synchronous throw escapes `.catch`
 * chains and crashes fire-and-forget callers), so a synchronous throw fails the assertion.
 * @throws {AssertionError} when `call` throws synchronously, returns no promise, or the promise resolves.
 * @throws {WaitTimeoutError} when the promise neither resolves nor rejects within `timeoutMs`.
 */
export async function expectRejection(what: string, call: () => unknown, timeoutMs: number): Promise<unknown> {
  let pending: unknown;
  try {
    pending = call();
  } catch (e) {
    assert.fail(`${what}: threw synchronously (${describeError(e)}), but it must return a promise that rejects`);
  }
  if (!isThenable(pending)) assert.fail(`${what}: returned ${typeof pending}, not a promise`);
  try {
    await within(pending, timeoutMs, what);
  } catch (e) {
    if (e instanceof WaitTimeoutError) throw e;
    return e;
  }
  assert.fail(`${what}: resolved, but it must reject`);
}

/**
 * Like {@link expectRejection}, and checks that the rejection is a `WalError` with `code` (by brand, so
 * it works across package copies).
 * @throws {AssertionError} as {@link expectRejection}, or when the rejection has another type or code.
 */
export async function expectWalError(
  what: string,
  call: () => unknown,
  code: WalErrorCode,
  timeoutMs: number,
): Promise<WalError> {
  const e = await expectRejection(what, call, timeoutMs);
  if (!WalError.is(e, code)) assert.fail(`${what}: rejected with ${describeError(e)}, but expected WalError ${code}`);
  return e;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Like {@link expectRejection}, and checks that the rejection is a `StreamingError` with `code` (by
 * brand, so it works across package copies) — what the WAL answers.
 * @throws {AssertionError} as {@link expectRejection}, or when the rejection has another type or code.
 */
export async function expectStreamingError(
  what: string,
  call: () => unknown,
  code: StreamingErrorCode,
  timeoutMs: number,
): Promise<StreamingError> {
  const e = await expectRejection(what, call, timeoutMs);
  if (!StreamingError.is(e, code)) {
    assert.fail(`${what}: rejected with ${describeError(e)}, but expected StreamingError ${code}`);
  }
  return e;
}

/**
 * Calls a synchronous `call` that must throw a `StreamingError` with `code` (e.g. `Wal.read` with bad
 * filters or after close) and returns it.
 * @throws {AssertionError} when it returns, or throws something else.
 */
export function expectStreamingErrorThrown(
  what: string,
  call: () => unknown,
  code: StreamingErrorCode,
): StreamingError {
  try {
    call();
  } catch (e) {
    if (!StreamingError.is(e, code))
      assert.fail(`${what}: threw ${describeError(e)}, but expected StreamingError ${code}`);
    return e;
  }
  assert.fail(`${what}: returned, but it must throw StreamingError ${code}`);
}
