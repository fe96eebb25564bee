import assert from 'node:assert/strict';
import { MessageType } from '@streamsvc/message';
import type { ImmutableMessage } from '@streamsvc/message';
import type { WalOpener } from '@streamsvc/wal-core';
import { settlesWithin } from '../support/within.js';
import { KEY } from './messages.js';
import type { WalScenarioRuntime } from './wal-runtime.js';

/** How long the log must stay quiet after the last expected record. */
const QUIET_MS = 200;

/**
 * Reads `pchannel` straight from the backend (a read-only handle, no WAL in between) from the start up
 * to the record keyed `lastKey`, and returns the keys of every record that is not a TimeTick — BeginTxn
 * and body messages of unfinished transactions included, which no WAL reader would show. It then
 * checks that no further such record appears for a moment, so "nothing was written" means nothing.
 * Call it once the writer is closed (a backend may not read beside a live writer).
 * @throws {AssertionError} when a record follows `lastKey`; {@link WaitTimeoutError} when it never comes.
 */
export async function storedUserRecords(
  ctx: WalScenarioRuntime<unknown>,
  opener: WalOpener,
  pchannel: string,
  term: bigint,
  lastKey: string,
): Promise<string[]> {
  const handle = await ctx.openBackend(opener, { pchannel, term });
  const scanner = await ctx.within(
    handle.read({ policy: { kind: 'all' }, name: 'conformance-count' }),
    `${pchannel}: backend read`,
  );
  const records = scanner[Symbol.asyncIterator]();
  const nextUserRecord = async (): Promise<ImmutableMessage | undefined> => {
    for (;;) {
      const step = await records.next();
      if (step.done === true) return undefined;
      if (step.value.type !== MessageType.TimeTick) return step.value;
    }
  };
  const keys: string[] = [];
  try {
    for (;;) {
      const record = await ctx.within(
        nextUserRecord(),
        `${pchannel}: stored record ${keys.length} (looking for ${lastKey})`,
      );
      if (record === undefined) assert.fail(`${pchannel}: the backend log ended before the record ${lastKey}`);
      const key = record.userProperties.get(KEY) ?? `<${record.typeName} without a key>`;
      keys.push(key);
      if (key === lastKey) break;
    }
    const late = await settlesWithin(nextUserRecord(), QUIET_MS);
    if (late?.value !== undefined) {
      assert.fail(
        `${pchannel}: the backend holds ${late.value.typeName} ${late.value.userProperties.get(KEY) ?? '?'} after ${lastKey}, which was appended last`,
      );
    }
    return keys;
  } finally {
    await ctx.within(scanner.close(), `${pchannel}: backend scanner.close()`).catch(() => {});
  }
}
