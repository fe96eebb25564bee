import { MessageError } from './message-error.js';
import type { MessageId, MessageIdCodec } from './message-id.js';

/**
 * An immutable lookup of message-id codecs by WAL name, so that a client or a checkpoint reader can parse
 * an id from any backend it knows (`common.MessageID` on the wire carries the WAL name next to the id).
 * Built once by the app from the backends it wires: `MessageIdCodecs.of(backends.map((b) => b.messageIds))`.
 */
export class MessageIdCodecs {
  readonly #byName: ReadonlyMap<string, MessageIdCodec>;

  private constructor(byName: ReadonlyMap<string, MessageIdCodec>) {
    this.#byName = byName;
  }

  /**
   * Builds the lookup.
   * @throws MessageError `DUPLICATE_WAL_NAME` when two codecs share a WAL name (which one wins would be a
   *   guess, and a wrong guess misreads persisted ids).
   */
  static of(codecs: Iterable<MessageIdCodec>): MessageIdCodecs {
    const byName = new Map<string, MessageIdCodec>();
    for (const codec of codecs) {
      if (byName.has(codec.walName)) {
        throw new MessageError(
          'DUPLICATE_WAL_NAME',
          `two message-id codecs are registered for wal "${codec.walName}"`,
          {
            details: { walName: codec.walName },
          },
        );
      }
      byName.set(codec.walName, codec);
    }
    return new MessageIdCodecs(byName);
  }

  /** The WAL names with a codec, sorted. */
  get walNames(): readonly string[] {
    return [...this.#byName.keys()].sort();
  }

  /** True when a codec for `walName` is registered. */
  has(walName: string): boolean {
    return this.#byName.has(walName);
  }

  /**
   * The codec of `walName`.
   * @throws MessageError `UNKNOWN_WAL_NAME` naming `walName` and listing the known names.
   */
  get(walName: string): MessageIdCodec {
    const codec = this.#byName.get(walName);
    if (codec === undefined) {
      const known = this.walNames;
      throw new MessageError(
        'UNKNOWN_WAL_NAME',
        `no message-id codec for wal ${JSON.stringify(walName)}; known: ${known.length === 0 ? '(none)' : known.join(', ')}`,
        { details: { walName, known } },
      );
    }
    return codec;
  }

  /**
   * Parses `text` with the codec of `walName`.
   * @throws MessageError `UNKNOWN_WAL_NAME` for an unknown WAL; `INVALID_MESSAGE_ID` for a bad string.
   */
  parse(walName: string, text: string): MessageId {
    return this.get(walName).parse(text);
  }
}
