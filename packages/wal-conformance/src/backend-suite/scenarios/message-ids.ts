import assert from 'node:assert/strict';
import fc from 'fast-check';
import { counterMessageIdCodec, MessageError } from '@streamsvc/message';
import type { MessageId } from '@streamsvc/message';
import type { BackendWal } from '@streamsvc/wal-core';
import { WalErrorCode } from '@streamsvc/wal-core';
import { describeError } from '../../support/describe-error.js';
import { expectWalError } from '../../support/expect-rejection.js';
import { assertSameLog, assertStrictlyIncreasing } from '../log-assertions.js';
import { TimeTickSource } from '../records.js';
import { appendRound, forEachTerm, readToMarker, TERMS } from '../rounds.js';
import type { ScenarioRuntime } from '../suite-context.js';
import type { WrittenRecord } from '../records.js';

/**
 * `id-codec-roundtrip`: ids are persisted as strings (checkpoints, `_lc`) and must come back equal.
 * Property-based over the ids of a three-term log: `messageIds.parse(id.toString())` equals `id` and
 * has the backend's name; `compare` — on the ids and on their parsed copies — agrees with the order a
 * reader observed. Arbitrary strings either parse to an id that round-trips or throw MessageError
 * INVALID_MESSAGE_ID; nothing else.
 */
export async function idCodecRoundtrip(ctx: ScenarioRuntime<unknown>): Promise<void> {
  const codec = ctx.backend.messageIds;
  assert.equal(codec.walName, ctx.backend.name, `messageIds.walName "${codec.walName}" is not the backend's name`);
  await ctx.forEachChannel(async (pchannel) => {
    const timeTicks = new TimeTickSource();
    const written: WrittenRecord[] = [];
    let observed: MessageId[] = [];
    await forEachTerm(ctx, pchannel, TERMS, async (wal, term) => {
      const tag = `term-${term}`;
      written.push(
        ...(await appendRound(ctx, wal, {
          pchannel,
          term,
          tag,
          count: ctx.messageCount,
          timeTicks,
          lastConfirmed: written.at(-1)?.id,
        })),
      );
      const list = await readToMarker(ctx, wal, { kind: 'all' }, tag, `${pchannel} under term ${term}`);
      assertStrictlyIncreasing(list, `${pchannel} under term ${term}`);
      assertSameLog(list, written, `${pchannel} under term ${term}`);
      observed = list.map((m) => m.id);
    });
    for (const id of observed)
      assert.equal(id.walName, ctx.backend.name, `id ${id.toString()} carries wal name "${id.walName}"`);
    const index = fc.nat({ max: observed.length - 1 });
    fc.assert(
      fc.property(index, index, (i, j) => {
        const [a, b] = [observed[i]!, observed[j]!];
        const [pa, pb] = [codec.parse(a.toString()), codec.parse(b.toString())];
        const order = Math.sign(i - j);
        return (
          pa.equals(a) &&
          pa.walName === a.walName &&
          a.compare(b) === order &&
          pa.compare(pb) === order &&
          pa.compare(b) === order
        );
      }),
      { numRuns: 300 },
    );
    const idText = fc.constantFrom(...observed.map((id) => id.toString()));
    const arbitraryText = fc.oneof(
      fc.string(),
      fc.tuple(idText, fc.string()).map(([id, tail]) => id + tail),
      idText.map((id) => id.slice(0, -1)),
    );
    fc.assert(
      fc.property(arbitraryText, (text) => {
        let parsed: MessageId;
        try {
          parsed = codec.parse(text);
        } catch (e) {
          if (MessageError.is(e, 'INVALID_MESSAGE_ID')) return true;
          throw new Error(
            `parse(${JSON.stringify(text)}) threw ${describeError(e)}; expected MessageError INVALID_MESSAGE_ID`,
          );
        }
        return parsed.walName === ctx.backend.name && codec.parse(parsed.toString()).equals(parsed);
      }),
      { numRuns: 300 },
    );
  });
}

/**
 * `foreign-message-id-rejected`: an id of another backend (a checkpoint written by Kafka read against
 * Woodpecker) has no position in this log; read from it and truncate to it reject with
 * INVALID_MESSAGE_ID instead of guessing.
 */
export async function foreignMessageIdRejected(ctx: ScenarioRuntime<unknown>): Promise<void> {
  const foreignName = ctx.backend.name === 'conformance-foreign' ? 'conformance-alien' : 'conformance-foreign';
  const foreign = counterMessageIdCodec(foreignName).of(0n);
  await ctx.forEachChannel(async (pchannel) => {
    const opener = await ctx.createOpener();
    const wal: BackendWal = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
    await appendRound(ctx, wal, {
      pchannel,
      term: 1n,
      tag: 'term-1',
      count: 4,
      timeTicks: new TimeTickSource(),
      lastConfirmed: undefined,
    });
    for (const kind of ['startFrom', 'startAfter'] as const) {
      await expectWalError(
        `${pchannel}: read ${kind} an id of wal "${foreignName}"`,
        () => wal.read({ policy: { kind, id: foreign } }),
        WalErrorCode.INVALID_MESSAGE_ID,
        ctx.waitTimeoutMs,
      );
    }
    await expectWalError(
      `${pchannel}: truncate to an id of wal "${foreignName}"`,
      () => wal.truncate(foreign),
      WalErrorCode.INVALID_MESSAGE_ID,
      ctx.waitTimeoutMs,
    );
  });
}
