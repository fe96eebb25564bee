import type { MessageId, MessageIdCodec } from '@streamsvc/message';

import { WalError, WalErrorCode } from './wal-error.js';

/**
 * For backends: `id` as one of the backend's own ids, parsed with its `codec`. Parsing the string form
 * (rather than reading fields) accepts ids from any copy of the message package and checks the value in
 * one place. `what` names the call for the error (e.g. `read from pchannel "p"`).
 * @throws {WalError} INVALID_MESSAGE_ID for an id of another backend, an unparsable one, or not an id.
 */
export function parseOwnMessageId<T extends MessageId>(codec: MessageIdCodec<T>, id: MessageId, what: string): T {
  let walName: unknown;
  let text: string;
  try {
    walName = id.walName;
    text = id.toString();
  } catch (cause) {
    throw new WalError(WalErrorCode.INVALID_MESSAGE_ID, `${what}: not a message id`, { cause });
  }
  if (walName !== codec.walName) {
    throw new WalError(
      WalErrorCode.INVALID_MESSAGE_ID,
      `${what}: id ${text} belongs to wal "${String(walName)}", not "${codec.walName}"`,
      { details: { walName: String(walName) } },
    );
  }
  try {
    return codec.parse(text);
  } catch (cause) {
    throw new WalError(WalErrorCode.INVALID_MESSAGE_ID, `${what}: ${text} is not a ${codec.walName} message id`, {
      cause,
    });
  }
}
