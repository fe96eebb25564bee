/** Small helpers of the integration tests: stamped messages and bounded reads. */
import { MessageBuilder, vchannelName } from '@streamsvc/message';
import type { ImmutableMessage, MutableMessage } from '@streamsvc/message';
import type { DeliverPolicy, ReadOnlyBackendWal } from '@streamsvc/wal-core';

let nextTimeTick = 1n << 40n;

/** A Data message with user property `key` (and a payload derived from it), stamped as the WAL would. */
export function keyed(pchannel: string, key: string, payloadBytes = 100): MutableMessage {
  const payload = Buffer.alloc(payloadBytes, key);
  return MessageBuilder.data(payload)
    .vchannel(vchannelName(pchannel, 1n, 0))
    .properties({ key })
    .build()
    .withTimeTick(nextTimeTick++)
    .withLastConfirmedSelf();
}

/** The `key` property of a read message. */
export function keyOf(m: ImmutableMessage): string {
  return m.userProperties.get('key') ?? '?';
}

/**
 * Reads from `policy` until `stop` accepts a record (included) or an error; each wait bounded.
 * @returns what was read and the error that ended the read, if any.
 */
export async function readLog(
  wal: ReadOnlyBackendWal,
  policy: DeliverPolicy,
  stop: (m: ImmutableMessage, count: number) => boolean,
  timeoutMs = 10_000,
): Promise<{ messages: ImmutableMessage[]; error: unknown }> {
  const scanner = await wal.read({ policy });
  const iterator = scanner[Symbol.asyncIterator]();
  const messages: ImmutableMessage[] = [];
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no record within ${timeoutMs} ms after ${messages.length}`)),
          timeoutMs,
        );
      });
      const step = await Promise.race([iterator.next(), timeout]).finally(() => clearTimeout(timer));
      if (step.done === true) return { messages, error: new Error('the scanner ended') };
      messages.push(step.value);
      if (stop(step.value, messages.length)) return { messages, error: undefined };
    }
  } catch (error) {
    return { messages, error };
  } finally {
    await scanner.close();
  }
}

/** Appends `count` records one after the other (each its own block in local mode); returns their keys. */
export async function appendSequential(
  wal: { append(m: MutableMessage): Promise<unknown> },
  pchannel: string,
  prefix: string,
  count: number,
): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `${prefix}/${i}`;
    await wal.append(keyed(pchannel, key));
    keys.push(key);
  }
  return keys;
}
