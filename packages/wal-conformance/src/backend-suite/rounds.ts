import assert from 'node:assert/strict';
import type { ImmutableMessage, MessageId } from '@streamsvc/message';
import type { BackendScanner, BackendWal, DeliverPolicy, ReadOnlyBackendWal } from '@streamsvc/wal-core';
import { BACKEND_SUITE_DEFAULTS } from './options.js';
import { dataMessage, isMarker, markerMessage, sortById, writtenRecord } from './records.js';
import type { Stamp, TimeTickSource, WrittenRecord } from './records.js';
import type { ScenarioRuntime } from './suite-context.js';

/** The terms the Milvus framework opens each pchannel under, one after the other. */
export const TERMS: readonly bigint[] = [1n, 2n, 3n];

/** One round of writes: `count - 1` data records from concurrent writers, then one marker. */
export interface RoundOptions {
  readonly pchannel: string;
  readonly term: bigint;
  /** Names the round; keys are `<tag>/<i>` and the marker carries it. */
  readonly tag: string;
  readonly count: number;
  readonly timeTicks: TimeTickSource;
  /** Stamped as every record's last-confirmed id; undefined stamps each as its own. */
  readonly lastConfirmed: MessageId | undefined;
  /** Concurrent writers; default 5. */
  readonly concurrency?: number;
}

/**
 * Appends one round and returns it sorted by id, the marker last. The marker is appended only after
 * every data append resolved, so a log must give it the largest id: an append that starts after
 * another finished is ordered after it (what makes last-confirmed ids safe resume points).
 * @throws {AssertionError} when the marker's id is not the largest; whatever `append` rejects with.
 */
export async function appendRound(
  ctx: ScenarioRuntime<unknown>,
  wal: BackendWal,
  round: RoundOptions,
): Promise<WrittenRecord[]> {
  const stamp = (): Stamp => ({
    timeTick: round.timeTicks.next(),
    term: round.term,
    lastConfirmed: round.lastConfirmed,
  });
  const data: WrittenRecord[] = [];
  let next = 0;
  const writer = async (): Promise<void> => {
    for (let i = next++; i < round.count - 1; i = next++) {
      const s = stamp();
      const message = dataMessage(round.pchannel, `${round.tag}/${i}`, s);
      const id = await ctx.within(wal.append(message), `${round.pchannel}: append of ${round.tag}/${i}`);
      data.push(writtenRecord(message, id, s));
    }
  };
  const concurrency = round.concurrency ?? BACKEND_SUITE_DEFAULTS.writerConcurrency;
  await Promise.all(Array.from({ length: concurrency }, writer));
  const s = stamp();
  const marker = markerMessage(round.pchannel, round.tag, s);
  const markerId = await ctx.within(wal.append(marker), `${round.pchannel}: append of the ${round.tag} marker`);
  const sorted = sortById(data);
  const last = sorted.at(-1);
  if (last !== undefined && last.id.compare(markerId) !== -1) {
    assert.fail(
      `${round.pchannel}: the ${round.tag} marker, appended after every other append of the round resolved, got id ${markerId.toString()}, not after ${last.id.toString()}`,
    );
  }
  return [...sorted, writtenRecord(marker, markerId, s)];
}

/**
 * Reads `scanner` until `stop` accepts a message (included) and returns everything read. Each wait for
 * the next record is bounded.
 * @throws {AssertionError} when the scanner ends first; {@link WaitTimeoutError} when a record is late.
 */
export async function readUntil(
  ctx: ScenarioRuntime<unknown>,
  scanner: BackendScanner,
  stop: (message: ImmutableMessage) => boolean,
  what: string,
): Promise<ImmutableMessage[]> {
  const iterator = scanner[Symbol.asyncIterator]();
  const out: ImmutableMessage[] = [];
  for (;;) {
    const step = await ctx.within(iterator.next(), `${what}: record ${out.length}`);
    if (step.done === true)
      assert.fail(`${what}: the scanner ended after ${out.length} records, before the expected last one`);
    out.push(step.value);
    if (stop(step.value)) return out;
  }
}

/**
 * Reads `wal` from `policy` up to and including the marker of round `tag`, then closes the scanner.
 * @throws like {@link readUntil}.
 */
export async function readToMarker(
  ctx: ScenarioRuntime<unknown>,
  wal: ReadOnlyBackendWal,
  policy: DeliverPolicy,
  tag: string,
  what: string,
): Promise<ImmutableMessage[]> {
  const scanner = await ctx.read(wal, { policy, name: 'conformance' });
  try {
    return await readUntil(ctx, scanner, (m) => isMarker(m, tag), what);
  } finally {
    await ctx.within(scanner.close(), `${what}: scanner.close()`).catch(() => {
      // The read's own outcome matters more; closeAll() reports a scanner that cannot close.
    });
  }
}

/**
 * For each of `terms`, opens `pchannel` read-write under it through a *new* opener (a node taking the
 * pchannel over), runs `body`, and closes handle and opener before the next term.
 */
export async function forEachTerm(
  ctx: ScenarioRuntime<unknown>,
  pchannel: string,
  terms: readonly bigint[],
  body: (wal: BackendWal, term: bigint) => Promise<void>,
): Promise<void> {
  for (const term of terms) {
    const opener = await ctx.createOpener();
    const wal = await ctx.open(opener, { pchannel, term, mode: 'rw' });
    await body(wal, term);
    await ctx.within(wal.close(), `${pchannel}: close of the term ${term} handle`);
    await ctx.within(opener.close(), `${pchannel}: close of the term ${term} opener`);
  }
}
