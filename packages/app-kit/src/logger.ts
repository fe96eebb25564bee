import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';

/** pino's levels plus `silent`. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** How an app logs; see {@link createLogger}. */
export interface LoggerOptions {
  readonly level: LogLevel;
  /** Bound to every line as `app` (e.g. `streamsvc-standalone`), so merged logs say who wrote them. */
  readonly app: string;
  /** Pretty, coloured lines instead of JSON. Default: when stdout is a terminal. Ignored with `destination`. */
  readonly pretty?: boolean;
  /** Where JSON lines go instead of stdout (tests capture them here). */
  readonly destination?: DestinationStream;
}

/**
 * The app's root logger: pino JSON lines on stdout for machines, pino-pretty when a person watches the
 * terminal. Lines carry `app` but not pid/hostname (the process supervisor adds those). The result
 * satisfies `@streamsvc/common`'s `Logger`, so it is what `compose()` passes down to packages.
 */
export function createLogger(options: LoggerOptions): PinoLogger {
  const base = { level: options.level, base: { app: options.app } };
  if (options.destination) return pino(base, options.destination);
  // pino-pretty runs in a worker thread (pino transport), so a slow terminal never blocks the server.
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  return pino({
    ...base,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
