/**
 * The one error shape of streamsvc. Every layer has its own subclass (`MessageError`, `MetaKvError`,
 * `WalError`, ...) with a `code` from a const object, a `retriable` flag and an optional `cause`.
 *
 * Callers branch on `code`, never on `message`. `instanceof` breaks when two copies of a package are
 * installed, so each subclass offers a static `is(e, code?)` that checks a brand stored under a
 * `Symbol.for` key instead.
 */

const BRAND: unique symbol = Symbol.for('@streamsvc/coded-error') as never;

/** Options accepted by every coded error constructor. */
export interface CodedErrorOptions {
  /** The error that caused this one (kept as `cause`, shown by Node's inspector). */
  readonly cause?: unknown;
  /** Overrides the retriable flag the subclass derives from the code. */
  readonly retriable?: boolean;
  /** Structured facts for logs (never payload bytes or secrets). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Base class of all streamsvc errors; see the module comment. */
export class CodedError<C extends string = string> extends Error {
  /** The layer that raised the error, e.g. `message`, `metastore`, `wal`. */
  readonly domain: string;
  /** A stable code from the layer's const object. Codes are API; messages are not. */
  readonly code: C;
  /** Whether retrying the same operation (possibly after a wait) can succeed. */
  readonly retriable: boolean;
  /** Structured context for logs. */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  declare readonly [BRAND]: string;

  constructor(domain: string, code: C, message: string, retriable: boolean, options: CodedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.domain = domain;
    this.code = code;
    this.retriable = options.retriable ?? retriable;
    this.details = options.details;
    Object.defineProperty(this, BRAND, { value: domain, enumerable: false });
  }

  /** `{ domain, code, message, retriable, details }`, for structured logs and JSON output. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      domain: this.domain,
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      details: this.details,
    };
  }
}

/**
 * True when `e` is a coded error of `domain` (and, when given, has `code`). Works across copies of the
 * package because it checks the `Symbol.for` brand, not the prototype chain.
 */
export function isCodedError(e: unknown, domain?: string, code?: string): e is CodedError {
  if (typeof e !== 'object' || e === null) return false;
  const brand = (e as { [BRAND]?: unknown })[BRAND];
  if (typeof brand !== 'string') return false;
  if (domain !== undefined && brand !== domain) return false;
  return code === undefined || (e as CodedError).code === code;
}

/** True when `e` is any coded error marked retriable. Unknown errors are not retriable. */
export function isRetriable(e: unknown): boolean {
  return isCodedError(e) && e.retriable;
}
