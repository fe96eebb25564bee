import { encodeMessage } from '@streamsvc/message';
import type { MessageEncodeScratch, MutableMessage } from '@streamsvc/message';

import { toStreamingError } from './errors.js';

/**
 * A message on its way to the WAL, and its encoded bytes once taken. The bytes are taken synchronously
 * in `append` (so a caller may reuse its payload buffer as soon as `append` returned): straight into
 * the scratch of the producer stream it is queued on, which copies them into its request at the next
 * flush, or, when no stream can take it at once, into bytes of its own. Once sent, {@link bytes} is a
 * view of the request that carried it: what a retry sends again, with no copy kept per message.
 */
export class OutgoingMessage {
  readonly #message: MutableMessage;
  /**
   * The encoded message, once taken: a view of a producer stream's scratch while queued there (the
   * stream replaces it with a view of the request before it reuses the scratch), else bytes nobody
   * writes again.
   */
  bytes: Uint8Array | undefined;

  constructor(message: MutableMessage) {
    this.#message = message;
  }

  /**
   * The encoded message: the bytes taken before, or the message encoded into `scratch` now.
   * @throws StreamingError INVALID_ARGUMENT (or non-retriable UNKNOWN) when the message cannot be encoded.
   */
  encodeInto(scratch: MessageEncodeScratch): Uint8Array {
    if (this.bytes !== undefined) return this.bytes;
    try {
      this.bytes = scratch.encode(this.#message);
    } catch (e) {
      throw toStreamingError(e, 'append');
    }
    return this.bytes;
  }

  /**
   * Takes the message into bytes of its own unless already taken: before anything that waits, after
   * which the caller's payload may have changed.
   * @throws StreamingError like {@link encodeInto}.
   */
  keep(): void {
    if (this.bytes !== undefined) return;
    try {
      this.bytes = encodeMessage(this.#message);
    } catch (e) {
      throw toStreamingError(e, 'append');
    }
  }
}
