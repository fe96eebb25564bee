import assert from 'node:assert/strict';
import { MessageType } from '@streamsvc/message';
import type { AnyImmutableMessage } from '@streamsvc/message';
import { describeDelivered } from './expected-log.js';
import type { ExpectedEntry } from './expected-log.js';
import { keyOfDelivered } from './messages.js';

/** The delivered messages that are not TimeTicks. */
export function withoutTicks(messages: readonly AnyImmutableMessage[]): AnyImmutableMessage[] {
  return messages.filter((m) => m.type !== MessageType.TimeTick);
}

/**
 * The messages a reader delivers identically whenever it reads the same range: everything but the
 * time ticks kept in memory only (which depend on when the reader was idle).
 */
export function withoutVolatileTicks(messages: readonly AnyImmutableMessage[]): AnyImmutableMessage[] {
  return messages.filter((m) => m.type !== MessageType.TimeTick || !m.notPersisted);
}

/**
 * Checks that the time ticks of `messages` — data, transactions and TimeTicks alike — strictly increase.
 * @throws {AssertionError} naming the first pair out of order.
 */
export function assertStrictlyIncreasingTt(messages: readonly AnyImmutableMessage[], what: string): void {
  for (let i = 1; i < messages.length; i++) {
    const prev = messages[i - 1]!;
    const cur = messages[i]!;
    if (cur.timeTick <= prev.timeTick) {
      assert.fail(
        `${what}: message ${i} (${label(cur)} @${cur.timeTick}) does not come after message ${i - 1} (${label(prev)} @${prev.timeTick}); delivery must be in strictly increasing time-tick order`,
      );
    }
  }
}

/**
 * Checks that `delivered` (TimeTicks excluded) is exactly `expected`: same messages, same order, each
 * once. A count mismatch is reported as the keys missing, unexpected and duplicated.
 * @throws {AssertionError} describing the first difference.
 */
export function assertDelivered(
  delivered: readonly AnyImmutableMessage[],
  expected: readonly ExpectedEntry[],
  what: string,
): void {
  const got = withoutTicks(delivered);
  if (got.length !== expected.length) {
    assert.fail(
      `${what}: delivered ${got.length} messages but ${expected.length} were expected; ${countDiff(got, expected)}`,
    );
  }
  for (let i = 0; i < expected.length; i++) {
    const text = describeDelivered(got[i]!);
    if (text !== expected[i]!.text) {
      assert.fail(`${what}: message ${i} differs\n  delivered: ${text}\n  expected:  ${expected[i]!.text}`);
    }
  }
}

/**
 * Checks that two reads delivered the same messages (persisted TimeTicks included), in the same order.
 * @throws {AssertionError} describing the first difference.
 */
export function assertSameDelivery(
  actual: readonly AnyImmutableMessage[],
  expected: readonly AnyImmutableMessage[],
  what: string,
): void {
  const a = actual.map(describeAny);
  const e = expected.map(describeAny);
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) {
      assert.fail(
        `${what}: message ${i} differs (read ${a.length}, expected ${e.length})\n  read:     ${a[i] ?? '(nothing)'}\n  expected: ${e[i] ?? '(nothing)'}`,
      );
    }
  }
}

function describeAny(m: AnyImmutableMessage): string {
  return m.type === MessageType.TimeTick ? `TimeTick @${m.timeTick} id ${m.id.toString()}` : describeDelivered(m);
}

function label(m: AnyImmutableMessage): string {
  return m.type === MessageType.Txn ? `Txn ${keyOfDelivered(m)}` : `${m.typeName} ${keyOfDelivered(m)}`;
}

function countDiff(got: readonly AnyImmutableMessage[], expected: readonly ExpectedEntry[]): string {
  const seen = new Map<string, number>();
  for (const m of got) seen.set(keyOfDelivered(m), (seen.get(keyOfDelivered(m)) ?? 0) + 1);
  const wanted = new Set(expected.map((e) => e.key));
  const missing = expected.filter((e) => !seen.has(e.key)).map((e) => e.key);
  const unexpected = [...seen.keys()].filter((k) => !wanted.has(k));
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
  return `missing ${list(missing)}, unexpected ${list(unexpected)}, duplicated ${list(duplicated)}`;
}

function list(keys: readonly string[]): string {
  if (keys.length === 0) return 'none';
  const shown = keys.slice(0, 5).join(', ');
  return keys.length > 5 ? `${keys.length} (${shown}, ...)` : `[${shown}]`;
}
