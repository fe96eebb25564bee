import { CodedError, isCodedError } from '@streamsvc/common';
import type { CodedErrorOptions } from '@streamsvc/common';

/** Error codes of configuration loading. */
export const ConfigErrorCode = {
  /** A flag, environment variable, file or value that cannot be used; the message lists every problem. */
  INVALID_CONFIG: 'INVALID_CONFIG',
} as const;

export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

/** Where a setting came from. `default` means nobody set it and the schema's default applied. */
export type ConfigSource =
  | { readonly kind: 'flag'; readonly name: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly name: string }
  | { readonly kind: 'default' };

/** One thing wrong with a configuration: what (`path`: a setting, a flag or the file), why, and from where. */
export interface ConfigProblem {
  /** The setting's key path (`pchannels`, `s3.endpoint`), or the flag / file the problem is about. */
  readonly path: string;
  readonly message: string;
  /** Where the offending value came from, when that is not already said by `path`. */
  readonly source?: ConfigSource | undefined;
}

/** `flag --pchannels`, `env STREAMSVC_PCHANNELS`, `file ./streamsvc.json`, `default`. */
export function formatConfigSource(source: ConfigSource): string {
  return source.kind === 'default' ? 'default' : `${source.kind} ${source.name}`;
}

/**
 * A configuration that cannot be used. Never retriable. The message lists every problem with its
 * source (then the usage text, when the app gave one); `details.problems` has them as data.
 */
export class ConfigError extends CodedError<ConfigErrorCode> {
  /** Every problem found, in the order flags → file → values. Empty when built from a bare message. */
  readonly problems: readonly ConfigProblem[];

  constructor(message: string, options?: CodedErrorOptions & { readonly problems?: readonly ConfigProblem[] }) {
    const problems = options?.problems ?? [];
    super('config', ConfigErrorCode.INVALID_CONFIG, `[config] ${message}`, false, {
      ...options,
      details: { ...options?.details, problems },
    });
    this.problems = problems;
  }

  /**
   * Builds the error for a list of problems: `invalid configuration:` then one indented line per
   * problem (`pchannels: Too big: expected number to be <=256 (flag --pchannels)`), then `usage`.
   */
  static of(problems: readonly ConfigProblem[], usage?: string): ConfigError {
    const lines = problems.map(
      (p) => `${p.path}: ${p.message}${p.source === undefined ? '' : ` (${formatConfigSource(p.source)})`}`,
    );
    return new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}${usage ? `\n${usage}` : ''}`, {
      problems,
    });
  }

  /** True when `e` is a ConfigError (from any copy of this package), optionally with `code`. */
  static is(e: unknown, code?: ConfigErrorCode): e is ConfigError {
    return isCodedError(e, 'config', code);
  }
}
