import { MessageError } from './message-error.js';

/**
 * A backend's position of a record: totally ordered within one pchannel, with a stable string form.
 * The string form is persisted (consume checkpoints in etcd, `_lc` of every message) and must parse back
 * to an equal id in every later version of the backend.
 */
export interface MessageId {
  /** The WAL backend that issued the id, e.g. `memory`, `kafka`, `woodpecker`. */
  readonly walName: string;
  /**
   * -1, 0 or 1 as this id is before, at or after `other`.
   * @throws MessageError `WAL_MISMATCH` when `other` comes from another WAL backend (or another id kind).
   */
  compare(other: MessageId): -1 | 0 | 1;
  /**
   * True when both ids denote the same position.
   * @throws MessageError `WAL_MISMATCH` like {@link MessageId.compare}.
   */
  equals(other: MessageId): boolean;
  /**
   * The stable, versioned string form; `codec.parse(id.toString())` equals `id`. Ids never change, so
   * one object always gives the same text: compute it once per object (the append path asks the same
   * last-confirmed id for it on every message stamped with it).
   */
  toString(): string;
}

/** Parses the string form of one backend's message ids. Backends expose theirs as `WalBackend.messageIds`. */
export interface MessageIdCodec<Id extends MessageId = MessageId> {
  /** The WAL name stamped on every id this codec parses. */
  readonly walName: string;
  /**
   * Parses a string produced by `MessageId.toString()` of this backend (any version it ever wrote).
   * @throws MessageError `INVALID_MESSAGE_ID` naming the string when it is not a valid id.
   */
  parse(text: string): Id;
}

const WAL_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Checks a WAL name: lowercase letters, digits and `-`, starting with a letter, at most 63 characters.
 * @throws MessageError `INVALID_MESSAGE_ID` naming the bad name.
 */
export function checkWalName(walName: string): void {
  if (typeof walName !== 'string' || !WAL_NAME.test(walName)) {
    throw new MessageError(
      'INVALID_MESSAGE_ID',
      `invalid wal name ${JSON.stringify(walName)}: expected lowercase letters, digits and "-", starting with a letter`,
      { details: { walName } },
    );
  }
}

/**
 * Throws unless `a` and `b` come from the same WAL backend. Ids of different backends have no order:
 * comparing them is always a wiring bug (e.g. a checkpoint written by Kafka read against Woodpecker).
 * @throws MessageError `WAL_MISMATCH` naming both WAL names.
 */
export function assertSameWal(a: { readonly walName: string }, b: { readonly walName: string }): void {
  if (a.walName !== b.walName) {
    throw new MessageError('WAL_MISMATCH', `cannot mix message ids of wal "${a.walName}" and wal "${b.walName}"`, {
      details: { left: a.walName, right: b.walName },
    });
  }
}

/** The largest id component: backends store offsets, segment and entry ids as signed 64-bit integers. */
export const MAX_ID_COMPONENT = (1n << 63n) - 1n;

const DECIMAL = /^(0|[1-9][0-9]{0,18})$/;

/**
 * Parses one canonical decimal id component (no sign, no leading zeros) in [0, 2^63-1].
 * Returns undefined on anything else so that callers raise one error naming the whole id string.
 */
export function parseIdComponent(text: string): bigint | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = BigInt(text);
  return value > MAX_ID_COMPONENT ? undefined : value;
}

/**
 * Checks an id component handed to a codec's `of(...)`.
 * @throws MessageError `INVALID_MESSAGE_ID` when it is not a bigint in [0, 2^63-1].
 */
export function checkIdComponent(value: bigint, what: string, walName: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_ID_COMPONENT) {
    throw new MessageError(
      'INVALID_MESSAGE_ID',
      `${what} ${String(value)} of a ${walName} message id is outside [0, 2^63-1]`,
      {
        details: { walName, what },
      },
    );
  }
}

/** The error every codec raises for a string it cannot parse. */
export function invalidIdString(walName: string, text: string, expected: string): MessageError {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return new MessageError(
    'INVALID_MESSAGE_ID',
    `${JSON.stringify(shown)} is not a valid ${walName} message id (expected ${expected})`,
    { details: { walName, text: shown } },
  );
}

/** Maps a numeric difference to the compare result. */
export function sign(d: bigint): -1 | 0 | 1 {
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
