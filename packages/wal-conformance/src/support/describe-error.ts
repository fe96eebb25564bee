import { isCodedError } from '@streamsvc/common';

/** A one-line description of anything thrown, for assertion messages: `WalError FENCED: ...`. */
export function describeError(e: unknown): string {
  if (isCodedError(e)) return `${e.name} ${e.code}: ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `a non-error value ${safeString(e)}`;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
