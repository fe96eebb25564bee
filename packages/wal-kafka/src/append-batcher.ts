import { abortReason } from '@streamsvc/common';
import type { Clock } from '@streamsvc/common';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { KafkaWriter } from './kafka-port.js';

/** Limits of one produce request. */
export interface BatchLimits {
  readonly lingerMs: number;
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
}

interface Pending {
  readonly value: Uint8Array;
  readonly resolve: (offset: bigint) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  sent: boolean;
}

/**
 * Group commit for one pchannel: appends queue up, and one produce request at a time carries as many
 * as the limits allow. One request in flight per pchannel keeps the log in queue order without
 * idempotence (a retried request can never overtake a later one), and an append that starts after
 * another resolved always lands after it. kafkajs has no linger of its own; this is it.
 *
 * Abort: an append still queued is taken out and rejects with the abort reason (nothing sent); once
 * its request is on the wire it rejects with OUTCOME_UNKNOWN and the write goes on.
 */
export class AppendBatcher {
  readonly #writer: KafkaWriter;
  readonly #limits: BatchLimits;
  readonly #clock: Clock;
  readonly #pchannel: string;
  #queue: Pending[] = [];
  #inFlight: Promise<void> | undefined;
  #scheduled = false;
  #failure: WalError | undefined;

  constructor(writer: KafkaWriter, limits: BatchLimits, clock: Clock, pchannel: string) {
    this.#writer = writer;
    this.#limits = limits;
    this.#clock = clock;
    this.#pchannel = pchannel;
  }

  /** The sticky error after FENCED: every later append rejects with it. */
  get failure(): WalError | undefined {
    return this.#failure;
  }

  /**
   * Queues `value` and resolves with its offset once the broker acknowledged it (acks=all).
   * @throws {WalError} the writer's error for its batch (FENCED, UNAVAILABLE, INVALID_ARGUMENT);
   *   OUTCOME_UNKNOWN on an abort after sending. The abort reason itself on an abort before sending.
   */
  append(value: Uint8Array, signal: AbortSignal | undefined): Promise<bigint> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    return new Promise<bigint>((resolve, reject) => {
      const entry: Pending = { value, resolve, reject, signal, onAbort: undefined, sent: false };
      if (signal !== undefined) {
        entry.onAbort = (): void => {
          if (!entry.sent) {
            this.#queue = this.#queue.filter((p) => p !== entry);
            reject(abortReason(signal));
          } else {
            reject(
              new WalError(
                WalErrorCode.OUTCOME_UNKNOWN,
                `append on pchannel "${this.#pchannel}" aborted in flight; the record may be written`,
                { cause: abortReason(signal) },
              ),
            );
          }
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.#queue.push(entry);
      this.#schedule(this.#limits.lingerMs);
    });
  }

  /** Resolves when nothing is queued or in flight (appends accepted so far have settled). */
  async drain(): Promise<void> {
    // Bounded: each turn sends at least one queued record or finds the queue empty.
    while (this.#inFlight !== undefined || this.#queue.length > 0) {
      if (this.#inFlight === undefined) this.#flush();
      await this.#inFlight;
    }
  }

  #schedule(lingerMs: number): void {
    if (this.#scheduled || this.#inFlight !== undefined) return;
    this.#scheduled = true;
    const run = (): void => {
      this.#scheduled = false;
      if (this.#inFlight === undefined) this.#flush();
    };
    // 0: after the current turn, so concurrent callers of one tick share the request.
    if (lingerMs === 0) setImmediate(run);
    else void this.#clock.sleep(lingerMs).then(run);
  }

  #flush(): void {
    const batch = this.#take();
    if (batch.length === 0) return;
    const done = this.#send(batch).finally(() => {
      this.#inFlight = undefined;
      // What queued up during the request goes now: it has waited long enough.
      if (this.#queue.length > 0) this.#flush();
    });
    this.#inFlight = done;
  }

  #take(): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    while (this.#queue.length > 0 && batch.length < this.#limits.maxBatchRecords) {
      const next = this.#queue[0]!;
      if (batch.length > 0 && bytes + next.value.byteLength > this.#limits.maxBatchBytes) break;
      this.#queue.shift();
      next.sent = true;
      bytes += next.value.byteLength;
      batch.push(next);
    }
    return batch;
  }

  async #send(batch: Pending[]): Promise<void> {
    try {
      const base = await this.#writer.send(batch.map((p) => p.value));
      batch.forEach((p, i) => settle(p, () => p.resolve(base + BigInt(i))));
    } catch (e) {
      const error = e instanceof Error ? e : new WalError(WalErrorCode.UNAVAILABLE, String(e));
      batch.forEach((p) => settle(p, () => p.reject(error)));
      if (WalError.is(error, WalErrorCode.FENCED)) {
        // A fenced writer never writes again: fail what is queued behind it, too.
        this.#failure = error;
        const queued = this.#queue;
        this.#queue = [];
        queued.forEach((p) => settle(p, () => p.reject(error)));
      }
    }
  }
}

function settle(p: Pending, action: () => void): void {
  if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort);
  action();
}
