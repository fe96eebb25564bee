/** What the crash test's writer child and its parent agree on: the log, the keys and the payloads. */
import { createHash } from 'node:crypto';

import { MessageBuilder, vchannelName } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';

export const CRASH_PCHANNEL = 'crash-dml_0';
export const CRASH_VCHANNEL = vchannelName(CRASH_PCHANNEL, 1n, 0);

/** The payload of `key`: 64..4159 bytes derived from it, so a reader can check every byte. */
export function payloadOf(key: string): Uint8Array {
  const seed = createHash('sha256').update(key).digest();
  const out = new Uint8Array(64 + (seed.readUInt16LE(0) % 4096));
  for (let i = 0; i < out.length; i++) out[i] = seed[i % seed.length]! ^ (i & 0xff);
  return out;
}

/** A Data message carrying `key`, stamped as the WAL would (time tick, its own last-confirmed id). */
export function crashMessage(key: string, timeTick: bigint): MutableMessage {
  return MessageBuilder.data(payloadOf(key))
    .vchannel(CRASH_VCHANNEL)
    .properties({ key })
    .build()
    .withTimeTick(timeTick)
    .withLastConfirmedSelf();
}
