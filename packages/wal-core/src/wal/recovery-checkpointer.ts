import { systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import type { MessageId, MutableMessage } from '@streamsvc/message';

import type { DeliverPolicy, ReadOnlyBackendWal } from '../spi/backend.js';
import type { RecoveryCheckpoint, RecoveryCheckpointStore } from './recovery-checkpoint.js';
import { affectsRecovery, checkpointOf, ReplayState } from './recovery-replay.js';

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

/** Where one append that can change recovered state may have put its record. */
interface Window {
  /** The last-confirmed id when it started: its record (if any) comes after. */
  readonly from: MessageId;
  /** Its record's id once it succeeded. */
  through: MessageId | undefined;
  state: 'in-flight' | 'written' | 'failed';
}

/**
 * Keeps a long-lived owner's recovery checkpoint moving, so the next owner replays at most one interval
 * of log instead of everything since this owner opened. Every `intervalMs` (and once at a graceful
 * close) it saves a checkpoint at the WAL's last-confirmed id.
 *
 * Like the open's checkpoint, the state comes from the log, never from the live WAL's memory, so an
 * append whose caller saw an error but that was written anyway counts as the log has it. It replays
 * only where the state can have changed: every append that can change it (DDL, transactions:
 * {@link affectsRecovery}) is tracked from the last-confirmed id at its start to its record's id, and
 * only those windows are read — everything between them is data and ticks. A stream of plain data costs
 * one MetaKV write per interval and no reads. An append of that kind that fails leaves its record's
 * place unknown (the write may have landed): until a later successful append bounds it, checkpoints
 * replay the whole interval.
 */
export class RecoveryCheckpointer {
  readonly #o: RecoveryCheckpointerOptions;
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  #last: RecoveryCheckpoint;
  #loop: Promise<void> | undefined;
  #windows: Window[] = [];
  /**
   * Set by a failed tracked append: the log may hold its record anywhere after `from`. Cleared once a
   * checkpoint's position is past `bound`, the id of an append that started after the failure.
   */
  #unbounded: { failures: number; bound: MessageId | undefined } | undefined;
  #failures = 0;
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
   * Call when an append enters the WAL; returns the function to call when it finished, with its
   * record's id on success and undefined on failure. Appends that cannot change recovered state only
   * matter after a failure (one of them bounds where the failed record can be).
   */
  track(message: MutableMessage): ((id: MessageId | undefined) => void) | undefined {
    // Without periodic checkpoints windows would pile up for the WAL's whole life: the one checkpoint
    // at close then replays the whole term instead.
    if (this.#o.intervalMs === 0) return undefined;
    if (!affectsRecovery(message)) {
      const unbounded = this.#unbounded;
      if (unbounded === undefined || unbounded.bound !== undefined) return undefined;
      const failures = this.#failures;
      return (id) => {
        // Started after the latest failure and written: every record of that failure is before it.
        if (id !== undefined && this.#unbounded === unbounded && failures === this.#failures) unbounded.bound ??= id;
      };
    }
    const window: Window = { from: this.#o.lastConfirmed(), through: undefined, state: 'in-flight' };
    this.#windows.push(window);
    return (id) => {
      if (id !== undefined) {
        window.through = id;
        window.state = 'written';
        return;
      }
      window.state = 'failed';
      this.#failures++;
      this.#unbounded = { failures: this.#failures, bound: undefined };
    };
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
    // Every record before `position` is written and final: a window whose record is before it is
    // settled; an in-flight append's record cannot be (the last-confirmed id does not pass it).
    const unbounded = this.#unbounded;
    const full = unbounded !== undefined || this.#o.intervalMs === 0;
    const settled = this.#windows.filter(
      (w) => w.state === 'failed' || (w.state === 'written' && w.through!.compare(position) < 0),
    );
    const state = ReplayState.from(last);
    const replay = {
      backend: this.#o.backend,
      until: position,
      defaultTxnKeepaliveMs: this.#o.defaultTxnKeepaliveMs,
      signal,
    };
    let replayed = 0;
    if (full) {
      replayed = await state.replay({ ...replay, policy: { kind: 'startFrom', id: last.position } });
    } else {
      // In id order of where each window starts; a window inside one already read is skipped.
      let readThrough: MessageId | undefined;
      for (const w of settled.sort((a, b) => a.from.compare(b.from))) {
        if (readThrough !== undefined && w.through!.compare(readThrough) <= 0) continue;
        const policy: DeliverPolicy =
          readThrough !== undefined && w.from.compare(readThrough) <= 0
            ? { kind: 'startAfter', id: readThrough }
            : { kind: 'startFrom', id: w.from.compare(last.position) > 0 ? w.from : last.position };
        replayed += await state.replay({ ...replay, policy, through: w.through });
        readThrough = w.through;
      }
    }
    const next = checkpointOf(state.result(replayed, undefined), this.#o.term, position);
    await this.#o.store.save(this.#o.pchannel, next, { signal });
    this.#last = next;
    const done = new Set(settled);
    this.#windows = this.#windows.filter((w) => !done.has(w));
    // A full replay up to a position past the bound covered every record of the failures before it.
    const bound = unbounded?.bound;
    if (unbounded === this.#unbounded && bound !== undefined && bound.compare(position) < 0) {
      this.#unbounded = undefined;
    }
    this.#o.logger.debug({ position: position.toString(), replayed, full }, 'recovery checkpoint saved');
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
