import { BinaryWriter } from '@bufbuild/protobuf/wire';

/**
 * A BinaryWriter whose `finish()` copies into a Buffer from Node's pool instead of `slice()`ing a new
 * ArrayBuffer: each fresh ArrayBuffer is a separate allocation with its own backing store, and on the
 * append path (several encodes per message) those allocations and their collection cost more than the
 * encoding itself. Reaches into the writer's `buffer`/`pos`/`stackPos` fields: the version of
 * @bufbuild/protobuf is pinned in the catalog, and the round-trip property tests cover this path.
 */
const EMPTY = Object.freeze(new Uint8Array(0)) as Uint8Array<ArrayBuffer>;

class PooledWriter extends BinaryWriter {
  override finish(): Uint8Array<ArrayBuffer> {
    const self = this as unknown as { buffer: Uint8Array; pos: number; stackPos: number[] };
    // Empty messages (Data and TimeTick headers, most bodies of ticks) are encoded on every append.
    if (self.pos === 0) return EMPTY;
    const out = Buffer.allocUnsafe(self.pos);
    out.set(self.buffer.subarray(0, self.pos));
    self.pos = 0;
    self.stackPos = [];
    return out as Uint8Array<ArrayBuffer>;
  }
}

// One writer for the process keeps its grown buffer (a fresh one starts small and doubles, copying, up
// to the message size). Encoding is synchronous, so two encodes never share it; a failed encode may
// leave it half-written, so it is replaced then.
let shared: BinaryWriter = new PooledWriter();

/** Encodes `value` with a generated `encode` function on the shared writer; returns a fresh copy of the bytes. */
export function encodeWithSharedWriter<V>(
  encode: (value: V, writer: BinaryWriter) => BinaryWriter,
  value: V,
): Uint8Array {
  try {
    return encode(value, shared).finish();
  } catch (e) {
    shared = new PooledWriter();
    throw e;
  }
}
