import { CloseOnce } from '@streamsvc/common';
import { ImmutableMessage } from '@streamsvc/message';
import type { BackendScanner } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import type { MemoryLog, StoredRecord } from './memory-log.js';
import { memoryMessageIds } from './message-ids.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Reads one log in offset order from a start offset, then waits at the tail: an append wakes it (no
 * polling). Ends when closed — by itself, its handle or its opener. Records are rebuilt from the
 * envelope copied at append time, so every read returns a fresh message, as from a real backend.
 */
export class MemoryScanner implements BackendScanner, AsyncIterableIterator<ImmutableMessage> {
  readonly #log: MemoryLog;
  readonly #onClose: (scanner: MemoryScanner) => void;
  readonly #close = new CloseOnce();
  #position: bigint;
  #wake: (() => void) | undefined;
  // next() calls are chained: the iterator protocol allows overlapping calls, and each must see the
  // position the previous one left.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(log: MemoryLog, start: bigint, onClose: (scanner: MemoryScanner) => void) {
    this.#log = log;
    this.#position = start;
    this.#onClose = onClose;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next record; waits at the tail until one is appended or the scanner closes.
   * @throws {WalError} CORRUPT when a stored record cannot be decoded (a bug: records are validated on append).
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

  /** Ends the iteration: a pending `next()` resolves done, and so does every later one. Idempotent. */
  close(): Promise<void> {
    if (!this.#close.started) this.#stop();
    return this.#close.run(async () => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #next(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    for (;;) {
      if (this.#close.started) return DONE;
      const record = this.#log.recordAtOrAfter(this.#position);
      if (record !== undefined) {
        this.#position = record.offset + 1n;
        return { done: false, value: this.#decode(record) };
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#log.addWaiter(resolve);
      });
      this.#wake = undefined;
    }
  }

  // Synchronous, so that a next() racing with close() sees the closed state at once.
  #stop(): void {
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#log.removeWaiter(wake);
      wake();
    }
    this.#onClose(this);
  }

  #decode(record: StoredRecord): ImmutableMessage {
    try {
      // fromEnvelope copies the properties: every read gets its own message.
      return ImmutableMessage.fromEnvelope(record.envelope, memoryMessageIds.of(record.offset), memoryMessageIds);
    } catch (cause) {
      throw new WalError(
        WalErrorCode.CORRUPT,
        `record ${record.offset} of pchannel "${this.#log.pchannel}" cannot be decoded`,
        {
          cause,
        },
      );
    }
  }
}
