import { abortReason, CloseOnce } from '@streamsvc/common';
import type { CallOptions } from '@streamsvc/common';
import type { MessageId, MutableMessage } from '@streamsvc/message';
import type { AccessMode, BackendScanner, BackendWal, ReadOptions } from '@streamsvc/wal-core';
import { WalError } from '@streamsvc/wal-core';

import { LogScanner } from './log-scanner.js';
import type { LogWriter } from './log-writer.js';
import { positionOf } from './message-ids.js';
import type { LogContext } from './open-writer.js';
import { resolveStart } from './read-start.js';
import { truncateLog } from './truncation.js';

/** What a handle is made of. */
export interface HandleInit {
  readonly ctx: LogContext;
  readonly term: bigint;
  readonly mode: AccessMode;
  /** The writer of a read-write open; undefined for read-only handles. */
  readonly writer: LogWriter | undefined;
  readonly onClose: (handle: WoodpeckerWalHandle) => void;
}

/**
 * A handle on one pchannel's log, read-write or read-only. One class for both modes so that a caller
 * who casts a read-only handle gets READ_ONLY rejections instead of a missing method.
 */
export class WoodpeckerWalHandle implements BackendWal {
  readonly pchannel: string;
  readonly term: bigint;
  readonly mode: AccessMode;
  readonly #init: HandleInit;
  readonly #close = new CloseOnce();
  readonly #scanners = new Set<LogScanner>();
  #truncating: Promise<unknown> = Promise.resolve();

  constructor(init: HandleInit) {
    this.#init = init;
    this.pchannel = init.ctx.pchannel;
    this.term = init.term;
    this.mode = init.mode;
  }

  /**
   * Appends `message` (stamped with `_tt` and a last-confirmed id); resolves with its id once its block
   * and every earlier block are durable (fdatasync / PUT). Concurrent calls share blocks.
   * @throws {WalError} READ_ONLY; CLOSED; FENCED (the handle is then unusable for writes);
   *   INVALID_ARGUMENT for a message that cannot be stored; UNAVAILABLE (retriable: no in-flight room in
   *   time, or the storage failed before the entry was written); OUTCOME_UNKNOWN when the storage failed
   *   and it cannot be told whether the entry landed.
   * Abort: before the entry is in a block, rejects with the abort reason and nothing is written; after,
   *   with OUTCOME_UNKNOWN — the write goes on and may be durable.
   */
  append(message: MutableMessage, call?: CallOptions): Promise<MessageId> {
    let writer: LogWriter;
    try {
      writer = this.#writable('append');
    } catch (e) {
      return Promise.reject(e);
    }
    // A snapshot, not a copy: the entry is written when its block is cut, and later changes to the
    // caller's message must not reach the log (they copy the properties first).
    return writer.append(message.snapshot(), call?.signal);
  }

  /**
   * Deletes every segment entirely before `id`'s segment (metadata first, then data). Records of
   * `id`'s own segment stay, so reads from before `id` may start somewhat earlier than `id`.
   * @throws {WalError} READ_ONLY; CLOSED; FENCED; INVALID_MESSAGE_ID for an id of another backend or
   *   one this log never issued; UNAVAILABLE.
   * Abort: before the call, rejects with the reason and truncates nothing; later aborts are ignored
   *   (truncation is idempotent and quick).
   */
  async truncate(id: MessageId, call?: CallOptions): Promise<void> {
    const writer = this.#writable('truncate');
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    if (writer.fenceError !== undefined) throw writer.fenceError;
    const position = positionOf(id, `truncate on pchannel "${this.pchannel}"`);
    const run = this.#truncating.then(() => truncateLog(this.#init.ctx, writer, position, id.toString()));
    this.#truncating = run.catch(() => {});
    return run;
  }

  /**
   * Starts a read from `options.policy`; the scanner follows the tail until closed.
   * @throws {WalError} CLOSED; INVALID_MESSAGE_ID for an id of another backend or one never issued;
   *   INVALID_ARGUMENT for an unknown policy; UNAVAILABLE.
   * Abort: the signal bounds this call only (an aborted signal rejects with its reason); close the
   *   scanner to stop reading.
   */
  async read(options: ReadOptions, call?: CallOptions): Promise<BackendScanner> {
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    if (this.#close.started) throw WalError.closed(`read on pchannel "${this.pchannel}"`);
    const start = await resolveStart(this.#init.ctx, options?.policy);
    if (this.#close.started) throw WalError.closed(`read on pchannel "${this.pchannel}"`);
    const scanner = new LogScanner(this.#init.ctx, start, (s) => this.#scanners.delete(s));
    this.#scanners.add(scanner);
    return scanner;
  }

  /**
   * Closes the handle: new calls reject with CLOSED; accepted appends are written; the active segment
   * is completed in the metadata; then the handle's scanners end. Idempotent: the same promise.
   */
  close(): Promise<void> {
    return this.#close.run(async () => {
      await this.#init.writer?.close();
      await Promise.all([...this.#scanners].map((s) => s.close()));
      this.#init.onClose(this);
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #writable(op: string): LogWriter {
    const writer = this.#init.writer;
    if (this.mode !== 'rw' || writer === undefined) throw WalError.readOnly(op, this.pchannel);
    if (this.#close.started) throw WalError.closed(`${op} on pchannel "${this.pchannel}"`);
    return writer;
  }
}
