import { isCodedError, systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import { MessageError, MessageType, StreamingError } from '@streamsvc/message';
import type { MessageId, MutableMessage } from '@streamsvc/message';

import type { BackendWal } from '../spi/backend.js';
import { WalError } from '../spi/wal-error.js';
import type { AppendContext, AppendResult } from './interceptor.js';

export interface BackendAppendOptions {
  readonly backend: BackendWal;
  readonly clock?: Clock;
  readonly logger: Logger;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** True once the WAL is closing: stop retrying. */
  readonly stopping: () => boolean;
  /** Called once when the backend reports FENCED. */
  readonly onFenced: (error: WalError) => void;
}

/**
 * The innermost step: writes the message to the backend, retrying with exponential backoff while the
 * backend is unavailable (10 ms → 5 s, unbounded, until the caller aborts or the WAL closes).
 */
export function backendAppend(options: BackendAppendOptions): (ctx: AppendContext) => Promise<AppendResult> {
  const clock = options.clock ?? systemClock;
  const write = (ctx: AppendContext): Promise<MessageId> => {
    try {
      return options.backend.append(ctx.message, { signal: ctx.signal });
    } catch (e) {
      return Promise.reject(e);
    }
  };
  // After a failed attempt (the write or storing its result): retries while the backend is
  // UNAVAILABLE, else translates the error.
  const retry = async (ctx: AppendContext, failure: unknown): Promise<AppendResult> => {
    let error = failure;
    for (let delay = options.retryInitialMs; ; delay = Math.min(delay * 2, options.retryMaxMs)) {
      if (!WalError.is(error, 'UNAVAILABLE') || options.stopping() || ctx.signal?.aborted) {
        throw toStreamingError(error, options);
      }
      options.logger.warn({ err: error, delayMs: delay }, 'backend unavailable; retrying append');
      await clock.sleep(delay, { signal: ctx.signal }).catch(() => undefined);
      try {
        return stored(ctx.message, await write(ctx));
      } catch (e) {
        error = e;
      }
    }
  };
  // The common case — the first write succeeds — runs without an async frame of its own.
  return (ctx) => {
    const message = ctx.message;
    if (message.type === MessageType.TimeTick && message.notPersisted) {
      // The time-tick sync publishes those itself; one here would be written as if persisted.
      return Promise.reject(new Error('[wal] a not-persisted time tick reached the backend'));
    }
    return write(ctx).then(
      (id) => {
        try {
          return stored(message, id);
        } catch (e) {
          return retry(ctx, e);
        }
      },
      (e: unknown) => retry(ctx, e),
    );
  };
}

function stored(message: MutableMessage, id: MessageId): AppendResult {
  const immutable = message.intoImmutable(id);
  return {
    id,
    timeTick: immutable.timeTick,
    lastConfirmed: immutable.lastConfirmed,
    txnContext: immutable.txnContext,
    message: immutable,
  };
}

/** Maps what the backend threw to what the WAL's callers see. */
export function toStreamingError(e: unknown, options: Pick<BackendAppendOptions, 'onFenced' | 'stopping'>): unknown {
  if (StreamingError.is(e)) return e;
  if (WalError.is(e, 'FENCED')) {
    options.onFenced(e);
    return new StreamingError('CHANNEL_FENCED', 'a newer owner fenced this WAL; find the current owner', { cause: e });
  }
  if (WalError.is(e, 'CLOSED')) return new StreamingError('ON_SHUTDOWN', 'the WAL is closing', { cause: e });
  if (WalError.is(e, 'OUTCOME_UNKNOWN')) return new StreamingError('OUTCOME_UNKNOWN', e.message, { cause: e });
  if (WalError.is(e, 'UNAVAILABLE')) {
    return options.stopping()
      ? new StreamingError('ON_SHUTDOWN', 'the WAL is closing', { cause: e })
      : new StreamingError('INNER', e.message, { cause: e });
  }
  if (MessageError.is(e)) return new StreamingError('INVALID_ARGUMENT', e.message, { cause: e });
  if (isCodedError(e) || e instanceof Error) {
    if ((e as Error).name === 'AbortError' || (e as Error).name === 'TimeoutError') return e;
    return new StreamingError('INNER', (e as Error).message, { cause: e });
  }
  return e;
}
