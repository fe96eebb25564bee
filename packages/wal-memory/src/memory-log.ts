import type { MessageEnvelope } from '@streamsvc/message';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

/**
 * One stored record: its offset (the message id) and a private copy of the message's envelope taken at
 * append time — payload bytes and properties — so later changes to the caller's objects never reach
 * the log, exactly as with a backend that serialises. (A copy, not a protobuf encoding: this backend is
 * also the baseline of the WAL benchmark, and encoding would measure the codec instead.)
 */
export interface StoredRecord {
  readonly offset: bigint;
  readonly envelope: MessageEnvelope;
}

/** Facts about one pchannel's log, for tests and diagnostics. */
export interface MemoryLogStats {
  /** Offset of the first retained record (equals `nextOffset` when none is retained). */
  readonly firstOffset: bigint;
  /** Offset the next append gets. */
  readonly nextOffset: bigint;
  /** Records retained (not truncated or dropped by `maxRecordsPerChannel`). */
  readonly records: number;
  /** The newest term a read-write open used; 0 before the first. */
  readonly writerTerm: bigint;
}

// Compact the record array once at least this many dropped slots (and half the array) accumulated at its
// head: amortised O(1) truncation without `shift()` on every append under a retention limit.
const COMPACT_AFTER = 1024;

/**
 * One pchannel's log: contiguous offsets from `firstOffset` to `nextOffset - 1`, the writer fence, and
 * the readers waiting at the tail. Package-internal; {@link MemoryLogStore} owns the instances.
 */
export class MemoryLog {
  readonly pchannel: string;
  #records: StoredRecord[] = [];
  #head = 0;
  #nextOffset = 0n;
  #writerTerm = 0n;
  // Bumped by every read-write open. A handle may write only while its epoch is the current one; this
  // is the fence (Woodpecker's fence object, Pulsar's exclusive producer) in one integer.
  #writerEpoch = 0;
  #waiters = new Set<() => void>();

  constructor(pchannel: string) {
    this.pchannel = pchannel;
  }

  get firstOffset(): bigint {
    return this.#records[this.#head]?.offset ?? this.#nextOffset;
  }

  get nextOffset(): bigint {
    return this.#nextOffset;
  }

  get stats(): MemoryLogStats {
    return {
      firstOffset: this.firstOffset,
      nextOffset: this.#nextOffset,
      records: this.#records.length - this.#head,
      writerTerm: this.#writerTerm,
    };
  }

  /**
   * Makes the caller the only writer and returns its epoch. Equal terms are allowed (a reopen after a
   * restart under the same assignment) and also take over: a log has at most one live writer.
   * @throws {WalError} FENCED when a writer of a newer term has opened the log.
   */
  claimWriter(term: bigint): number {
    if (term < this.#writerTerm) {
      throw new WalError(
        WalErrorCode.FENCED,
        `pchannel "${this.pchannel}" is owned by term ${this.#writerTerm}; a writer of term ${term} may not open it`,
        { details: { pchannel: this.pchannel, term: String(term), writerTerm: String(this.#writerTerm) } },
      );
    }
    this.#writerTerm = term;
    return ++this.#writerEpoch;
  }

  /** True while `epoch` belongs to the newest read-write open. */
  isCurrentWriter(epoch: number): boolean {
    return epoch === this.#writerEpoch;
  }

  /** The newest term a read-write open used. */
  get writerTerm(): bigint {
    return this.#writerTerm;
  }

  /**
   * Stores `envelope` at the next offset, drops the oldest records beyond `maxRecords`, and wakes every
   * reader waiting at the tail.
   */
  append(envelope: MessageEnvelope, maxRecords: number | undefined): bigint {
    const offset = this.#nextOffset++;
    this.#records.push({ offset, envelope });
    if (maxRecords !== undefined) {
      const excess = this.#records.length - this.#head - maxRecords;
      if (excess > 0) this.#dropHead(excess);
    }
    if (this.#waiters.size > 0) {
      const waiters = [...this.#waiters];
      this.#waiters.clear();
      for (const wake of waiters) wake();
    }
    return offset;
  }

  /** Removes every record before `offset`; an offset at or before the first retained one changes nothing. */
  truncate(offset: bigint): void {
    const drop = offset - this.firstOffset;
    if (drop > 0n) this.#dropHead(Number(drop > BigInt(this.#records.length) ? BigInt(this.#records.length) : drop));
  }

  /** The first retained record at or after `offset`: a position that was truncated starts at the first kept. */
  recordAtOrAfter(offset: bigint): StoredRecord | undefined {
    const first = this.firstOffset;
    const index = offset <= first ? 0 : Number(offset - first);
    return this.#records[this.#head + index];
  }

  /** Calls `wake` once, on the next append. */
  addWaiter(wake: () => void): void {
    this.#waiters.add(wake);
  }

  /** Forgets a waiter that no longer waits (its scanner closed). */
  removeWaiter(wake: () => void): void {
    this.#waiters.delete(wake);
  }

  #dropHead(count: number): void {
    this.#head = Math.min(this.#records.length, this.#head + count);
    // Compact once the dropped slots are at least half the array: a retention limit drops one record
    // per append, and compacting every COMPACT_AFTER drops would copy the whole retained log each time.
    if (
      (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#records.length) ||
      this.#head === this.#records.length
    ) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }
}
