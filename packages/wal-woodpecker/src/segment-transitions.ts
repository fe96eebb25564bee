import type { Logger } from '@streamsvc/common';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { WoodpeckerSettings } from './config.js';
import { fencedError } from './errors.js';
import type { InflightBlocks } from './inflight-blocks.js';
import { openSegment, recordedEnd, sealSegment } from './segment-steps.js';
import type { ActiveSegment, CutBlock, StepContext } from './segment-steps.js';
import type { LogTail } from './tail-hub.js';

/** What the transitions need of the writer's open: the steps' context, its settings, tail and logger. */
export interface TransitionContext extends StepContext {
  readonly settings: WoodpeckerSettings;
  readonly tail: LogTail;
  readonly logger: Logger;
}

/**
 * How a transition ends, applied by the writer at once (in the same turn as the transition's last
 * step, so that nothing runs in between).
 */
export interface TransitionOutcomes {
  /** The next segment is open: writing goes on. */
  opened(): void;
  /** A roll or repair failed: fail what is queued with `notWritten`, and every append until a retry succeeds. */
  broken(notWritten: WalError): void;
  /** A newer writer took over: stop for good, failing everything with `error`. */
  fenced(error: WalError): void;
}

/**
 * A writer's active segment and the transitions between segments: when to roll, rolling or repairing
 * (complete the segment, open the next) and, once fenced, deciding what became of the blocks in flight.
 * The writer decides when a transition runs (its phases); this decides the fate of the appends in it.
 */
export class SegmentTransitions {
  readonly #i: TransitionContext;
  readonly #token: object;
  readonly #inflight: InflightBlocks;
  readonly #outcomes: TransitionOutcomes;
  #segment: ActiveSegment | undefined;
  #lastSegmentId: number;

  /** `token` is the writer's registration in `ctx.tail`; `first` the segment its open created. */
  constructor(
    ctx: TransitionContext,
    token: object,
    first: ActiveSegment,
    inflight: InflightBlocks,
    outcomes: TransitionOutcomes,
  ) {
    this.#i = ctx;
    this.#token = token;
    this.#inflight = inflight;
    this.#outcomes = outcomes;
    this.#segment = first;
    this.#lastSegmentId = first.meta.segmentId;
  }

  /** The segment being written; undefined between completing one and opening the next, and after close. */
  get active(): ActiveSegment | undefined {
    return this.#segment;
  }

  /** The id of the segment being written (or last written). */
  get lastSegmentId(): number {
    return this.#lastSegmentId;
  }

  /** Takes the active segment away, for the writer's close to complete or release it. */
  release(): ActiveSegment | undefined {
    const segment = this.#segment;
    this.#segment = undefined;
    return segment;
  }

  /** Whether the active segment is full or old enough to roll (never while it holds no block). */
  rollDue(): boolean {
    const segment = this.#segment!;
    const s = this.#i.settings;
    if (segment.nextBlockNo === 0) return false;
    return (
      segment.bytes >= s.segmentMaxBytes ||
      segment.nextBlockNo >= s.segmentMaxBlocks ||
      this.#i.clock.nowMs() - segment.openedMs >= s.segmentMaxAgeMs
    );
  }

  /** Completes the current segment (repairing it first after a failed write) and opens the next. */
  async advance(): Promise<void> {
    const { pchannel, tail } = this.#i;
    try {
      const segment = this.#segment;
      if (segment !== undefined) {
        const end = await sealSegment(this.#i, segment);
        // After a repair the blocks in flight are decided: those within the end landed, the rest not.
        this.#inflight.settleBy(
          end.lastEntryId,
          (b) =>
            new WalError(
              WalErrorCode.UNAVAILABLE,
              `append on pchannel "${pchannel}": not written (segment ${b.segment.meta.segmentId} was sealed before block ${b.blockNo} after a storage failure)`,
            ),
        );
        this.#segment = undefined;
      }
      const next = await openSegment(this.#i, this.#lastSegmentId + 1);
      this.#segment = next;
      this.#lastSegmentId = next.meta.segmentId;
      tail.publish(this.#token, { segmentId: next.meta.segmentId, lastEntryId: -1 });
      this.#outcomes.opened();
    } catch (e) {
      if (WalError.is(e, WalErrorCode.FENCED)) return this.resolveFenced();
      this.#i.logger.warn({ err: e }, 'segment roll or repair failed; appends fail until it succeeds');
      const unknown = (b: CutBlock): WalError =>
        new WalError(
          WalErrorCode.OUTCOME_UNKNOWN,
          `append on pchannel "${pchannel}": segment ${b.segment.meta.segmentId} block ${b.blockNo} failed and the segment could not be repaired; the entry may be durable`,
          { cause: e },
        );
      this.#inflight.settleBy(-1, unknown);
      const notWritten = new WalError(WalErrorCode.UNAVAILABLE, `append on pchannel "${pchannel}": not written`, {
        cause: e,
      });
      this.#outcomes.broken(notWritten);
    }
  }

  /**
   * A newer writer took over. Blocks this writer wrote may or may not be in the log — the new writer's
   * recovery decides, and records the segment's end: wait for it, then acknowledge exactly the entries
   * within it and reject the rest with FENCED (OUTCOME_UNKNOWN if the end is not recorded in time).
   */
  async resolveFenced(): Promise<void> {
    const { pchannel, claim } = this.#i;
    const error = fencedError(pchannel, claim.term, 'a newer writer took the log over');
    const segment = this.#segment;
    if (segment !== undefined && this.#inflight.length > 0) {
      const recorded = await recordedEnd(this.#i, segment.meta.segmentId, this.#i.settings.fenceResolveTimeoutMs);
      if (recorded === undefined) {
        this.#inflight.settleBy(
          -1,
          () =>
            new WalError(
              WalErrorCode.OUTCOME_UNKNOWN,
              `append on pchannel "${pchannel}": fenced while writing, and the new writer did not record the segment end in time`,
            ),
        );
      } else {
        this.#inflight.settleBy(recorded.lastEntryId, () => error);
      }
    }
    this.#outcomes.fenced(error);
  }
}
