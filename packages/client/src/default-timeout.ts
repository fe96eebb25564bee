import { StreamingError } from '@streamsvc/message';
import type { StreamingErrorCode } from '@streamsvc/message';

/** How a call that ran out of its default time fails. */
export interface DefaultTimeout {
  /** The option's value (`defaultTimeoutMs`). */
  readonly timeoutMs: number;
  /** What the call was, for the error text: `append to by-dev-dml_0`, `broadcast`, `waitReady`. */
  readonly what: string;
  /**
   * OUTCOME_UNKNOWN for a call that writes (it may have been written, like after an abort); INNER for a
   * call without a visible effect, which the caller may simply try again.
   */
  readonly code: Extract<StreamingErrorCode, 'OUTCOME_UNKNOWN' | 'INNER'>;
}

/**
 * Runs `call` with the caller's `signal`, or, when there is none, with a signal that aborts after
 * `timeout.timeoutMs` with a StreamingError naming `defaultTimeoutMs`. The call's abort handling stays
 * as it is: it rejects with the signal's reason, which here is that error rather than a DOMException.
 *
 * The timer is unref'd, like `AbortSignal.timeout`'s (which cannot carry a reason of ours): a pending
 * call alone does not keep the process alive. Unlike `AbortSignal.timeout`'s, it is cleared as soon as
 * the call settles, so a busy producer does not pile up 120 s timers until they are collected.
 */
export function withDefaultTimeout<T>(
  signal: AbortSignal | undefined,
  timeout: DefaultTimeout,
  call: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (signal !== undefined) return call(signal);
  const deadline = new DefaultDeadline(timeout.timeoutMs, timeout.what, timeout.code);
  let running: Promise<T>;
  try {
    running = call(deadline.signal());
  } catch (e) {
    deadline.clear();
    return Promise.reject(e);
  }
  return running.finally(() => deadline.clear());
}

/**
 * The default deadline of one call: `timeoutMs` from its construction, armed (a controller and an
 * unref'd timer, which keeps no process alive) only by the first {@link signal} — so a call that may
 * never need one, an append on an open stream, makes none.
 */
export class DefaultDeadline {
  readonly #startMs = performance.now();
  readonly #timeoutMs: number;
  readonly #what: string;
  readonly #code: DefaultTimeout['code'];
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, what: string, code: DefaultTimeout['code']) {
    this.#timeoutMs = timeoutMs;
    this.#what = what;
    this.#code = code;
  }

  /** The deadline's signal if it was armed, else undefined. */
  get armed(): AbortSignal | undefined {
    return this.#controller?.signal;
  }

  /** The deadline's signal, armed now with what is left of `timeoutMs`. */
  signal(): AbortSignal {
    if (this.#controller !== undefined) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    const error = defaultTimeoutError({ timeoutMs: this.#timeoutMs, what: this.#what, code: this.#code });
    const leftMs = this.#timeoutMs - (performance.now() - this.#startMs);
    if (leftMs <= 0) {
      controller.abort(error);
    } else {
      this.#timer = setTimeout(() => controller.abort(error), leftMs);
      this.#timer.unref();
    }
    return controller.signal;
  }

  /** Stops the timer; the call settled. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}

/** The error of a call that took longer than `defaultTimeoutMs`. */
export function defaultTimeoutError({ timeoutMs, what, code }: DefaultTimeout): StreamingError {
  const outcome = code === 'OUTCOME_UNKNOWN' ? '; it may or may not have been written' : '';
  return new StreamingError(
    code,
    `${what} took longer than defaultTimeoutMs (${timeoutMs} ms) and was given up${outcome} ` +
      '(pass a signal to choose the deadline of one call)',
    { details: { option: 'defaultTimeoutMs', timeoutMs, what } },
  );
}
