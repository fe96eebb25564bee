import assert from 'node:assert/strict';
import { StreamingError } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import type { AppendResult, Wal } from '@streamsvc/wal-core';
import { describeError } from '../support/describe-error.js';
import { settleAll } from '../support/settle-all.js';
import { sleep } from '../support/within.js';
import type { Appended, ExpectedLog } from './expected-log.js';
import { beginTxn, commitTxn, data, insert, marker, rollbackTxn } from './messages.js';
import { WAL_SUITE_DEFAULTS } from './options.js';
import type { WalScenarioRuntime } from './wal-runtime.js';

/** The mixed write load of Milvus's WAL test, on several vchannels of one pchannel. */
export interface WorkloadOptions {
  readonly vchannels: readonly string[];
  /** Prefix of every key, unique per phase (e.g. `t2`). */
  readonly tag: string;
  /** Operations in total: each one autocommit append or one whole transaction. */
  readonly operations: number;
  readonly writers: number;
  /** Where acknowledged messages and committed transactions are recorded. */
  readonly expected: ExpectedLog;
  /** Longest pause of a writer between two operations; default 3 ms. */
  readonly maxPauseMs?: number;
}

/** What a workload did. */
export interface WorkloadCounts {
  autocommit: number;
  committed: number;
  rolledBack: number;
  abandoned: number;
  /** Committed or rolled-back transactions the WAL expired before the writer finished them (it stalled past the keepalive). */
  expired: number;
  appends: number;
}

/**
 * Runs `options.operations` operations from `options.writers` concurrent writers with small random
 * pauses. Half are autocommit Inserts or Data messages; half are transactions (BeginTxn with a 1 s
 * keepalive, 0–4 body messages, CommitTxn with properties). One operation in three also opens a
 * transaction that is rolled back or abandoned to expire (keepalive 300 ms): neither may ever be
 * delivered. Every acknowledged autocommit append and commit is recorded in `options.expected`. A
 * transaction the WAL expires because its writer stalled past the keepalive is given up (and must not
 * be delivered either); more than 5 % of them fails the run.
 * @throws {Error} naming the append that failed; {@link WaitTimeoutError} when one does not answer;
 *   {@link AssertionError} when too many transactions expired.
 */
export async function runWorkload(
  ctx: WalScenarioRuntime<unknown>,
  wal: Wal,
  options: WorkloadOptions,
): Promise<WorkloadCounts> {
  const counts: WorkloadCounts = { autocommit: 0, committed: 0, rolledBack: 0, abandoned: 0, expired: 0, appends: 0 };
  const append = async (message: MutableMessage, what: string): Promise<AppendResult> => {
    try {
      const result = await ctx.within(wal.append(message), `${wal.pchannel}: append of ${what}`);
      counts.appends++;
      return result;
    } catch (e) {
      throw new Error(`${wal.pchannel}: append of ${what} failed: ${describeError(e)}`, { cause: e });
    }
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
  const userMessage = (vchannel: string, key: string): MutableMessage =>
    Math.random() < 0.5 ? insert(vchannel, pick([1n, 2n]), key) : data(vchannel, key);

  const txn = async (
    vchannel: string,
    key: string,
    bodies: number,
    end: 'commit' | 'rollback' | 'abandon',
  ): Promise<void> => {
    const keepaliveMs = end === 'abandon' ? WAL_SUITE_DEFAULTS.abandonedKeepaliveMs : WAL_SUITE_DEFAULTS.txnKeepaliveMs;
    const begun = await append(beginTxn(vchannel, keepaliveMs, `${key}/begin`), `${key}/begin`);
    const txnId = begun.txnContext!.txnId;
    const body: Appended[] = [];
    try {
      for (let b = 0; b < bodies; b++) {
        const message = userMessage(vchannel, `${key}/b${b}`).withTxnContext({ txnId });
        body.push({ message, timeTick: (await append(message, `${key}/b${b}`)).timeTick });
        await sleep(Math.floor(Math.random() * 2));
      }
      if (end === 'abandon') return void counts.abandoned++;
      if (end === 'rollback') {
        await append(rollbackTxn(vchannel, txnId, `${key}/rollback`), `${key}/rollback`);
        return void counts.rolledBack++;
      }
      const commit = commitTxn(vchannel, txnId, `${key}/commit`);
      options.expected.txn(
        vchannel,
        { message: commit, timeTick: (await append(commit, `${key}/commit`)).timeTick },
        body,
      );
      counts.committed++;
    } catch (e) {
      // A writer of this process stalled past the keepalive (the process is busy reading): the WAL was
      // right to expire the txn, and it must then never be delivered — which the readers check.
      if (!StreamingError.is((e as Error).cause, 'TRANSACTION_EXPIRED')) throw e;
      // An abandoned txn is meant to expire: on a loaded machine its 300 ms keepalive can run out between
      // its BeginTxn and its last body. Only live txns (5 s keepalive) count against the tolerance.
      if (end === 'abandon') counts.abandoned++;
      else counts.expired++;
    }
  };

  const operation = async (op: number): Promise<void> => {
    const vchannel = pick(options.vchannels);
    const key = `${options.tag}/${op}`;
    if (Math.random() < 0.5) {
      const message = userMessage(vchannel, key);
      options.expected.single(vchannel, { message, timeTick: (await append(message, key)).timeTick });
      counts.autocommit++;
    } else {
      await txn(vchannel, key, Math.floor(Math.random() * 5), 'commit');
    }
    if (Math.random() < 1 / 3) {
      await txn(
        pick(options.vchannels),
        `${key}/x`,
        1 + Math.floor(Math.random() * 2),
        Math.random() < 0.5 ? 'rollback' : 'abandon',
      );
    }
  };

  let next = 0;
  const maxPauseMs = options.maxPauseMs ?? 3;
  const writer = async (): Promise<void> => {
    for (let op = next++; op < options.operations; op = next++) {
      await operation(op);
      await sleep(Math.floor(Math.random() * (maxPauseMs + 1)));
    }
  };
  await settleAll(Array.from({ length: options.writers }, writer));
  // Stalls happen on a busy machine; a WAL that expires live transactions does not get this far.
  const tolerated = Math.max(2, Math.floor(options.operations / 20));
  if (counts.expired > tolerated) {
    assert.fail(
      `${wal.pchannel}: ${counts.expired} of ${options.operations} operations lost their transaction to TRANSACTION_EXPIRED though each writer appended well within the keepalive; at most ${tolerated} may (stalls)`,
    );
  }
  return counts;
}

/**
 * Appends the marker of `tag` on every vchannel (after everything else, so readers can stop at it) and
 * records them.
 */
export async function appendMarkers(
  ctx: WalScenarioRuntime<unknown>,
  wal: Wal,
  vchannels: readonly string[],
  tag: string,
  expected: ExpectedLog,
): Promise<void> {
  for (const vchannel of vchannels) {
    const message = marker(vchannel, tag);
    const result = await ctx.within(wal.append(message), `${wal.pchannel}: append of the ${tag} marker on ${vchannel}`);
    expected.single(vchannel, { message, timeTick: result.timeTick });
  }
}
