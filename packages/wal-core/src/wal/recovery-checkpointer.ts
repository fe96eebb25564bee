import { systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import type { MessageId, MutableMessage } from '@streamsvc/message';

import type { ReadOnlyBackendWal } from '../spi/backend.js';
import type { RecoveryCheckpoint, RecoveryCheckpointStore } from './recovery-checkpoint.js';
import { affectsRecovery, checkpointOf, replayForRecovery } from './recovery-replay.js';

export interface RecoveryCheckpointerOptions {
  readonly backend: ReadOnlyBackendWal;
  readonly store: RecoveryCheckpointStore;
  readonly pchannel: string;
  readonly term: bigint;
  /** The checkpoint the open took (the state at the term's first tick). */
  readonly initial: RecoveryCheckpoint;
  /** Its save, still running: later saves wait for it, so they are never overwritten by it. */
  readonly initialSave?: Promise<unknown>;
  /** The WAL's current last-confirmed id: every record before it is written, acknowledged and final. */
  readonly lastConfirmed: () => MessageId;
  readonly intervalMs: number;
  readonly defaultTxnKeepaliveMs: number;
  readonly clock?: Clock;
  readonly logger: Logger;
}

/**
 * Keeps a long-lived owner's recovery checkpoint moving, so the next owner replays at most one interval
 * of log instead of everything since this owner opened. Every `intervalMs` (and once at a graceful
 * close) it saves a checkpoint at the WAL's last-confirmed id.
 *
 * Like the open's checkpoint, the state comes from replaying the log — from the previous checkpoint up
 * to the last-confirmed id — never from the live WAL's memory, so an ambiguous append (written, though
 * its caller saw an error) cannot make it wrong. The replay is skipped when no append that could change
 * that state (DDL, transactions: {@link affectsRecovery}) was started since the previous checkpoint or
 * was in flight at it: then the log in between holds only data and ticks, and the state is unchanged.
 * Streams of plain data therefore cost one MetaKV write per interval and no reads.
 */
export class RecoveryCheckpointer {
  readonly #o: RecoveryCheckpointerOptions;
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  #last: RecoveryCheckpoint;
  #loop: Promise<void> | undefined;
  /** Appends that may change recovered state: started in total, and in flight now. */
  #started = 0;
  #inFlight = 0;
  /** The same at the last checkpoint. */
  #startedAtLast = 0;
  #inFlightAtLast = 0;
  #saving: Promise<void>;

  constructor(options: RecoveryCheckpointerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#last = options.initial;
    this.#saving = Promise.resolve(options.initialSave).then(
      () => undefined,
      () => undefined,
    );
  }

  /** The newest checkpoint saved (or being saved). */
  get last(): RecoveryCheckpoint {
    return this.#last;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Call before an append enters the WAL; returns the function to call once it finished (either way),
   * or undefined for appends that cannot change recovered state.
   */
  track(message: MutableMessage): (() => void) | undefined {
    if (!affectsRecovery(message)) return undefined;
    this.#started++;
    this.#inFlight++;
    return () => void this.#inFlight--;
  }

  /**
   * Stops the timer; with `final`, first saves one last checkpoint at the current last-confirmed id
   * (a graceful close: the next owner then replays almost nothing), giving up after `timeoutMs`.
   */
  async stop(options: { final: boolean; timeoutMs: number }): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    if (!options.final) return;
    const signal = AbortSignal.timeout(options.timeoutMs);
    await this.checkpoint(signal).catch((e: unknown) => this.#o.logger.warn({ err: e }, 'final checkpoint not saved'));
  }

  /**
   * Saves a checkpoint at the current last-confirmed id when the log moved past the previous one.
   * One at a time. Abort: stops the replay or the save; the previous checkpoint stays.
   */
  checkpoint(signal?: AbortSignal): Promise<void> {
    const next = this.#saving.then(() => this.#checkpointOnce(signal));
    this.#saving = next.catch(() => undefined);
    return next;
  }

  async #checkpointOnce(signal: AbortSignal | undefined): Promise<void> {
    const position = this.#o.lastConfirmed();
    const last = this.#last;
    if (position.compare(last.position) <= 0) return;
    const started = this.#started;
    const inFlight = this.#inFlight;
    const unchanged = started === this.#startedAtLast && this.#inFlightAtLast === 0;
    let next: RecoveryCheckpoint;
    if (unchanged) {
      next = { ...last, term: this.#o.term, position };
    } else {
      const recovered = await replayForRecovery({
        backend: this.#o.backend,
        checkpoint: last,
        until: position,
        // Keep every unfinished txn: the next open drops the expired ones at its own first tick.
        untilTt: undefined,
        defaultTxnKeepaliveMs: this.#o.defaultTxnKeepaliveMs,
        signal,
      });
      next = checkpointOf(recovered, this.#o.term, position);
    }
    await this.#o.store.save(this.#o.pchannel, next, { signal });
    this.#last = next;
    this.#startedAtLast = started;
    this.#inFlightAtLast = inFlight;
    this.#o.logger.debug({ position: position.toString(), replayed: !unchanged }, 'recovery checkpoint saved');
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        await this.#clock.sleep(this.#o.intervalMs, { signal });
      } catch {
        return;
      }
      await this.checkpoint(signal).catch((e: unknown) => {
        if (!signal.aborted) this.#o.logger.warn({ err: e }, 'recovery checkpoint not saved; retrying next interval');
      });
    }
  }
}
