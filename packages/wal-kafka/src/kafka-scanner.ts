import { CloseOnce } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import type { ImmutableMessage } from '@streamsvc/message';
import type { BackendScanner } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { KafkaFetcher, KafkaPort, KafkaRecord } from './kafka-port.js';
import { decodeRecord } from './record-codec.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 2_000;

/** What a scanner needs. */
export interface ScannerInit {
  readonly port: KafkaPort;
  readonly fetcher: KafkaFetcher;
  readonly topic: string;
  readonly start: bigint;
  readonly fetchMaxWaitMs: number;
  readonly readRetryTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onClose: (scanner: KafkaScanner) => void;
}

/**
 * Reads partition 0 of one topic from a start offset and follows the tail with long polls: at the
 * tail each fetch waits at the broker up to `fetchMaxWaitMs`, so an idle scanner costs one request
 * per wait and never spins. A broker that fails is retried with back-off (50 ms doubling to 2 s) for
 * up to `readRetryTimeoutMs`; records are delivered exactly once across the retries, because the
 * position only moves past a record once it was handed out. A position that retention removed
 * continues at the first retained record.
 */
export class KafkaScanner implements BackendScanner, AsyncIterableIterator<ImmutableMessage> {
  readonly #init: ScannerInit;
  readonly #close = new CloseOnce();
  readonly #stop = new AbortController();
  // Set while a next() waits on the broker: close() calls it so that next() resolves done at once.
  #wake: (() => void) | undefined;
  #position: bigint;
  #buffer: readonly KafkaRecord[] = [];
  #at = 0;
  // next() calls are chained: the iterator protocol allows overlapping calls, and each must see the
  // position the previous one left.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(init: ScannerInit) {
    this.#init = init;
    this.#position = init.start;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next record; waits at the tail until one arrives or the scanner closes.
   * @throws {WalError} CORRUPT when a record does not decode (named by topic and offset); UNAVAILABLE
   *   when the broker kept failing for `readRetryTimeoutMs`; INVALID_MESSAGE_ID when the position is
   *   beyond the end of the log (the topic was deleted and recreated).
   */
  next(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    const result = this.#queue.then(() => this.#next());
    this.#queue = result.catch(() => {});
    return result;
  }

  /** Ends the iteration (called by `break` in `for await`). */
  async return(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    await this.close();
    return DONE;
  }

  /** Ends the iteration: a pending `next()` resolves done at once, and so does every later one. Idempotent. */
  close(): Promise<void> {
    if (!this.#close.started) {
      this.#stop.abort();
      this.#wake?.();
      this.#init.onClose(this);
    }
    return this.#close.run(() => this.#init.fetcher.close());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #next(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    let failingSinceMs: number | undefined;
    let backoffMs = BACKOFF_MIN_MS;
    // Each turn either returns, or waits at the broker (long poll) or in a back-off: never spins.
    for (;;) {
      if (this.#close.started) return DONE;
      const record = this.#buffer[this.#at];
      if (record !== undefined) {
        // Decoded before moving on: a record that does not decode fails every next() (never skipped).
        const message = decodeRecord(record.value, this.#init.topic, record.offset);
        this.#at++;
        this.#position = record.offset + 1n;
        return { done: false, value: message };
      }
      try {
        if (!(await this.#fillUnlessClosed())) return DONE;
        failingSinceMs = undefined;
        backoffMs = BACKOFF_MIN_MS;
      } catch (e) {
        if (this.#close.started) return DONE;
        if (!WalError.is(e, WalErrorCode.UNAVAILABLE) || !e.retriable) throw e;
        const now = this.#init.clock.nowMs();
        failingSinceMs ??= now;
        if (now - failingSinceMs >= this.#init.readRetryTimeoutMs) throw e;
        this.#init.logger.debug({ err: e.message, backoffMs }, 'read failed; retrying');
        // Closing cuts the back-off short.
        await this.#init.clock.sleep(backoffMs, { signal: this.#stop.signal }).catch(() => {});
        backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
      }
    }
  }

  /**
   * {@link #fill}, or false as soon as the scanner closes. A fetch cannot be cancelled on the wire; one
   * outliving the close is dropped (the fetcher's connection closes with the scanner).
   */
  #fillUnlessClosed(): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#wake = () => resolve(false);
      this.#fill().then(
        () => resolve(true),
        (e: unknown) => reject(e),
      );
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  async #fill(): Promise<void> {
    const result = await this.#init.fetcher.fetch(this.#position, this.#init.fetchMaxWaitMs);
    if (result.kind === 'records') {
      this.#buffer = result.records;
      this.#at = 0;
      return;
    }
    // Out of range: either retention (or a truncation) removed the position — continue at the first
    // retained record — or the position is past the end, which no id this log issued can be.
    const { low, high } = await this.#init.port.offsets(this.#init.topic);
    if (this.#position < low) {
      this.#init.logger.debug({ from: String(this.#position), to: String(low) }, 'position removed; skipping ahead');
      this.#position = low;
    } else if (this.#position > high) {
      throw new WalError(
        WalErrorCode.INVALID_MESSAGE_ID,
        `read of topic "${this.#init.topic}": offset ${this.#position} is beyond the end of the partition (${high}); was the topic recreated?`,
      );
    }
    // Otherwise the range moved between the fetch and the lookup: fetch again.
  }
}
