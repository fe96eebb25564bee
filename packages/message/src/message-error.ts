import { CodedError, isCodedError } from '@streamsvc/common';
import type { CodedErrorOptions } from '@streamsvc/common';

/**
 * Every way a message, a message id or a channel name can be wrong. Codes are API: callers branch on
 * them, never on the text. None is retriable — the same input fails the same way every time.
 */
export const MessageErrorCode = {
  /** A `_t` value, a type number or a type name that is not a known message type. */
  UNKNOWN_MESSAGE_TYPE: 'UNKNOWN_MESSAGE_TYPE',
  /** A user property key starting with `_` (reserved for the system). */
  RESERVED_PROPERTY: 'RESERVED_PROPERTY',
  /** A set-once system property (`_tt`, `_wt`, `_lc`, ...) set a second time. */
  PROPERTY_ALREADY_SET: 'PROPERTY_ALREADY_SET',
  /** A pchannel or vchannel name that does not follow `<cluster>-dml_<i>[_<collectionId>v<shard>]`. */
  INVALID_CHANNEL_NAME: 'INVALID_CHANNEL_NAME',
  /** A message over the size limit (payload + properties). */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** A message that is structurally wrong: missing header/body/vchannel, corrupt bytes, bad property value. */
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  /** A message-id string a codec cannot parse, or an id value out of range. */
  INVALID_MESSAGE_ID: 'INVALID_MESSAGE_ID',
  /** Two message ids (or an id and a codec) of different WAL backends used together. */
  WAL_MISMATCH: 'WAL_MISMATCH',
  /** A WAL name no registered message-id codec handles. */
  UNKNOWN_WAL_NAME: 'UNKNOWN_WAL_NAME',
  /** Two message-id codecs registered under the same WAL name. */
  DUPLICATE_WAL_NAME: 'DUPLICATE_WAL_NAME',
} as const;

/** One of the {@link MessageErrorCode} values. */
export type MessageErrorCode = (typeof MessageErrorCode)[keyof typeof MessageErrorCode];

const DOMAIN = 'message';

/**
 * The error of the message layer. The text always starts with `[message]` and names the bad input;
 * `details` carries the same facts as fields for structured logs.
 */
export class MessageError extends CodedError<MessageErrorCode> {
  /** Creates an error; `message` is the explanation without the `[message]` prefix. */
  constructor(code: MessageErrorCode, message: string, options: CodedErrorOptions = {}) {
    super(DOMAIN, code, `[message] ${message}`, false, options);
  }

  /**
   * True when `e` is a message-layer error (with `code`, when given). Works across copies of this package
   * because it checks the error brand, not the prototype chain.
   */
  static is(e: unknown, code?: MessageErrorCode): e is MessageError {
    return isCodedError(e, DOMAIN, code);
  }
}
