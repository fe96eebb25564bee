// Decoding a message copies its payload out of the input, so that a stored message never keeps the
// input alive. Copied one by one, small payloads come from Node's shared 8 KiB Buffer pool: a new
// ArrayBuffer (with its backing store and the GC's bookkeeping) every ~7 KiB of payloads, shared by
// whatever else was allocated from the pool meanwhile (payloads of other pchannels, unrelated
// buffers). A PayloadArena takes the payloads of one batch, the messages of one produce request, into
// one buffer of their own: one allocation per request, and a payload shares its memory only with the
// messages it arrived with, which go to the same WAL together.

/**
 * Payloads above this size are copied alone: their copy costs more than their allocation, and a
 * request of large messages must not become one huge buffer that lives until its last message goes.
 */
const MAX_ARENA_PAYLOAD_BYTES = 16 * 1024;

/**
 * A buffer that the payloads of one batch of decoded messages are copied into (see `decodeMessage`).
 * Its capacity is the total size of the batch's inputs of up to 16 KiB, an upper bound of their
 * payloads (the properties make up the difference); a larger payload, or one that does not fit
 * anymore, gets an allocation of its own.
 */
export class PayloadArena {
  readonly #capacity: number;
  #buffer: Buffer | undefined;
  #pos = 0;

  private constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** An arena for the payloads of `inputs`, the encoded messages about to be decoded. */
  static forInputs(inputs: readonly Uint8Array[]): PayloadArena {
    let capacity = 0;
    for (const input of inputs) if (input.byteLength <= MAX_ARENA_PAYLOAD_BYTES) capacity += input.byteLength;
    return new PayloadArena(capacity);
  }

  /** A copy of `bytes[start, end)`, in the arena while it has room. */
  copy(bytes: Uint8Array, start: number, end: number): Buffer {
    const length = end - start;
    if (length > MAX_ARENA_PAYLOAD_BYTES || this.#pos + length > this.#capacity) return copyAlone(bytes, start, end);
    // Allocated on the first copy: a batch whose messages all fail to decode allocates nothing.
    this.#buffer ??= Buffer.allocUnsafe(this.#capacity);
    const out = this.#buffer.subarray(this.#pos, this.#pos + length);
    out.set(bytes.subarray(start, end));
    this.#pos += length;
    return out;
  }
}

/** A copy of `bytes[start, end)` in a Buffer of its own (from Node's pool when small). */
export function copyAlone(bytes: Uint8Array, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}
