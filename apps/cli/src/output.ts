import { isCodedError } from '@streamsvc/common';

/** Where a command writes: stdout for results, stderr for progress and errors. Injected for tests. */
export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly isTty: boolean;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTty: Boolean(process.stdout.isTTY),
};

/** JSON with bigints as decimal strings (time ticks and ids exceed 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The one-line error a failing command prints: the code first, so scripts can match it. */
export function describeFailure(e: unknown): string {
  if (isCodedError(e)) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
