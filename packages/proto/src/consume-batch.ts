import type { BinaryWriter } from '@bufbuild/protobuf/wire';

// A consume response carries up to a batch of stored messages. Built the generated way, each message
// is first encoded to bytes of its own (an allocation and a copy), then those bytes are copied into
// the response. A ConsumeBatch instead holds the messages themselves and writes each straight into
// the response writer when grpc-js serializes it; the bytes on the wire are the same.

/** Writes one stored message's `streamsvc.message.v1.ImmutableMessage` fields (no length prefix). */
export type StoredMessageEncoder<M> = (message: M, writer: BinaryWriter) => void;

/** One delivered item of a {@link ConsumeBatch}: a message, or the three parts of a transaction. */
export type ConsumeBatchItem<M> =
  | { readonly single: M; readonly txn?: undefined }
  | {
      readonly single?: undefined;
      readonly txn: { readonly begin: M; readonly body: readonly M[]; readonly commit: M };
    };

// Field tags of ConsumeResponse.messages (2), ConsumedMessages.messages (1), ConsumedMessage.single (1)
// and .txn (2), TxnParts.begin (1), .body (2) and .commit (3), all length-delimited.
const LEN = 2;
const tag = (field: number): number => (field << 3) | LEN;

/**
 * A `ConsumeResponse { messages }` to write on a consume stream instead of the generated object: the
 * node's handler service serializes it by calling `encode` for each message into the response itself.
 */
export class ConsumeBatch {
  readonly #items: readonly ConsumeBatchItem<unknown>[];
  readonly #encode: StoredMessageEncoder<unknown>;

  private constructor(items: readonly ConsumeBatchItem<unknown>[], encode: StoredMessageEncoder<unknown>) {
    this.#items = items;
    this.#encode = encode;
  }

  /** A batch of `items`, whose messages `encode` writes. */
  static of<M>(items: readonly ConsumeBatchItem<M>[], encode: StoredMessageEncoder<M>): ConsumeBatch {
    // The message type is erased here (so one serializer takes every batch): each item only ever
    // goes to the encoder it came with.
    return new ConsumeBatch(items, encode as StoredMessageEncoder<unknown>);
  }

  /** Writes the `ConsumeResponse` fields into `writer`, as `ConsumeResponse.encode` would. */
  writeTo(writer: BinaryWriter): BinaryWriter {
    writer.uint32(tag(2)).fork();
    for (const item of this.#items) {
      writer.uint32(tag(1)).fork();
      if (item.txn === undefined) {
        this.#message(writer, 1, item.single);
      } else {
        writer.uint32(tag(2)).fork();
        this.#message(writer, 1, item.txn.begin);
        for (const m of item.txn.body) this.#message(writer, 2, m);
        this.#message(writer, 3, item.txn.commit);
        writer.join();
      }
      writer.join();
    }
    return writer.join();
  }

  #message(writer: BinaryWriter, field: number, message: unknown): void {
    // An encoded message is never empty (it has an id), so no field is left out as the generated
    // encoder leaves out empty bytes.
    writer.uint32(tag(field)).fork();
    this.#encode(message, writer);
    writer.join();
  }
}
