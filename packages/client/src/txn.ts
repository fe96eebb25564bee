import type { Logger } from '@streamsvc/common';
import { isTxnBodyMessageType, MessageBuilder, StreamingError } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';

import type { AppendResult, TxnContextResult } from './append-result.js';
import { toStreamingError } from './errors.js';

/** Appends one message wherever its vchannel lives (the client's retrying append). */
export type AppendFn = (message: MutableMessage, signal: AbortSignal | undefined) => Promise<AppendResult>;

/** Options of `StreamingClient.txn`. */
export interface TxnOptions {
  /** The one vchannel every message of the transaction goes to. */
  readonly vchannel: string;
  /** How long the server keeps the txn alive between appends; 0 or absent: the server's default (10 s). */
  readonly keepaliveMs?: number;
  /** Aborts the BeginTxn append (outcome unknown: the server expires an orphaned txn after its keepalive). */
  readonly signal?: AbortSignal;
}

/** Where a transaction stands. */
export type TxnState = 'open' | 'committing' | 'committed' | 'rolling-back' | 'rolled-back' | 'failed';

/**
 * A transaction on one vchannel: BeginTxn is appended by `StreamingClient.txn`, body messages by
 * {@link append}, and {@link commit} or {@link rollback} ends it, once. Readers see a committed
 * transaction as one `Txn` message at the commit's time tick; a rolled back or expired one never.
 *
 * Commit and rollback wait for body appends still in flight. If any body append failed, commit rolls
 * back instead and throws INVALID_TRANSACTION_STATE: a transaction is all or nothing, so one that lost
 * a message must not commit. A body append is retried only while it was certainly not sent (the stream
 * could not be opened, the node refused it); one lost after sending fails with OUTCOME_UNKNOWN and the
 * transaction can no longer commit — so a committed transaction holds each body message exactly once,
 * and the caller retries a failed transaction as a whole.
 */
export class Txn implements AsyncDisposable {
  /** The vchannel of every message of this transaction. */
  readonly vchannel: string;
  /** The transaction id and keepalive the server assigned. */
  readonly context: TxnContextResult;
  /** Where the BeginTxn landed. */
  readonly beginResult: AppendResult;
  readonly #append: AppendFn;
  readonly #log: Logger;
  readonly #inFlight = new Set<Promise<unknown>>();
  #firstFailure: unknown;
  #state: TxnState = 'open';

  private constructor(vchannel: string, beginResult: AppendResult, append: AppendFn, logger: Logger) {
    this.vchannel = vchannel;
    this.beginResult = beginResult;
    this.context = beginResult.txnContext!;
    this.#append = append;
    this.#log = logger.child({ component: 'txn', vchannel, txnId: String(this.context.txnId) });
  }

  /**
   * Appends BeginTxn and returns the open transaction. Internal: use `StreamingClient.txn`.
   * @throws StreamingError like an append; UNKNOWN when the server returned no txn context.
   */
  static async begin(options: TxnOptions, append: AppendFn, logger: Logger): Promise<Txn> {
    let begin: MutableMessage;
    try {
      begin = MessageBuilder.beginTxn()
        .header({ keepaliveMs: options.keepaliveMs ?? 0 })
        .vchannel(options.vchannel)
        .build();
    } catch (e) {
      throw toStreamingError(e, 'begin txn');
    }
    const result = await append(begin, options.signal);
    if (result.txnContext === undefined) {
      throw new StreamingError('UNKNOWN', 'the server answered BeginTxn without a txn context', { retriable: false });
    }
    return new Txn(options.vchannel, result, append, logger);
  }

  /** The transaction id. */
  get txnId(): bigint {
    return this.context.txnId;
  }

  /** Where the transaction stands. */
  get state(): TxnState {
    return this.#state;
  }

  /**
   * Appends a body message (Insert, Delete or Data on {@link vchannel}); the caller's message is not
   * changed (a copy carries the txn context).
   * @throws StreamingError INVALID_TRANSACTION_STATE after commit/rollback began; INVALID_ARGUMENT for
   *   another vchannel, a type not allowed in transactions, or a message already in a txn; else like an
   *   append (TRANSACTION_EXPIRED when the keepalive passed). The abort reason on abort (outcome unknown;
   *   commit will then refuse).
   */
  append(message: MutableMessage, options: { readonly signal?: AbortSignal } = {}): Promise<AppendResult> {
    if (this.#state !== 'open') return Promise.reject(this.#notOpen('append to'));
    let body: MutableMessage;
    try {
      if (message.vchannel !== this.vchannel) {
        throw new StreamingError(
          'INVALID_ARGUMENT',
          `txn ${this.txnId} is on vchannel ${this.vchannel}, the message on ${message.vchannel ?? '(none)'}`,
        );
      }
      if (!isTxnBodyMessageType(message.type)) {
        throw new StreamingError('INVALID_ARGUMENT', `${message.typeName} messages cannot be part of a transaction`);
      }
      body = message.clone().withTxnContext(this.context);
    } catch (e) {
      return Promise.reject(toStreamingError(e, `append to txn ${this.txnId}`));
    }
    const pending = this.#append(body, options.signal);
    const tracked = pending.catch((e: unknown) => {
      this.#firstFailure ??= e;
    });
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
    return pending;
  }

  /**
   * Waits for body appends in flight, then appends CommitTxn. Once.
   * @throws StreamingError INVALID_TRANSACTION_STATE when called twice, after rollback, or when a body
   *   append failed (the txn is rolled back then, best effort; `cause` is the failure);
   *   TRANSACTION_EXPIRED; else like an append. The abort reason on abort (outcome unknown).
   */
  async commit(options: { readonly signal?: AbortSignal } = {}): Promise<AppendResult> {
    if (this.#state !== 'open') throw this.#notOpen('commit');
    this.#state = 'committing';
    await this.#settleBodies();
    if (this.#firstFailure !== undefined) {
      this.#state = 'rolling-back';
      await this.#end(MessageBuilder.rollbackTxn(), options.signal).catch((e: unknown) => {
        this.#log.debug({ err: toStreamingError(e, 'rollback') }, 'rollback after a failed body append failed');
      });
      this.#state = 'rolled-back';
      throw new StreamingError(
        'INVALID_TRANSACTION_STATE',
        `txn ${this.txnId} was rolled back instead of committed because a body append failed`,
        { cause: this.#firstFailure },
      );
    }
    try {
      const result = await this.#end(MessageBuilder.commitTxn(), options.signal);
      this.#state = 'committed';
      return result;
    } catch (e) {
      this.#state = 'failed';
      throw e;
    }
  }

  /**
   * Waits for body appends in flight, then appends RollbackTxn. Once; not after commit.
   * @throws StreamingError INVALID_TRANSACTION_STATE when the txn is not open; else like an append.
   *   The abort reason on abort (the server expires the txn after its keepalive anyway).
   */
  async rollback(options: { readonly signal?: AbortSignal } = {}): Promise<AppendResult> {
    if (this.#state !== 'open') throw this.#notOpen('roll back');
    this.#state = 'rolling-back';
    await this.#settleBodies();
    try {
      const result = await this.#end(MessageBuilder.rollbackTxn(), options.signal);
      this.#state = 'rolled-back';
      return result;
    } catch (e) {
      this.#state = 'failed';
      throw e;
    }
  }

  /** Rolls back a transaction that is still open (`await using txn = await client.txn(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state !== 'open') return;
    await this.rollback().catch((e: unknown) => {
      this.#log.debug({ err: toStreamingError(e, 'rollback') }, 'rollback on dispose failed');
    });
  }

  async #settleBodies(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  #end(
    builder: ReturnType<typeof MessageBuilder.commitTxn> | ReturnType<typeof MessageBuilder.rollbackTxn>,
    signal: AbortSignal | undefined,
  ): Promise<AppendResult> {
    const message = builder.vchannel(this.vchannel).build().withTxnContext(this.context);
    return this.#append(message, signal);
  }

  #notOpen(what: string): StreamingError {
    return new StreamingError('INVALID_TRANSACTION_STATE', `cannot ${what} txn ${this.txnId}: it is ${this.#state}`);
  }
}
