import { crc32c } from '@node-rs/crc32';

/**
 * The body of a Produce request, version 3 (Kafka 0.11+, record batches of magic 2), carrying `values`
 * as one uncompressed record batch for one partition: no transactional id, no producer id, no keys, no
 * headers, every record stamped `timestampMs` — byte for byte what kafkajs 2.2.4's producer writes for
 * the same records (a test holds the two together).
 *
 * Why not kafkajs's own encoder: it builds an object and a growing Buffer per record and copies every
 * byte about eight times on the way to the socket (request, topic, partition, batch, record encoders),
 * checksumming a byte at a time. At 1 KiB records that was most of the Kafka backend's CPU per append,
 * more than the WAL's own. Here each value is copied once, into a buffer sized up front, and
 * checksummed by the native `@node-rs/crc32`.
 */
export interface ProduceRequest {
  readonly topic: string;
  readonly partition: number;
  /** -1: all in-sync replicas. */
  readonly acks: number;
  /** How long the broker may wait for the replicas (acks=-1), in ms. */
  readonly timeoutMs: number;
  /** The create time of every record, in ms since the epoch. */
  readonly timestampMs: number;
  readonly values: readonly Uint8Array[];
}

/** Produce API key and the version this body is written in. */
export const PRODUCE_API_KEY = 0;
export const PRODUCE_API_VERSION = 3;

// Record batch header: base offset (8), batch length (4), partition leader epoch (4), magic (1),
// CRC (4), then what the CRC covers — attributes (2), last offset delta (4), first and max timestamp
// (8 + 8), producer id (8), producer epoch (2), base sequence (4), record count (4).
const BATCH_HEADER = 61;
const CRC_AT = 17;
const CRC_FROM = 21;
const MAGIC = 2;

/** Encodes `request` (see {@link ProduceRequest}); throws a RangeError for more than 2^31 bytes. */
export function encodeProduceRequest(request: ProduceRequest): Buffer {
  const { values } = request;
  const topicBytes = Buffer.byteLength(request.topic, 'utf8');
  let batchSize = BATCH_HEADER;
  for (let i = 0; i < values.length; i++) {
    const body = recordBodySize(i, values[i]!.byteLength);
    batchSize += varintSize(body) + body;
  }
  // transactional id (2), acks (2), timeout (4), topic count (4), topic, partition count (4),
  // partition (4), record set size (4).
  const head = 2 + 2 + 4 + 4 + 2 + topicBytes + 4 + 4 + 4;
  const out = Buffer.allocUnsafe(head + batchSize);
  let at = 0;
  at = out.writeInt16BE(-1, at);
  at = out.writeInt16BE(request.acks, at);
  at = out.writeInt32BE(request.timeoutMs, at);
  at = out.writeInt32BE(1, at);
  at = out.writeInt16BE(topicBytes, at);
  at += out.write(request.topic, at, 'utf8');
  at = out.writeInt32BE(1, at);
  at = out.writeInt32BE(request.partition, at);
  at = out.writeInt32BE(batchSize, at);

  const batch = at;
  at = writeInt64(out, 0, at);
  at = out.writeInt32BE(batchSize - 12, at);
  at = out.writeInt32BE(0, at);
  at = out.writeInt8(MAGIC, at);
  at += 4; // the CRC, once the rest is written
  at = out.writeInt16BE(0, at);
  at = out.writeInt32BE(values.length - 1, at);
  at = writeInt64(out, request.timestampMs, at);
  at = writeInt64(out, request.timestampMs, at);
  at = writeInt64(out, -1, at);
  at = out.writeInt16BE(0, at);
  at = out.writeInt32BE(0, at);
  at = out.writeInt32BE(values.length, at);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    at = writeVarint(out, recordBodySize(i, value.byteLength), at);
    out[at++] = 0; // attributes
    out[at++] = 0; // timestamp delta
    at = writeVarint(out, i, at);
    out[at++] = 1; // key length -1: no key
    at = writeVarint(out, value.byteLength, at);
    out.set(value, at);
    at += value.byteLength;
    out[at++] = 0; // header count
  }
  out.writeUInt32BE(crc32c(out.subarray(batch + CRC_FROM, at)), batch + CRC_AT);
  return out;
}

// attributes, timestamp delta (0), offset delta, key length (-1), value length, value, header count.
function recordBodySize(offsetDelta: number, valueBytes: number): number {
  return 1 + 1 + varintSize(offsetDelta) + 1 + varintSize(valueBytes) + valueBytes + 1;
}

// Kafka's varints are zigzag-encoded; every one written here is ≥ 0, so zigzag is a doubling.
function varintSize(n: number): number {
  let z = n * 2;
  let size = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    size++;
  }
  return size;
}

function writeVarint(out: Buffer, n: number, at: number): number {
  let z = n * 2;
  while (z >= 0x80) {
    out[at++] = (z & 0x7f) | 0x80;
    z = Math.floor(z / 0x80);
  }
  out[at++] = z;
  return at;
}

function writeInt64(out: Buffer, n: number, at: number): number {
  out.writeInt32BE(Math.floor(n / 0x1_0000_0000), at);
  out.writeUInt32BE(n >>> 0, at + 4);
  return at + 8;
}
