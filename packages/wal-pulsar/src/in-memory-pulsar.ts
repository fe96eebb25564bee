import { abortReason, CloseOnce } from '@streamsvc/common';
import type { CallOptions } from '@streamsvc/common';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import { pulsarMessageIds } from './pulsar-message-id.js';
import type { PulsarMessageId } from './pulsar-message-id.js';
import type {
  PulsarPort,
  PulsarPortMessage,
  PulsarPortProducer,
  PulsarPortReader,
  PulsarProducerOptions,
  PulsarReadStart,
} from './pulsar-port.js';

/** Options of {@link InMemoryPulsar}. */
export interface InMemoryPulsarOptions {
  /** A ledger rolls after this many entries (Pulsar: `managedLedgerMaxEntriesPerLedger`, 50000). Default 1000. */
  readonly maxEntriesPerLedger?: number;
}

/** Facts about one topic of an {@link InMemoryPulsar}, for tests. */
export interface InMemoryTopicStats {
  /** Messages still stored (not deleted by truncation). */
  readonly messages: number;
  /** Ledgers still stored. */
  readonly ledgers: number;
  /** Producers created on the topic so far (each fenced its predecessor). */
  readonly producerEpoch: number;
  /** Where the truncation cursor stands, if it was ever moved. */
  readonly truncatedBefore: PulsarMessageId | undefined;
}

interface Entry {
  readonly id: PulsarMessageId;
  readonly payload: Uint8Array;
  readonly properties: Readonly<Record<string, string>>;
}

interface Ledger {
  readonly ledgerId: bigint;
  readonly entries: Entry[];
}

/**
 * A model of a Pulsar broker implementing {@link PulsarPort}, for tests and for running the backend
 * without Pulsar. Several openers given one instance see the same topics, like nodes of a cluster.
 *
 * What it models, faithfully enough for the conformance suites:
 * - **ExclusiveWithFencing producers.** Each `createProducer` fences the topic's previous producer: its
 *   later sends, and sends it had not completed, reject with FENCED (Pulsar's `ProducerFenced`).
 * - **Ledgers.** A topic is a list of ledgers; every new producer opens a new ledger (a new owner's
 *   managed ledger rolls on recovery) and a ledger rolls after `maxEntriesPerLedger` entries. Ids are
 *   (ledger, entry), so they compare across ledgers as on a broker.
 * - **Readers** from earliest, latest, or an id, inclusive or exclusive, that wait at the tail for the
 *   next message (woken by the publish, no polling).
 * - **Truncation** by a cursor: whole ledgers entirely before the cursor are deleted; readers positioned
 *   in a deleted ledger continue at the first stored message.
 * Every stored payload and property map is a private copy.
 */
export class InMemoryPulsar implements PulsarPort {
  readonly #maxEntriesPerLedger: number;
  readonly #topics = new Map<string, TopicLog>();
  readonly #close = new CloseOnce();
  readonly #readers = new Set<MemoryReader>();
  #nextLedgerId = 1n;

  /** @throws {WalError} INVALID_ARGUMENT for a `maxEntriesPerLedger` that is not a positive integer. */
  constructor(options: InMemoryPulsarOptions = {}) {
    const max = options.maxEntriesPerLedger ?? 1000;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new WalError(WalErrorCode.INVALID_ARGUMENT, `maxEntriesPerLedger must be a positive integer, got ${max}`);
    }
    this.#maxEntriesPerLedger = max;
  }

  /** The topics that exist, sorted. */
  get topics(): readonly string[] {
    return [...this.#topics.keys()].sort();
  }

  /** Facts about `topic`, or undefined when it does not exist. */
  stats(topic: string): InMemoryTopicStats | undefined {
    const log = this.#topics.get(topic);
    if (log === undefined) return undefined;
    return {
      messages: log.ledgers.reduce((n, l) => n + l.entries.length, 0),
      ledgers: log.ledgers.length,
      producerEpoch: log.producerEpoch,
      truncatedBefore: log.cursor,
    };
  }

  async createProducer(topic: string, options: PulsarProducerOptions, call?: CallOptions): Promise<PulsarPortProducer> {
    this.#check('createProducer', call);
    const log = this.#topic(topic);
    const epoch = ++log.producerEpoch;
    log.rollLedger(this.#newLedgerId());
    return new MemoryProducer(
      log,
      epoch,
      options.producerName ?? `producer-${epoch}`,
      () => this.#newLedgerId(),
      this.#maxEntriesPerLedger,
      () => this.#close.started,
    );
  }

  async createReader(topic: string, start: PulsarReadStart, call?: CallOptions): Promise<PulsarPortReader> {
    this.#check('createReader', call);
    const log = this.#topic(topic);
    const reader = new MemoryReader(log, log.startPosition(start), (r) => this.#readers.delete(r));
    this.#readers.add(reader);
    return reader;
  }

  async lastMessage(topic: string, call?: CallOptions): Promise<PulsarPortMessage | undefined> {
    this.#check('lastMessage', call);
    const last = this.#topics.get(topic)?.lastEntry();
    return last === undefined ? undefined : copyOut(last);
  }

  async truncate(topic: string, id: PulsarMessageId, call?: CallOptions): Promise<void> {
    this.#check('truncate', call);
    this.#topic(topic).truncate(id);
  }

  /** Closes every reader (pending reads reject with CLOSED); producers' later sends reject with CLOSED. */
  close(): Promise<void> {
    return this.#close.run(async () => {
      await Promise.all([...this.#readers].map((r) => r.close()));
    });
  }

  #check(op: string, call: CallOptions | undefined): void {
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    if (this.#close.started) throw WalError.closed(`${op} on the in-memory pulsar`);
  }

  #topic(topic: string): TopicLog {
    if (typeof topic !== 'string' || topic === '') {
      throw new WalError(WalErrorCode.INVALID_ARGUMENT, 'a pulsar topic name must be a non-empty string');
    }
    let log = this.#topics.get(topic);
    if (log === undefined) {
      log = new TopicLog(topic);
      this.#topics.set(topic, log);
    }
    return log;
  }

  #newLedgerId(): bigint {
    return this.#nextLedgerId++;
  }
}

/** A reader position: the index of the next entry in the topic's logical sequence of stored entries. */
type Position = { readonly after: PulsarMessageId | undefined; readonly inclusive: boolean };

/** One topic: ledgers, producer fence, truncation cursor, readers waiting at the tail. */
class TopicLog {
  readonly ledgers: Ledger[] = [];
  producerEpoch = 0;
  cursor: PulsarMessageId | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(readonly name: string) {}

  rollLedger(ledgerId: bigint): void {
    // An empty current ledger is replaced: Pulsar does not keep empty ledgers around.
    if (this.ledgers.at(-1)?.entries.length === 0) this.ledgers.pop();
    this.ledgers.push({ ledgerId, entries: [] });
  }

  append(
    payload: Uint8Array,
    properties: Readonly<Record<string, string>>,
    newLedgerId: () => bigint,
    maxEntries: number,
  ): PulsarMessageId {
    let ledger = this.ledgers.at(-1);
    if (ledger === undefined || ledger.entries.length >= maxEntries) {
      this.rollLedger(newLedgerId());
      ledger = this.ledgers.at(-1)!;
    }
    const id = pulsarMessageIds.of(ledger.ledgerId, BigInt(ledger.entries.length));
    ledger.entries.push({ id, payload: Uint8Array.from(payload), properties: { ...properties } });
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
    return id;
  }

  lastEntry(): Entry | undefined {
    for (let i = this.ledgers.length - 1; i >= 0; i--) {
      const last = this.ledgers[i]!.entries.at(-1);
      if (last !== undefined) return last;
    }
    return undefined;
  }

  startPosition(start: PulsarReadStart): Position {
    switch (start.kind) {
      case 'earliest':
        return { after: undefined, inclusive: true };
      case 'latest':
        return { after: this.lastEntry()?.id, inclusive: false };
      case 'id':
        return { after: start.id, inclusive: start.inclusive };
    }
  }

  /** The first stored entry at (inclusive) or after `position`. Linear in ledgers, binary within one. */
  entryAt(position: Position): Entry | undefined {
    for (const ledger of this.ledgers) {
      const entries = ledger.entries;
      const last = entries.at(-1);
      if (last === undefined) continue;
      const from = position.after;
      if (from === undefined) return entries[0];
      const c = last.id.compare(from);
      if (c < 0 || (c === 0 && !position.inclusive)) continue;
      let lo = 0;
      let hi = entries.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const m = entries[mid]!.id.compare(from);
        if (m > 0 || (m === 0 && position.inclusive)) hi = mid;
        else lo = mid + 1;
      }
      return entries[lo];
    }
    return undefined;
  }

  truncate(id: PulsarMessageId): void {
    if (this.cursor === undefined || id.compare(this.cursor) > 0) this.cursor = id;
    // Whole ledgers only, and never the current one: like the broker's managed ledger trimming.
    while (this.ledgers.length > 1) {
      const last = this.ledgers[0]!.entries.at(-1);
      if (last !== undefined && last.id.compare(id) >= 0) break;
      this.ledgers.shift();
    }
  }

  addWaiter(wake: () => void): void {
    this.#waiters.add(wake);
  }

  removeWaiter(wake: () => void): void {
    this.#waiters.delete(wake);
  }
}

class MemoryProducer implements PulsarPortProducer {
  #closed = false;

  constructor(
    private readonly log: TopicLog,
    private readonly epoch: number,
    readonly name: string,
    private readonly newLedgerId: () => bigint,
    private readonly maxEntries: number,
    private readonly portClosed: () => boolean,
  ) {}

  async send(payload: Uint8Array, properties: Readonly<Record<string, string>>): Promise<PulsarMessageId> {
    if (this.#closed || this.portClosed()) throw WalError.closed(`send of producer "${this.name}"`);
    // Checked where the message lands, like the broker's check of the producer on every publish.
    if (this.epoch !== this.log.producerEpoch) {
      throw new WalError(
        WalErrorCode.FENCED,
        `producer "${this.name}" of topic "${this.log.name}" was fenced by a newer exclusive producer (ProducerFenced)`,
        { details: { topic: this.log.name } },
      );
    }
    return this.log.append(payload, properties, this.newLedgerId, this.maxEntries);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

class MemoryReader implements PulsarPortReader {
  #position: Position;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(
    private readonly log: TopicLog,
    start: Position,
    private readonly onClose: (r: MemoryReader) => void,
  ) {
    this.#position = start;
  }

  async readNext(call?: CallOptions): Promise<PulsarPortMessage> {
    const signal = call?.signal;
    for (;;) {
      if (this.#closed) throw WalError.closed(`readNext on topic "${this.log.name}"`);
      if (signal?.aborted === true) throw abortReason(signal);
      const entry = this.log.entryAt(this.#position);
      if (entry !== undefined) {
        this.#position = { after: entry.id, inclusive: false };
        return copyOut(entry);
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal?.removeEventListener('abort', wake);
          this.log.removeWaiter(wake);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = wake;
        this.log.addWaiter(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.onClose(this);
  }
}

function copyOut(entry: Entry): PulsarPortMessage {
  return { id: entry.id, payload: Uint8Array.from(entry.payload), properties: { ...entry.properties } };
}
