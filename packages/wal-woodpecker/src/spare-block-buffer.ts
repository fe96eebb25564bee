// Bounds of a kept buffer: larger blocks are rare and hold hundreds of entries, so a buffer of their own
// costs little per entry, while a kept one stays for the writer's life.
const MIN_BYTES = 16 * 1024;
const MAX_BYTES = 512 * 1024;

/**
 * The buffer of the last block written, encoded into again by the next one (local mode: one block is in
 * flight at a time, and the sink keeps no reference once its write settled). A fresh ~64 KiB buffer per
 * block was external memory the GC had to account for and collect.
 */
export class SpareBlockBuffer {
  #spare: Buffer | undefined;

  /** A buffer of at least `bytes`, the caller's until it gives it back with {@link keep}. */
  take(bytes: number): Buffer {
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare !== undefined && spare.byteLength >= bytes) return spare;
    // Rounded up to a power of two, so that a slightly larger next block still fits.
    return Buffer.allocUnsafeSlow(2 ** Math.ceil(Math.log2(Math.max(bytes, MIN_BYTES))));
  }

  /** Keeps a buffer nothing reads any more for the next {@link take}. */
  keep(buffer: Buffer | undefined): void {
    if (buffer !== undefined && buffer.byteLength <= MAX_BYTES) this.#spare = buffer;
  }
}
