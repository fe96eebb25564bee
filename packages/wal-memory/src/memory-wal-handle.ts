import { abortReason, CloseOnce } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import { PropertyKey } from '@streamsvc/message';
import type { MessageEnvelope, MessageId, MutableMessage } from '@streamsvc/message';
import type { AccessMode, BackendScanner, BackendWal, DeliverPolicy, ReadOptions } from '@streamsvc/wal-core';
import { outcomeUnknownOnAbort, WalError, WalErrorCode } from '@streamsvc/wal-core';
import type { MemoryLog } from './memory-log.js';
import { MemoryScanner } from './memory-scanner.js';
import { memoryMessageIds, offsetOf } from './message-ids.js';

/** What a handle needs from its opener. */
export interface HandleInit {
  readonly log: MemoryLog;
  readonly term: bigint;
  readonly mode: AccessMode;
  /** The writer epoch from `MemoryLog.claimWriter`; undefined for read-only handles. */
  readonly epoch: number | undefined;
  readonly appendLatencyMs: number;
  readonly maxRecordsPerChannel: number | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onClose: (handle: MemoryWalHandle) => void;
}

/**
 * A handle on one pchannel of the memory backend, read-write or read-only. One class for both modes so
 * that a caller who casts a read-only handle gets READ_ONLY rejections instead of a missing method.
 */
export class MemoryWalHandle implements BackendWal {
  readonly pchannel: string;
  readonly term: bigint;
  readonly mode: AccessMode;
  readonly #init: HandleInit;
  readonly #close = new CloseOnce();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #scanners = new Set<MemoryScanner>();

  constructor(init: HandleInit) {
    this.#init = init;
    this.pchannel = init.log.pchannel;
    this.term = init.term;
    this.mode = init.mode;
  }

  /**
   * Appends `message` (stamped with `_tt` and a last-confirmed id). The log keeps a snapshot taken at
   * the call, so later changes to the object do not reach it (payload bytes are shared: messages never
   * mutate them). With `appendLatencyMs` the record is written
   * after a random 50–150 % of it; ids follow completion order.
   * @throws {WalError} READ_ONLY; CLOSED; FENCED when a newer read-write open took the log over (checked
   *   again when the write lands, so a fenced writer's in-flight append never reaches the log);
   *   INVALID_ARGUMENT for a message without `_tt`/last-confirmed id or one that cannot be stored.
   * Abort: before the call, rejects with the abort reason and nothing is written; while the simulated
   *   write is in flight, rejects with OUTCOME_UNKNOWN — and the write still lands, as on real storage.
   */
  async append(message: MutableMessage, call?: CallOptions): Promise<MessageId> {
    this.#checkWritable('append', call);
    const envelope = this.#snapshot(message);
    const latencyMs = this.#init.appendLatencyMs;
    if (latencyMs === 0) return this.#commit(envelope);
    const write = this.#init.clock.sleep(latencyMs * (0.5 + Math.random())).then(() => this.#commit(envelope));
    this.#inFlight.add(write);
    const forget = (): void => void this.#inFlight.delete(write);
    write.then(forget, forget);
    return outcomeUnknownOnAbort(write, call?.signal, this.pchannel);
  }

  /**
   * Drops every record before `id`; reads positioned before it continue at `id`. Truncating to an id
   * at or before the first retained record does nothing.
   * @throws {WalError} READ_ONLY; CLOSED; FENCED; INVALID_MESSAGE_ID for an id of another backend or one
   *   this log never issued. Abort: before the call, rejects with the abort reason and truncates nothing.
   */
  async truncate(id: MessageId, call?: CallOptions): Promise<void> {
    this.#checkWritable('truncate', call);
    const offset = this.#issuedOffset(id, 'truncate');
    this.#init.log.truncate(offset);
    this.#init.logger.debug({ offset: String(offset) }, 'truncated');
  }

  /**
   * Starts a read from `options.policy`; the scanner follows the tail until closed. `all` starts at the
   * first retained record; `startFrom`/`startAfter` an id before it start there too.
   * @throws {WalError} CLOSED; INVALID_MESSAGE_ID for an id of another backend or one this log never
   *   issued; INVALID_ARGUMENT for an unknown policy. Abort: the signal bounds this call only (an
   *   aborted signal rejects with its reason); close the scanner to stop reading.
   */
  async read(options: ReadOptions, call?: CallOptions): Promise<BackendScanner> {
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    if (this.#close.started) throw WalError.closed(`read on pchannel "${this.pchannel}"`);
    const start = this.#startOffset(options?.policy);
    const scanner = new MemoryScanner(this.#init.log, start, (s) => this.#scanners.delete(s));
    this.#scanners.add(scanner);
    return scanner;
  }

  /**
   * Closes the handle: new calls reject with CLOSED, appends already accepted finish (they were sent),
   * then the handle's scanners end. Idempotent: the same promise every time.
   */
  close(): Promise<void> {
    return this.#close.run(async () => {
      await Promise.allSettled([...this.#inFlight]);
      await Promise.all([...this.#scanners].map((s) => s.close()));
      this.#init.onClose(this);
      this.#init.logger.debug('closed');
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkWritable(op: string, call: CallOptions | undefined): void {
    if (this.mode !== 'rw') throw WalError.readOnly(op, this.pchannel);
    if (this.#close.started) throw WalError.closed(`${op} on pchannel "${this.pchannel}"`);
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    this.#checkNotFenced(op);
  }

  #checkNotFenced(op: string): void {
    const epoch = this.#init.epoch;
    if (epoch === undefined || !this.#init.log.isCurrentWriter(epoch)) {
      throw new WalError(
        WalErrorCode.FENCED,
        `${op} on pchannel "${this.pchannel}" under term ${this.term}: a newer writer (term ${this.#init.log.writerTerm}) took over`,
        { details: { pchannel: this.pchannel, term: String(this.term) } },
      );
    }
  }

  #snapshot(message: MutableMessage): MessageEnvelope {
    try {
      // Refuse what could be stored but never read back as an immutable message — no time tick or no
      // last-confirmed id — at the append, where the caller can see why. A presence check, not a full
      // rebuild: this runs on every append and the properties were validated when the message was built.
      const props = message.properties;
      if (!props.has(PropertyKey.TimeTick)) throw new Error('it has no time tick (_tt)');
      if (!props.has(PropertyKey.LastConfirmed) && !props.has(PropertyKey.LastConfirmedSelf)) {
        throw new Error('it has no last-confirmed id (_lc or _lcs)');
      }
      return message.snapshot();
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new WalError(
        WalErrorCode.INVALID_ARGUMENT,
        `append on pchannel "${this.pchannel}": the message cannot be stored: ${why}`,
        {
          cause,
        },
      );
    }
  }

  #commit(envelope: MessageEnvelope): MessageId {
    // The fence is checked where the record lands, like a conditional write on real storage.
    this.#checkNotFenced('append');
    return memoryMessageIds.of(this.#init.log.append(envelope, this.#init.maxRecordsPerChannel));
  }

  #issuedOffset(id: MessageId, op: string): bigint {
    const offset = offsetOf(id, `${op} on pchannel "${this.pchannel}"`);
    if (offset >= this.#init.log.nextOffset) {
      throw new WalError(
        WalErrorCode.INVALID_MESSAGE_ID,
        `${op} on pchannel "${this.pchannel}": id ${id.toString()} was never issued by this log (next offset ${this.#init.log.nextOffset})`,
      );
    }
    return offset;
  }

  #startOffset(policy: DeliverPolicy | undefined): bigint {
    switch (policy?.kind) {
      case 'all':
        return 0n;
      case 'latest':
        return this.#init.log.nextOffset;
      case 'startFrom':
        return this.#issuedOffset(policy.id, 'read startFrom');
      case 'startAfter':
        return this.#issuedOffset(policy.id, 'read startAfter') + 1n;
      case undefined:
        throw new WalError(WalErrorCode.INVALID_ARGUMENT, `read on pchannel "${this.pchannel}" needs a deliver policy`);
      default:
        throw new WalError(
          WalErrorCode.INVALID_ARGUMENT,
          `read on pchannel "${this.pchannel}": unknown deliver policy ${JSON.stringify((policy as { kind: unknown }).kind)}`,
        );
    }
  }
}
