import { STREAMING_ERROR_NUMBERS, StreamingError } from '@streamsvc/message';
import type { StreamingErrorInfo } from '@streamsvc/proto';

/**
 * The wire form of an error. A StreamingError keeps its code; anything else (a bug, an unexpected
 * backend failure) becomes INNER — retriable, with the original text, never a crash of the server.
 */
export function toErrorInfo(e: unknown): StreamingErrorInfo {
  if (StreamingError.is(e))
    return { code: STREAMING_ERROR_NUMBERS[e.code], message: e.message, retriable: e.retriable };
  const message = e instanceof Error ? e.message : String(e);
  return { code: STREAMING_ERROR_NUMBERS.INNER, message: `[streaming] internal error: ${message}`, retriable: true };
}

/** A StreamingError for a protocol violation by the client (a request out of order). */
export function invalidSequence(what: string): StreamingError {
  return new StreamingError('INVALID_REQUEST_SEQ', what);
}
