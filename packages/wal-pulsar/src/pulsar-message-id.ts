import { MessageError } from '@streamsvc/message';
import type { MessageId, MessageIdCodec } from '@streamsvc/message';
import { parseOwnMessageId } from '@streamsvc/wal-core';

/** The WAL name of this backend, stamped on every id. */
export const PULSAR_WAL_NAME = 'pulsar';

/**
 * A Pulsar message id: the position (ledger, entry, batch index) of a message in its topic, plus the
 * bytes of Pulsar's own serialized form (`MessageIdData`, what `MessageId.serialize()` returns), which
 * is what the client needs to position a reader there again.
 */
export interface PulsarMessageId extends MessageId {
  readonly ledgerId: bigint;
  /** -1 means "before the first entry of the ledger" (only in positions built for readers). */
  readonly entryId: bigint;
  /** -1 for a message that is not part of a batch. */
  readonly batchIndex: number;
  /** -1 for a non-partitioned topic (the only kind this backend uses). */
  readonly partition: number;
  /** Pulsar's serialized `MessageIdData`; a private copy. */
  serialize(): Uint8Array;
}

/** The codec of Pulsar message ids, with a constructor from Pulsar's serialized bytes. */
export interface PulsarMessageIdCodec extends MessageIdCodec<PulsarMessageId> {
  /**
   * The id behind Pulsar's serialized `MessageIdData` bytes.
   * @throws MessageError `INVALID_MESSAGE_ID` when the bytes are not a `MessageIdData`.
   */
  fromSerialized(bytes: Uint8Array): PulsarMessageId;
  /** The id of (ledger, entry[, batch index, partition]), serialized the way the Pulsar client does. */
  of(ledgerId: bigint, entryId: bigint, batchIndex?: number, partition?: number): PulsarMessageId;
}

// Version 1 of the string form: "v1:" + base64url (no padding) of the serialized MessageIdData. The
// bytes are Pulsar's own stable wire format (PulsarApi.proto), so the string survives client upgrades;
// ordering needs no broker: the codec decodes (ledger, entry, batch) from them. Milvus uses standard
// base64 of the same bytes; base64url keeps the string free of "/" and "+" for etcd keys and logs.
const V1_PREFIX = 'v1:';
const EXPECTED = '"v1:" followed by the base64url of a Pulsar MessageIdData';
const MAX_ID_BYTES = 256;
const UINT64_MASK = (1n << 64n) - 1n;

class PulsarId implements PulsarMessageId {
  readonly walName = PULSAR_WAL_NAME;
  readonly #bytes: Uint8Array;

  constructor(
    readonly ledgerId: bigint,
    readonly entryId: bigint,
    readonly batchIndex: number,
    readonly partition: number,
    bytes: Uint8Array,
  ) {
    this.#bytes = bytes;
  }

  compare(other: MessageId): -1 | 0 | 1 {
    const o = pulsarIdOf(other);
    return (
      sign(this.ledgerId - o.ledgerId) ||
      sign(this.entryId - o.entryId) ||
      sign(BigInt(this.batchIndex) - BigInt(o.batchIndex))
    );
  }

  equals(other: MessageId): boolean {
    return this.compare(other) === 0;
  }

  serialize(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  #text: string | undefined;

  toString(): string {
    // Cached: the WAL stamps the same last-confirmed id's text on many messages in a row.
    return (this.#text ??= `${V1_PREFIX}${Buffer.from(this.#bytes).toString('base64url')}`);
  }
}

function pulsarIdOf(other: MessageId): PulsarId {
  if (other?.walName !== PULSAR_WAL_NAME) {
    throw new MessageError(
      'WAL_MISMATCH',
      `cannot mix message ids of wal "${PULSAR_WAL_NAME}" and wal "${String(other?.walName)}"`,
      { details: { left: PULSAR_WAL_NAME, right: String(other?.walName) } },
    );
  }
  // Ids from another copy of this package: go through the string form, which is the contract.
  return other instanceof PulsarId ? other : (pulsarMessageIds.parse(other.toString()) as PulsarId);
}

function sign(d: bigint): -1 | 0 | 1 {
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/**
 * Pulsar's message ids. Ordered by (ledger, entry, batch index) within a topic, as the broker orders
 * them. String form v1: `v1:<base64url of the serialized MessageIdData>`.
 */
export const pulsarMessageIds: PulsarMessageIdCodec = Object.freeze({
  walName: PULSAR_WAL_NAME,
  parse(text: string): PulsarMessageId {
    if (typeof text !== 'string' || !text.startsWith(V1_PREFIX) || text.length > V1_PREFIX.length + MAX_ID_BYTES * 2) {
      throw invalid(String(text));
    }
    const body = text.slice(V1_PREFIX.length);
    if (!/^[A-Za-z0-9_-]+$/.test(body)) throw invalid(text);
    const bytes = Buffer.from(body, 'base64url');
    // Only the canonical encoding parses, so that equal ids have one string form.
    if (bytes.toString('base64url') !== body) throw invalid(text);
    try {
      return decodeId(new Uint8Array(bytes));
    } catch (cause) {
      throw new MessageError(
        'INVALID_MESSAGE_ID',
        `${describe(text)} is not a valid pulsar message id (expected ${EXPECTED})`,
        {
          cause,
          details: { walName: PULSAR_WAL_NAME },
        },
      );
    }
  },
  fromSerialized(bytes: Uint8Array): PulsarMessageId {
    if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > MAX_ID_BYTES) {
      throw new MessageError('INVALID_MESSAGE_ID', 'a serialized pulsar message id must be 1..256 bytes', {
        details: { walName: PULSAR_WAL_NAME },
      });
    }
    try {
      return decodeId(Uint8Array.from(bytes));
    } catch (cause) {
      throw new MessageError('INVALID_MESSAGE_ID', 'the bytes are not a serialized pulsar MessageIdData', {
        cause,
        details: { walName: PULSAR_WAL_NAME },
      });
    }
  },
  of(ledgerId: bigint, entryId: bigint, batchIndex = -1, partition = -1): PulsarMessageId {
    const ok =
      typeof ledgerId === 'bigint' &&
      typeof entryId === 'bigint' &&
      ledgerId >= 0n &&
      ledgerId < 1n << 63n &&
      entryId >= -1n &&
      entryId < 1n << 63n &&
      Number.isInteger(batchIndex) &&
      batchIndex >= -1 &&
      batchIndex < 2 ** 31 &&
      Number.isInteger(partition) &&
      partition >= -1 &&
      partition < 2 ** 31;
    if (!ok) {
      throw new MessageError(
        'INVALID_MESSAGE_ID',
        `(${String(ledgerId)}, ${String(entryId)}, ${batchIndex}, ${partition}) is not a pulsar position`,
        { details: { walName: PULSAR_WAL_NAME } },
      );
    }
    return new PulsarId(ledgerId, entryId, batchIndex, partition, encodeId(ledgerId, entryId, batchIndex, partition));
  },
});

/**
 * The position just before `id`, for readers that must start *at* `id`: a reader positioned after it
 * delivers `id` first. Needed because the Node client does not expose `startMessageIdInclusive`. For the
 * first entry of a ledger it is (ledger, -1), the broker's own "before the first entry" position.
 */
export function positionBefore(id: PulsarMessageId): PulsarMessageId {
  if (id.batchIndex > 0) return pulsarMessageIds.of(id.ledgerId, id.entryId, id.batchIndex - 1, id.partition);
  return pulsarMessageIds.of(id.ledgerId, id.entryId - 1n, -1, id.partition);
}

/**
 * The Pulsar id behind a streamsvc id handed to this backend.
 * @throws {WalError} INVALID_MESSAGE_ID for an id of another backend or not an id at all.
 */
export function pulsarIdFrom(id: MessageId, what: string): PulsarMessageId {
  return parseOwnMessageId(pulsarMessageIds, id, what);
}

function invalid(text: string): MessageError {
  return new MessageError(
    'INVALID_MESSAGE_ID',
    `${describe(text)} is not a valid pulsar message id (expected ${EXPECTED})`,
    {
      details: { walName: PULSAR_WAL_NAME },
    },
  );
}

function describe(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

// ---- MessageIdData (PulsarApi.proto, proto2) ----
// message MessageIdData { required uint64 ledgerId = 1; required uint64 entryId = 2;
//   optional int32 partition = 3 [default = -1]; optional int32 batch_index = 4 [default = -1];
//   repeated int64 ack_set = 5; optional int32 batch_size = 6; optional MessageIdData first_chunk_message_id = 7; }
// Fields 5..7 are skipped on decode (they do not change the position) and never written.

function encodeId(ledgerId: bigint, entryId: bigint, batchIndex: number, partition: number): Uint8Array {
  const out: number[] = [];
  out.push(0x08, ...varint(ledgerId));
  out.push(0x10, ...varint(entryId & UINT64_MASK));
  // The C++ client always writes partition and batch_index; so do we, for byte-identical ids.
  out.push(0x18, ...varint(BigInt(partition) & UINT64_MASK));
  out.push(0x20, ...varint(BigInt(batchIndex) & UINT64_MASK));
  return Uint8Array.from(out);
}

function decodeId(bytes: Uint8Array): PulsarId {
  let pos = 0;
  let ledgerId: bigint | undefined;
  let entryId: bigint | undefined;
  let partition = -1;
  let batchIndex = -1;
  const readVarint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = bytes[pos++];
      if (byte === undefined) throw new RangeError('truncated varint');
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value & UINT64_MASK;
    }
    throw new RangeError('varint longer than 10 bytes');
  };
  while (pos < bytes.length) {
    const key = readVarint();
    const field = key >> 3n;
    const wire = Number(key & 7n);
    if (wire === 0) {
      const v = readVarint();
      if (field === 1n) ledgerId = v;
      else if (field === 2n) entryId = toInt64(v);
      else if (field === 3n) partition = Number(toInt64(v));
      else if (field === 4n) batchIndex = Number(toInt64(v));
    } else if (wire === 2) {
      const length = Number(readVarint());
      if (pos + length > bytes.length) throw new RangeError('truncated field');
      pos += length;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new RangeError(`unsupported wire type ${wire}`);
    }
  }
  if (pos !== bytes.length) throw new RangeError('truncated field');
  if (ledgerId === undefined || entryId === undefined) throw new RangeError('ledgerId and entryId are required');
  if (ledgerId >= 1n << 63n || entryId < -1n || batchIndex < -1 || partition < -1 || batchIndex >= 2 ** 31) {
    throw new RangeError('position out of range');
  }
  return new PulsarId(ledgerId, entryId, batchIndex, partition, bytes);
}

function toInt64(v: bigint): bigint {
  return v >= 1n << 63n ? v - (1n << 64n) : v;
}

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}
