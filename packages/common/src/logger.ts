/**
 * The logging port. Packages receive a `Logger` and stay silent by default (`noopLogger`); apps pass a
 * pino instance, whose method shapes this interface follows (`log.info({ pchannel }, 'opened')`).
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/** A structured logger; `child` binds fields (component, pchannel, term) to every later line. */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const nothing = (): void => {};

/** A logger that drops everything; the default of every package. */
export const noopLogger: Logger = {
  trace: nothing,
  debug: nothing,
  info: nothing,
  warn: nothing,
  error: nothing,
  child: () => noopLogger,
};

/** One captured log line, as recorded by {@link MemoryLogger}. */
export interface LogRecord {
  readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string | undefined;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps every line in memory, for tests that assert on what was logged. */
export class MemoryLogger implements Logger {
  readonly records: LogRecord[];
  readonly #bindings: Record<string, unknown>;

  constructor(records: LogRecord[] = [], bindings: Record<string, unknown> = {}) {
    this.records = records;
    this.#bindings = bindings;
  }

  #at(level: LogRecord['level']): LogFn {
    return ((a: object | string, b?: string) => {
      const fields = typeof a === 'string' ? { ...this.#bindings } : { ...this.#bindings, ...a };
      this.records.push({ level, msg: typeof a === 'string' ? a : b, fields });
    }) as LogFn;
  }

  readonly trace: LogFn = this.#at('trace');
  readonly debug: LogFn = this.#at('debug');
  readonly info: LogFn = this.#at('info');
  readonly warn: LogFn = this.#at('warn');
  readonly error: LogFn = this.#at('error');

  child(bindings: Record<string, unknown>): Logger {
    return new MemoryLogger(this.records, { ...this.#bindings, ...bindings });
  }
}
