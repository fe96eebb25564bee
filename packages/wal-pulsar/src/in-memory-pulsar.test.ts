import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import { InMemoryPulsar } from './index.js';
import type { PulsarPortMessage } from './index.js';
import { claimTopic } from './topic-claim.js';

const TOPIC = 'persistent://public/default/t';
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (m: PulsarPortMessage): string => new TextDecoder().decode(m.payload);

describe('InMemoryPulsar', () => {
  it('fences the older exclusive producer when a newer one is created (ExclusiveWithFencing)', async () => {
    const pulsar = new InMemoryPulsar();
    const old = await pulsar.createProducer(TOPIC, {});
    await old.send(bytes('a'), {});
    const fresh = await pulsar.createProducer(TOPIC, {});
    const error = await old.send(bytes('b'), {}).catch((e: unknown) => e);
    expect(WalError.is(error, WalErrorCode.FENCED)).toBe(true);
    await fresh.send(bytes('c'), {});
    const reader = await pulsar.createReader(TOPIC, { kind: 'earliest' });
    expect([text(await reader.readNext()), text(await reader.readNext())]).toEqual(['a', 'c']);
    expect(pulsar.stats(TOPIC)).toMatchObject({ messages: 2, producerEpoch: 2 });
  });

  it('starts readers inclusive or exclusive at an id, at earliest and at latest', async () => {
    const pulsar = new InMemoryPulsar({ maxEntriesPerLedger: 2 });
    const producer = await pulsar.createProducer(TOPIC, {});
    const ids = [];
    for (const t of ['a', 'b', 'c', 'd', 'e']) ids.push(await producer.send(bytes(t), { k: t }));
    const first = async (start: Parameters<InMemoryPulsar['createReader']>[1]): Promise<string> =>
      text(await (await pulsar.createReader(TOPIC, start)).readNext());
    expect(await first({ kind: 'earliest' })).toBe('a');
    expect(await first({ kind: 'id', id: ids[2]!, inclusive: true })).toBe('c');
    expect(await first({ kind: 'id', id: ids[2]!, inclusive: false })).toBe('d');
    // Across a ledger boundary (2 entries per ledger): after b comes c, in the next ledger.
    expect(ids[1]!.ledgerId).not.toBe(ids[2]!.ledgerId);
    expect(await first({ kind: 'id', id: ids[1]!, inclusive: false })).toBe('c');
    const latest = await pulsar.createReader(TOPIC, { kind: 'latest' });
    const pending = latest.readNext();
    await producer.send(bytes('f'), {});
    expect(text(await pending)).toBe('f');
    expect((await pulsar.lastMessage(TOPIC))?.properties).toEqual({});
  });

  it('wakes a reader waiting at the tail on publish, without timers', async () => {
    jest.useFakeTimers();
    try {
      const pulsar = new InMemoryPulsar();
      const producer = await pulsar.createProducer(TOPIC, {});
      const reader = await pulsar.createReader(TOPIC, { kind: 'latest' });
      const pending = reader.readNext();
      expect(jest.getTimerCount()).toBe(0);
      await producer.send(bytes('x'), {});
      expect(text(await pending)).toBe('x');
    } finally {
      jest.useRealTimers();
    }
  });

  it('an aborted read rejects with the reason and skips nothing; close rejects a pending read with CLOSED', async () => {
    const pulsar = new InMemoryPulsar();
    const producer = await pulsar.createProducer(TOPIC, {});
    const reader = await pulsar.createReader(TOPIC, { kind: 'latest' });
    const abort = new AbortController();
    const aborted = reader.readNext({ signal: abort.signal });
    abort.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    await producer.send(bytes('kept'), {});
    expect(text(await reader.readNext())).toBe('kept');
    const pending = reader.readNext();
    await reader.close();
    await expect(pending).rejects.toMatchObject({ code: WalErrorCode.CLOSED });
  });

  it('truncation deletes whole ledgers before the id and keeps the id', async () => {
    const pulsar = new InMemoryPulsar({ maxEntriesPerLedger: 3 });
    const producer = await pulsar.createProducer(TOPIC, {});
    const ids = [];
    for (let i = 0; i < 9; i++) ids.push(await producer.send(bytes(String(i)), {}));
    await pulsar.truncate(TOPIC, ids[4]!); // ledgers: [0,1,2] [3,4,5] [6,7,8]
    expect(pulsar.stats(TOPIC)).toMatchObject({ messages: 6, ledgers: 2 });
    const reader = await pulsar.createReader(TOPIC, { kind: 'id', id: ids[0]!, inclusive: true });
    expect(text(await reader.readNext())).toBe('3');
  });

  it('rejects a bad ledger size with INVALID_ARGUMENT', () => {
    expect(() => new InMemoryPulsar({ maxEntriesPerLedger: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('claimTopic', () => {
  it('rejects an open whose producer won a race against a newer term that wrote its marker first', async () => {
    const pulsar = new InMemoryPulsar();
    // The stale owner (term 1) saw an empty topic (its lastMessage ran before the newer owner's claim);
    // the newer owner (term 2) then claimed the topic in full before the stale one created its producer.
    const newer = await claimTopic(pulsar, TOPIC, 2n, 'newer');
    const raced = await claimTopic(
      {
        createProducer: (t, o, c) => pulsar.createProducer(t, o, c),
        createReader: (t, s, c) => pulsar.createReader(t, s, c),
        lastMessage: async () => undefined,
        truncate: (t, i, c) => pulsar.truncate(t, i, c),
        close: () => pulsar.close(),
      },
      TOPIC,
      1n,
      'stale',
    ).catch((e: unknown) => e);
    expect(WalError.is(raced, WalErrorCode.FENCED)).toBe(true);
    // The stale producer did fence the newer one (a liveness cost, reported in the README), but wrote no data.
    await expect(newer.send(bytes('x'), {})).rejects.toMatchObject({ code: WalErrorCode.FENCED });
  });

  it('refuses an older term than the newest message without creating a producer', async () => {
    const pulsar = new InMemoryPulsar();
    await claimTopic(pulsar, TOPIC, 3n, 'current');
    await expect(claimTopic(pulsar, TOPIC, 2n, 'stale')).rejects.toMatchObject({ code: WalErrorCode.FENCED });
    expect(pulsar.stats(TOPIC)?.producerEpoch).toBe(1);
  });
});
