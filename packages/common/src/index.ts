/**
 * @streamsvc/common — the few building blocks every streamsvc package shares: the coded error base,
 * the Logger and Clock ports, and abort helpers. No domain logic lives here.
 *
 * ```ts
 * import { CodedError, isCodedError, systemClock, noopLogger } from '@streamsvc/common';
 * class MyError extends CodedError<'BROKEN'> {}
 * ```
 */
export { CodedError, isCodedError, isRetriable } from './coded-error.js';
export { noopLogger, MemoryLogger } from './logger.js';
export { systemClock, ManualClock } from './clock.js';
export { abortReason, throwIfAborted, isAbortError, raceAbort } from './abort.js';
export { deferred, CloseOnce } from './deferred.js';

export type { CodedErrorOptions } from './coded-error.js';
export type { Logger, LogFn, LogRecord } from './logger.js';
export type { Clock } from './clock.js';
export type { CallOptions } from './abort.js';
export type { Deferred } from './deferred.js';
