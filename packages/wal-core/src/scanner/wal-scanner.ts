import { CloseOnce, noopLogger } from '@streamsvc/common';
import type { Logger } from '@streamsvc/common';
import { MessageType } from '@streamsvc/message';
import type { AnyImmutableMessage, ImmutableMessage, MessageId } from '@streamsvc/message';

import type { BackendScanner, DeliverPolicy, ReadOnlyBackendWal } from '../spi/backend.js';
import type { WabCursor, WriteAheadBuffer } from '../wab/write-ahead-buffer.js';
import { passes } from './deliver-filter.js';
import type { DeliverFilter } from './deliver-filter.js';
import { ReorderBuffer } from './reorder-buffer.js';
import { TxnBuffer } from './txn-buffer.js';

export interface WalScannerOptions {
  readonly backend: ReadOnlyBackendWal;
  /** The write-ahead buffer of a read-write WAL; without it the scanner only reads the backend. */
  readonly wab?: WriteAheadBuffer | undefined;
  readonly policy: DeliverPolicy;
  /** Deliver only this vchannel's messages (and pchannel-wide ones: time ticks). */
  readonly vchannel?: string | undefined;
  readonly filters?: readonly DeliverFilter[];
  readonly name?: string;
  /**
   * With policy `latest` on a read-write WAL: the last tick allocated when the read was asked for.
   * Messages at or below it were appended before the read and are not delivered.
   */
  readonly latestAfterTt?: bigint | undefined;
  readonly logger?: Logger;
  /** Called once when the scanner closes (the WAL forgets it). */
  readonly onClose?: () => void;
}

type Source =
  | { readonly kind: 'backend'; readonly scanner: BackendScanner; readonly iterator: AsyncIterator<ImmutableMessage> }
  | { readonly kind: 'wab'; readonly cursor: WabCursor };

/**
 * A reader of one WAL that delivers messages in strict time-tick order with no gaps: each message once,
 * transactions as one `Txn` message at their commit tick (rolled-back and expired ones never), time
 * ticks included. It catches up from the backend, switches to the write-ahead buffer once the buffer
 * covers its position, and falls back to the backend — from the last delivered message's
 * last-confirmed id — when the buffer evicted what it needed. Pull-based: it reads only as fast as
 * its consumer takes messages, so a slow consumer costs no memory.
 */
export class WalScanner implements AsyncIterable<AnyImmutableMessage>, AsyncDisposable {
  readonly name: string;
  readonly #backend: ReadOnlyBackendWal;
  readonly #wab: WriteAheadBuffer | undefined;
  readonly #vchannel: string | undefined;
  readonly #filters: readonly DeliverFilter[];
  readonly #log: Logger;
  readonly #onClose: (() => void) | undefined;
  readonly #latestAfterTt: bigint | undefined;
  readonly #reorder = new ReorderBuffer();
  readonly #txns = new TxnBuffer();
  readonly #ready: AnyImmutableMessage[] = [];
  readonly #abort = new AbortController();
  readonly #closer = new CloseOnce();
  #source: Source | undefined;
  /** The first source, opened when the scanner is created so its position is fixed at that moment. */
  #opening: Promise<Source> | undefined;
  #initialPolicy: DeliverPolicy;
  /** The last tick processed: every message at or below it was delivered or filtered out. */
  #lastTick: { readonly tt: bigint; readonly lastConfirmed: MessageId } | undefined;
  #switches = 0;
  #fallbacks = 0;

  constructor(options: WalScannerOptions) {
    this.name = options.name ?? 'scanner';
    this.#backend = options.backend;
    this.#wab = options.wab;
    this.#initialPolicy = options.policy;
    this.#vchannel = options.vchannel;
    this.#filters = options.filters ?? [];
    this.#log = (options.logger ?? noopLogger).child({ component: 'scanner', scanner: this.name });
    this.#onClose = options.onClose;
    this.#latestAfterTt = options.policy.kind === 'latest' ? options.latestAfterTt : undefined;
    this.#opening = this.#open();
    this.#opening.catch(() => undefined); // surfaced by the first next()
  }

  /** Catch-up → buffer switches and buffer → catch-up fallbacks so far (metrics, tests). */
  get stats(): { readonly switches: number; readonly fallbacks: number; readonly mode: string } {
    return { switches: this.#switches, fallbacks: this.#fallbacks, mode: this.#source?.kind ?? 'idle' };
  }

  [Symbol.asyncIterator](): AsyncIterator<AnyImmutableMessage> {
    return { next: () => this.next(), return: async () => (await this.close(), { done: true, value: undefined }) };
  }

  /**
   * The next message. Resolves done after `close()`.
   * @throws {WalError} from the backend (CLOSED when the WAL closed under the reader, CORRUPT...).
   */
  async next(): Promise<IteratorResult<AnyImmutableMessage>> {
    while (this.#ready.length === 0) {
      if (this.#closer.started) return { done: true, value: undefined };
      const batch = await this.#pull();
      if (batch === undefined) {
        await this.close();
        return { done: true, value: undefined };
      }
      for (const message of batch.messages) this.#process(message, batch.sorted);
      const last = batch.messages[batch.messages.length - 1];
      if (!batch.sorted && last?.type === MessageType.TimeTick) await this.#trySwitchToBuffer(last.timeTick);
    }
    return { done: false, value: this.#ready.shift()! };
  }

  /**
   * The next messages: waits for at least one, then takes up to `max` that are ready without waiting.
   * An empty array means the scanner ended (closed). For servers that ship messages in batches.
   * @throws like {@link next}.
   */
  async nextBatch(max = 256): Promise<AnyImmutableMessage[]> {
    const first = await this.next();
    if (first.done) return [];
    const batch = [first.value];
    while (batch.length < max && this.#ready.length > 0) batch.push(this.#ready.shift()!);
    return batch;
  }

  /** Stops reading; a pending `next` resolves done. Idempotent. */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      this.#abort.abort();
      const source = this.#source ?? (await this.#opening?.catch(() => undefined));
      this.#source = undefined;
      this.#opening = undefined;
      if (source?.kind === 'backend') await source.scanner.close();
      this.#onClose?.();
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #pull(): Promise<{ readonly messages: readonly ImmutableMessage[]; readonly sorted: boolean } | undefined> {
    for (;;) {
      if (this.#closer.started) return undefined;
      if (!this.#source) {
        const opening = this.#opening ?? this.#open();
        this.#opening = undefined;
        this.#source = await opening;
        if (this.#closer.started) {
          if (this.#source.kind === 'backend') await this.#source.scanner.close();
          return undefined;
        }
      }
      const source = this.#source;
      if (source.kind === 'backend') {
        const r = await source.iterator.next();
        if (r.done) return undefined;
        return { messages: [r.value], sorted: false };
      }
      let read;
      try {
        read = await source.cursor.next(this.#abort.signal);
      } catch (e) {
        if (this.#abort.signal.aborted) return undefined;
        throw e;
      }
      if (read === undefined) return undefined;
      if (read.kind === 'messages') return { messages: read.messages, sorted: true };
      // Too slow for the buffer: read the backend again from where delivery stopped.
      this.#fallbacks++;
      // Everything up to the last processed tick is done; every message above it (and every txn still
      // open at it) lies at or after that tick's last-confirmed id.
      this.#log.debug(
        { lastTt: this.#lastTick?.tt },
        'write-ahead buffer evicted our position; catching up from the backend',
      );
      this.#source = undefined;
      this.#reorder.clear();
      this.#txns.clear();
      if (this.#lastTick) this.#initialPolicy = { kind: 'startFrom', id: this.#lastTick.lastConfirmed };
    }
  }

  async #open(): Promise<Source> {
    if (this.#wab && this.#initialPolicy.kind === 'latest' && this.#lastTick === undefined) {
      // "Latest" means after the newest tick: that tick is where this reader stands from now on.
      const tick = this.#wab.lastTick;
      const cursor = this.#wab.readAfter(tick.timeTick);
      if (cursor) {
        this.#lastTick = { tt: tick.timeTick, lastConfirmed: tick.lastConfirmed };
        return { kind: 'wab', cursor };
      }
    }
    const scanner = await this.#backend.read(
      { policy: this.#initialPolicy, name: this.name },
      { signal: this.#abort.signal },
    );
    return { kind: 'backend', scanner, iterator: scanner[Symbol.asyncIterator]() };
  }

  /** After a tick read from the backend: move to the buffer if it holds everything after the tick. */
  async #trySwitchToBuffer(tt: bigint): Promise<void> {
    const cursor = this.#wab?.readAfter(tt);
    const source = this.#source;
    if (!cursor || source?.kind !== 'backend') return;
    this.#source = { kind: 'wab', cursor };
    this.#switches++;
    // Messages above the tick that were read ahead come again from the buffer; open txns stay open.
    this.#reorder.clear();
    await source.scanner.close();
  }

  /** `sorted`: the message comes from the buffer, already in tt order (no reordering needed). */
  #process(raw: ImmutableMessage, sorted: boolean): void {
    if (this.#vchannel !== undefined && raw.vchannel !== undefined && raw.vchannel !== this.#vchannel) return;
    if (raw.type !== MessageType.TimeTick) {
      if (sorted) this.#emit(this.#txns.process(raw));
      else this.#reorder.push(raw);
      return;
    }
    for (const m of this.#reorder.release(raw.timeTick)) this.#emit(this.#txns.process(m));
    this.#emit(this.#txns.process(raw));
    if (this.#lastTick === undefined || raw.timeTick > this.#lastTick.tt) {
      this.#lastTick = { tt: raw.timeTick, lastConfirmed: raw.lastConfirmed };
    }
  }

  #emit(message: AnyImmutableMessage | undefined): void {
    if (message === undefined) return;
    // At or below the last processed tick: already handled (a fallback re-reads from a last-confirmed id).
    if (this.#lastTick !== undefined && message.timeTick <= this.#lastTick.tt) return;
    if (this.#latestAfterTt !== undefined && message.timeTick <= this.#latestAfterTt) return;
    if (passes(message, this.#filters)) this.#ready.push(message);
  }
}
