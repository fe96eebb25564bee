import { CloseOnce, noopLogger, systemClock } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import { StreamingError } from '@streamsvc/message';
import { Wal } from '@streamsvc/wal-core';
import type { AppendInterceptor, RecoveryCheckpointStore, WalConfig, WalOpener, WalTso } from '@streamsvc/wal-core';

export interface WalManagerOptions {
  readonly opener: WalOpener;
  /** The node's TSO allocator, shared by every WAL of the node. */
  readonly tso: WalTso;
  readonly walConfig?: WalConfig;
  /** Extension interceptors for each WAL (the shard/segment interceptor). */
  readonly interceptors?: (pchannel: string) => readonly AppendInterceptor[];
  /** Recovery checkpoints shared by every owner of the pchannels (MetaKV): opens replay only since the last one. */
  readonly checkpoints?: RecoveryCheckpointStore;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/** One pchannel's WAL as the node reports it. */
export interface WalState {
  readonly pchannel: string;
  readonly term: bigint;
  readonly state: 'opening' | 'open' | 'closing' | 'fenced';
  readonly latestTimeTick: bigint | undefined;
  readonly lastConfirmed: string | undefined;
}

interface Slot {
  /** What the coordinator wants: the newest term it named, and whether the WAL should be open. */
  desiredTerm: bigint;
  desiredOpen: boolean;
  /** One change at a time per pchannel: opens and closes run on this chain in order. */
  work: Promise<void>;
  wal: Wal | undefined;
  opening: bigint | undefined;
}

/**
 * The WALs this node owns. The coordinator states desires — "pchannel P open under term T", "P closed
 * under term T" — and one serial worker per pchannel converges to the newest of them: a request under
 * an older term than one already seen is ignored (IGNORED_OPERATION), so a late, reordered command can
 * never reopen an old term.
 */
export class WalManager implements AsyncDisposable {
  readonly #o: WalManagerOptions;
  readonly #log: Logger;
  readonly #slots = new Map<string, Slot>();
  readonly #closer = new CloseOnce();

  constructor(options: WalManagerOptions) {
    this.#o = options;
    this.#log = (options.logger ?? noopLogger).child({ component: 'wal-manager' });
  }

  /**
   * Opens `pchannel` under `term` (closing an older term's WAL first); resolves when it accepts appends.
   * @throws {StreamingError} IGNORED_OPERATION when a newer term was already requested; ON_SHUTDOWN;
   *   CHANNEL_FENCED when the backend says an even newer owner exists; INNER for backend failures.
   * Abort: stops waiting; the open may still complete.
   */
  async assign(pchannel: string, term: bigint, options: CallOptions = {}): Promise<void> {
    this.#throwIfClosing();
    const slot = this.#slot(pchannel);
    if (term < slot.desiredTerm || (term === slot.desiredTerm && !slot.desiredOpen)) {
      throw new StreamingError(
        'IGNORED_OPERATION',
        `assign of ${pchannel} under term ${term} is stale (current ${slot.desiredTerm})`,
      );
    }
    slot.desiredTerm = term;
    slot.desiredOpen = true;
    const done = this.#enqueue(pchannel, slot, () => this.#converge(pchannel, slot, options.signal));
    await done;
    const wal = slot.wal;
    if (!wal || wal.term !== term) {
      throw new StreamingError('IGNORED_OPERATION', `assign of ${pchannel} under term ${term} was superseded`);
    }
  }

  /**
   * Closes `pchannel` if it is open under `term` or an older one (graceful: in-flight appends finish).
   * @throws {StreamingError} IGNORED_OPERATION when a newer term was already requested.
   */
  async remove(pchannel: string, term: bigint): Promise<void> {
    const slot = this.#slot(pchannel);
    if (term < slot.desiredTerm) {
      throw new StreamingError(
        'IGNORED_OPERATION',
        `remove of ${pchannel} under term ${term} is stale (current ${slot.desiredTerm})`,
      );
    }
    slot.desiredTerm = term;
    slot.desiredOpen = false;
    await this.#enqueue(pchannel, slot, () => this.#converge(pchannel, slot, undefined));
  }

  /**
   * The WAL serving `pchannel`; `term` 0 accepts whatever term is open, any other must match.
   * @throws {StreamingError} CHANNEL_NOT_EXIST (not open here), UNMATCHED_CHANNEL_TERM, CHANNEL_FENCED,
   *   ON_SHUTDOWN.
   */
  get(pchannel: string, term = 0n): Wal {
    if (this.#closer.started) throw new StreamingError('ON_SHUTDOWN', 'the node is shutting down');
    const slot = this.#slots.get(pchannel);
    const wal = slot?.wal;
    if (!slot || !wal) {
      throw new StreamingError('CHANNEL_NOT_EXIST', `pchannel ${pchannel} is not open on this node`, {
        details: { pchannel },
      });
    }
    if (term !== 0n && term !== wal.term) {
      throw new StreamingError(
        'UNMATCHED_CHANNEL_TERM',
        `pchannel ${pchannel} is open under term ${wal.term}, not ${term}`,
        {
          details: { pchannel, term: String(wal.term) },
        },
      );
    }
    if (!wal.available) {
      throw new StreamingError('CHANNEL_FENCED', `pchannel ${pchannel} term ${wal.term} is fenced or closing`, {
        details: { pchannel },
      });
    }
    return wal;
  }

  /** Every pchannel this node holds or is opening. */
  status(): WalState[] {
    const out: WalState[] = [];
    for (const [pchannel, slot] of this.#slots) {
      const wal = slot.wal;
      if (wal) {
        out.push({
          pchannel,
          term: wal.term,
          state: wal.available ? 'open' : slot.desiredOpen ? 'fenced' : 'closing',
          latestTimeTick: wal.latestTimeTick,
          lastConfirmed: wal.lastConfirmedId?.toString(),
        });
      } else if (slot.opening !== undefined) {
        out.push({
          pchannel,
          term: slot.opening,
          state: 'opening',
          latestTimeTick: undefined,
          lastConfirmed: undefined,
        });
      }
    }
    return out;
  }

  /** Closes every WAL (gracefully); later calls answer ON_SHUTDOWN. Idempotent. */
  close(): Promise<void> {
    return this.#closer.run(async () => {
      await Promise.allSettled(
        [...this.#slots.entries()].map(([pchannel, slot]) => {
          slot.desiredOpen = false;
          return this.#enqueue(pchannel, slot, () => this.#converge(pchannel, slot, undefined));
        }),
      );
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #slot(pchannel: string): Slot {
    let slot = this.#slots.get(pchannel);
    if (!slot) {
      slot = { desiredTerm: 0n, desiredOpen: false, work: Promise.resolve(), wal: undefined, opening: undefined };
      this.#slots.set(pchannel, slot);
    }
    return slot;
  }

  #enqueue(pchannel: string, slot: Slot, step: () => Promise<void>): Promise<void> {
    const run = slot.work.then(step);
    slot.work = run.catch((e: unknown) => this.#log.warn({ pchannel, err: e }, 'wal state change failed'));
    return run;
  }

  /** Brings the slot to its desired state as it is when this step runs (later desires win). */
  async #converge(pchannel: string, slot: Slot, signal: AbortSignal | undefined): Promise<void> {
    const current = slot.wal;
    const wantOpen = slot.desiredOpen && !this.#closer.started;
    if (current && (!wantOpen || current.term !== slot.desiredTerm || !current.available)) {
      slot.wal = undefined;
      this.#log.info({ pchannel, term: String(current.term) }, 'closing wal');
      await current.close();
    }
    if (!wantOpen || slot.wal) return;
    const term = slot.desiredTerm;
    slot.opening = term;
    try {
      this.#log.info({ pchannel, term: String(term) }, 'opening wal');
      slot.wal = await Wal.open({
        opener: this.#o.opener,
        pchannel,
        term,
        tso: this.#o.tso,
        config: this.#o.walConfig,
        interceptors: this.#o.interceptors?.(pchannel),
        checkpoints: this.#o.checkpoints,
        logger: this.#o.logger,
        clock: this.#o.clock ?? systemClock,
        signal,
      });
    } finally {
      slot.opening = undefined;
    }
  }

  #throwIfClosing(): void {
    if (this.#closer.started) throw new StreamingError('ON_SHUTDOWN', 'the node is shutting down');
  }
}
