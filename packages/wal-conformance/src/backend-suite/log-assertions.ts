import assert from 'node:assert/strict';
import type { ImmutableMessage, MessageId } from '@streamsvc/message';
import { KEY_PROPERTY } from './records.js';
import type { WrittenRecord } from './records.js';

/**
 * Checks that `messages` are strictly increasing by message id: a log delivers in id order, without
 * duplicates.
 * @throws {AssertionError} naming the first pair out of order.
 */
export function assertStrictlyIncreasing(messages: readonly { readonly id: MessageId }[], what: string): void {
  for (let i = 1; i < messages.length; i++) {
    const prev = messages[i - 1]!.id;
    const cur = messages[i]!.id;
    if (prev.compare(cur) !== -1) {
      assert.fail(
        `${what}: record ${i} (id ${cur.toString()}) does not follow record ${i - 1} (id ${prev.toString()}); a read must be strictly increasing by id`,
      );
    }
  }
}

/**
 * Checks that what a reader got equals what was written, record by record: id, type, time tick,
 * last-confirmed id, payload and user properties. A mismatch in count is reported as the keys missing,
 * unexpected and duplicated, which is what one needs to debug a lossy or duplicating backend.
 * @throws {AssertionError} describing the first difference.
 */
export function assertSameLog(
  actual: readonly ImmutableMessage[],
  expected: readonly WrittenRecord[],
  what: string,
): void {
  if (actual.length !== expected.length) assert.fail(`${what}: ${countDiff(actual, expected)}`);
  for (let i = 0; i < expected.length; i++) {
    const problem = recordDiff(actual[i]!, expected[i]!);
    if (problem !== undefined) assert.fail(`${what}: record ${i}: ${problem}`);
  }
}

/** The key of a delivered record, or a description when it has none (a record the suite did not write). */
export function keyOf(message: ImmutableMessage): string {
  return message.userProperties.get(KEY_PROPERTY) ?? `<${message.typeName} ${message.id.toString()} without a key>`;
}

function recordDiff(got: ImmutableMessage, want: WrittenRecord): string | undefined {
  const key = keyOf(got);
  if (key !== want.key)
    return `expected key ${want.key} (id ${want.id.toString()}), got ${key} (id ${got.id.toString()})`;
  if (!got.id.equals(want.id)) return `${key} was written at id ${want.id.toString()} but read at ${got.id.toString()}`;
  if (got.type !== want.type) return `${key} was written as type ${want.type} but read as ${got.type}`;
  if (got.timeTick !== want.timeTick)
    return `${key} time tick ${got.timeTick} differs from the written ${want.timeTick}`;
  const lastConfirmed = want.lastConfirmed ?? want.id;
  if (!got.lastConfirmed.equals(lastConfirmed)) {
    return `${key} last-confirmed id ${got.lastConfirmed.toString()} differs from the written ${lastConfirmed.toString()}`;
  }
  if (!bytesEqual(got.payload, want.payload)) return `${key} payload differs from what was written`;
  const props = [...got.userProperties].sort(byKey);
  const wantProps = [...want.userProperties].sort(byKey);
  if (JSON.stringify(props) !== JSON.stringify(wantProps)) {
    return `${key} user properties ${JSON.stringify(props)} differ from the written ${JSON.stringify(wantProps)}`;
  }
  return undefined;
}

function countDiff(actual: readonly ImmutableMessage[], expected: readonly WrittenRecord[]): string {
  const seen = new Map<string, number>();
  for (const m of actual) seen.set(keyOf(m), (seen.get(keyOf(m)) ?? 0) + 1);
  const wanted = new Set(expected.map((r) => r.key));
  const missing = expected.filter((r) => !seen.has(r.key)).map((r) => r.key);
  const unexpected = [...seen.keys()].filter((k) => !wanted.has(k));
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
  return (
    `read ${actual.length} records but ${expected.length} were written; ` +
    `missing ${list(missing)}, unexpected ${list(unexpected)}, duplicated ${list(duplicated)}`
  );
}

function list(keys: readonly string[]): string {
  if (keys.length === 0) return 'none';
  const shown = keys.slice(0, 5).join(', ');
  return keys.length > 5 ? `${keys.length} (${shown}, ...)` : `[${shown}]`;
}

function byKey(a: [string, string], b: [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
