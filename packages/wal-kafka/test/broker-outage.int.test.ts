import { noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';
import type { ImmutableMessage, MessageId, MutableMessage } from '@streamsvc/message';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { kafkaWal } from '../src/index.js';
import { kafkaFixture } from './support/kafka-fixture.js';

// testkit's Kafka is librdkafka's in-memory mock: it has no restart (a new process would have an empty
// log), so the outage is the mock's own `down <broker>` / `up <broker>`: the listener and every
// connection close, the partition's data stays — what a broker restart looks like to a client.
const kafka = kafkaFixture();
const deps = { logger: noopLogger, clock: systemClock };
const encoder = new TextEncoder();

function message(pchannel: string, key: string, tt: bigint, lastConfirmed: MessageId | undefined): MutableMessage {
  const m = MessageBuilder.data(encoder.encode(key))
    .vchannel(`${pchannel}_1v0`)
    .properties({ key })
    .build()
    .withTimeTick(tt);
  return lastConfirmed === undefined ? m.withLastConfirmedSelf() : m.withLastConfirmed(lastConfirmed);
}

async function take(iterator: AsyncIterator<ImmutableMessage>, count: number, timeoutMs: number): Promise<string[]> {
  const keys: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (keys.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`read ${keys.length} of ${count} records in ${timeoutMs} ms`);
    const step = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no record within ${left} ms`)), left)),
    ]);
    if (step.done === true) throw new Error(`the scanner ended after ${keys.length} records`);
    keys.push(step.value.userProperties.get('key') ?? '?');
  }
  return keys;
}

describe('a broker outage in the middle of a stream', () => {
  it('fails appends with retriable UNAVAILABLE while the broker is down, and a reader resumes after it without loss or duplicates', async () => {
    const config = kafka().config({ requestTimeoutMs: 1_000, connectionTimeoutMs: 300, retries: 1 });
    await using opener = await kafkaWal.createOpener(config, deps);
    const pchannel = 'outage-dml_0';
    const wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
    let tt = 1n;
    let last: MessageId | undefined;
    const append = async (key: string): Promise<MessageId> => {
      last = await wal.append(message(pchannel, key, tt++, last));
      return last;
    };
    for (let i = 0; i < 5; i++) await append(`before-${i}`);
    await using scanner = await wal.read({ policy: { kind: 'all' }, name: 'outage' });
    const iterator = scanner[Symbol.asyncIterator]();
    expect(await take(iterator, 5, 5_000)).toEqual([0, 1, 2, 3, 4].map((i) => `before-${i}`));

    await kafka().kafka.command('down 1');
    // The reader is now waiting at the tail on a broker that is gone; it must keep retrying, not end.
    const during = take(iterator, 5, 30_000);
    const failed = await wal.append(message(pchannel, 'during-outage', tt++, last)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(WalError.is(failed, WalErrorCode.UNAVAILABLE)).toBe(true);
    expect((failed as WalError).retriable).toBe(true);

    await kafka().kafka.command('up 1');
    // The WAL above retries UNAVAILABLE appends; here the test does, within a bounded number of tries.
    const after: string[] = [];
    for (let i = 0; i < 5; i++) {
      const key = `after-${i}`;
      for (let attempt = 1; ; attempt++) {
        try {
          await append(key);
          break;
        } catch (e) {
          if (!WalError.is(e, WalErrorCode.UNAVAILABLE) || attempt >= 20) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      after.push(key);
    }
    const resumed = await during;
    // The append that failed during the outage may or may not have reached the log (outcome unknown
    // to a client without idempotence); everything acknowledged is there exactly once, in order.
    const acknowledged = resumed.filter((k) => k !== 'during-outage');
    const rest = await take(iterator, after.length - acknowledged.length, 10_000);
    expect([...acknowledged, ...rest]).toEqual(after);
  }, 60_000);
});
