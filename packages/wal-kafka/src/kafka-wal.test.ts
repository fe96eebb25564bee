import { ManualClock, noopLogger, systemClock } from '@streamsvc/common';
import type { Clock } from '@streamsvc/common';
import { counterMessageIdCodec, MessageBuilder } from '@streamsvc/message';
import type { MessageId, MutableMessage } from '@streamsvc/message';
import type { BackendWal, WalOpener } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { KafkaWalConfigInput } from './config.js';
import { createKafkaWal } from './kafka-wal.js';
import { kafkaMessageIds } from './message-ids.js';
import { FakeKafka } from './test-support/fake-kafka-port.js';

const encoder = new TextEncoder();

function message(key: string, tt: bigint, payloadBytes = 8): MutableMessage {
  return MessageBuilder.data(payloadBytes === 8 ? encoder.encode(key.padEnd(8)) : new Uint8Array(payloadBytes))
    .vchannel('p-dml_0_1v0')
    .properties({ key })
    .build()
    .withTimeTick(tt)
    .withLastConfirmedSelf();
}

async function expectWalError(promise: Promise<unknown>, code: WalErrorCode): Promise<WalError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!WalError.is(e, code)) throw new Error(`expected WalError ${code}, got ${String(e)}`);
  return e;
}

describe('the Kafka backend over a fake Kafka', () => {
  let kafka: FakeKafka;
  const openers: WalOpener[] = [];
  const backend = createKafkaWal(() => kafka.port());
  const opener = async (extra: KafkaWalConfigInput | object = {}, clock: Clock = systemClock): Promise<WalOpener> => {
    const o = await backend.createOpener(
      backend.configSchema.parse({ brokers: ['fake:9092'], fetchMaxWaitMs: 20, ...extra }),
      { logger: noopLogger, clock },
    );
    openers.push(o);
    return o;
  };
  const rw = async (o: WalOpener, term = 1n): Promise<BackendWal> => o.open({ pchannel: 'p-dml_0', term, mode: 'rw' });

  beforeEach(() => {
    kafka = new FakeKafka();
  });
  afterEach(async () => {
    await Promise.all(openers.splice(0).map((o) => o.close()));
  });

  it('sends appends made in one turn of the event loop as one produce request, with consecutive ids', async () => {
    const wal = await rw(await opener());
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => wal.append(message(`m${i}`, BigInt(i + 1)))));
    expect(kafka.produced).toEqual([10]);
    expect(ids.map((id) => id.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `v1:${i}`));
  });

  it('splits a batch at maxBatchRecords and keeps queue order across requests', async () => {
    const wal = await rw(await opener({ maxBatchRecords: 4 }));
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => wal.append(message(`m${i}`, BigInt(i + 1)))));
    expect(kafka.produced).toEqual([4, 4, 2]);
    expect(ids.map((id) => kafkaMessageIds.parse(id.toString()).offset)).toEqual(
      Array.from({ length: 10 }, (_, i) => BigInt(i)),
    );
  });

  it('rejects an append aborted while it waits for its batch with the abort reason, and writes nothing', async () => {
    const clock = new ManualClock();
    const wal = await rw(await opener({ lingerMs: 50 }, clock));
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const aborted = wal.append(message('aborted', 1n), { signal: controller.signal });
    const kept = wal.append(message('kept', 2n));
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    clock.advance(50);
    expect((await kept).toString()).toBe('v1:0');
    expect(kafka.produced).toEqual([1]);
  });

  it('rejects an append aborted after its request was sent with OUTCOME_UNKNOWN, and the record lands', async () => {
    const wal = await rw(await opener());
    let answer!: () => void;
    kafka.produceGate = new Promise<void>((resolve) => (answer = resolve));
    const controller = new AbortController();
    const append = wal.append(message('sent', 1n), { signal: controller.signal });
    await new Promise((r) => setImmediate(r)); // the batch leaves on the next turn
    controller.abort(new Error('too late'));
    await expectWalError(append, WalErrorCode.OUTCOME_UNKNOWN);
    answer();
    await wal.close(); // waits for the request in flight
    expect(kafka.produced).toEqual([1]);
  });

  it('refuses a message larger than maxMessageBytes with INVALID_ARGUMENT before sending anything', async () => {
    const wal = await rw(await opener({ maxMessageBytes: 1024 }));
    const e = await expectWalError(wal.append(message('big', 1n, 2048)), WalErrorCode.INVALID_ARGUMENT);
    expect(e.message).toContain('maxMessageBytes');
    expect(kafka.produced).toEqual([]);
  });

  it('refuses a message without a time tick with INVALID_ARGUMENT', async () => {
    const wal = await rw(await opener());
    const m = MessageBuilder.data(encoder.encode('x')).vchannel('p-dml_0_1v0').build().withLastConfirmedSelf();
    await expectWalError(wal.append(m), WalErrorCode.INVALID_ARGUMENT);
  });

  it('rejects reads and truncates from an id the partition never issued with INVALID_MESSAGE_ID', async () => {
    const wal = await rw(await opener());
    await wal.append(message('only', 1n));
    const unissued = kafkaMessageIds.of(1n);
    await expectWalError(wal.read({ policy: { kind: 'startFrom', id: unissued } }), WalErrorCode.INVALID_MESSAGE_ID);
    await expectWalError(wal.read({ policy: { kind: 'startAfter', id: unissued } }), WalErrorCode.INVALID_MESSAGE_ID);
    await expectWalError(wal.truncate(unissued), WalErrorCode.INVALID_MESSAGE_ID);
    const foreign: MessageId = counterMessageIdCodec('memory').of(0n);
    await expectWalError(wal.truncate(foreign), WalErrorCode.INVALID_MESSAGE_ID);
  });

  it('continues a reader whose position retention removed at the first retained record', async () => {
    const wal = await rw(await opener());
    for (let i = 0; i < 6; i++) await wal.append(message(`m${i}`, BigInt(i + 1)));
    const scanner = await wal.read({ policy: { kind: 'startFrom', id: kafkaMessageIds.of(1n) } });
    kafka.dropBefore('p-dml_0', 4n);
    const it = scanner[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done === true ? undefined : first.value.id.toString()).toBe('v1:4');
    await scanner.close();
  });

  it('reports a record that does not decode as CORRUPT, naming topic and offset', async () => {
    const wal = await rw(await opener());
    kafka.partition('p-dml_0').records.push(Uint8Array.from([9, 9, 9]));
    const scanner = await wal.read({ policy: { kind: 'all' } });
    const it = scanner[Symbol.asyncIterator]();
    const e = await expectWalError(it.next(), WalErrorCode.CORRUPT);
    expect(e.message).toContain('"p-dml_0" partition 0 offset 0');
    await expectWalError(it.next(), WalErrorCode.CORRUPT); // never skipped silently
    await scanner.close();
  });

  it('opens nothing when the topic is missing and auto-creation is off: UNAVAILABLE, not retriable', async () => {
    kafka.autoCreate = false;
    const e = await expectWalError(rw(await opener()), WalErrorCode.UNAVAILABLE);
    expect(e.retriable).toBe(false);
  });

  it('prefixes topics with topicPrefix and refuses a pchannel that makes an invalid topic name', async () => {
    const o = await opener({ topicPrefix: 'wal.' });
    await rw(o);
    expect([...kafka.topics.keys()]).toEqual(['wal.p-dml_0']);
    await expectWalError(o.open({ pchannel: 'bad name', term: 1n, mode: 'rw' }), WalErrorCode.INVALID_ARGUMENT);
  });

  it('keeps a reader retrying through an outage and resumes it where it stopped', async () => {
    const wal = await rw(await opener());
    await wal.append(message('before', 1n));
    const scanner = await wal.read({ policy: { kind: 'all' } });
    const it = scanner[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    kafka.failure = new WalError(WalErrorCode.UNAVAILABLE, 'broker down');
    const waiting = it.next();
    await new Promise((r) => setTimeout(r, 120)); // a few failed fetches with back-off
    kafka.failure = undefined;
    await wal.append(message('after', 2n));
    const step = await waiting;
    expect(step.done === true ? undefined : step.value.userProperties.get('key')).toBe('after');
    await scanner.close();
  });

  describe('with transactionalFencing (a producer epoch per pchannel)', () => {
    it('fences the older writer when a newer one opens: its appends reject FENCED from then on', async () => {
      const old = await rw(await opener({ transactionalFencing: true }), 1n);
      await old.append(message('old', 1n));
      const fresh = await rw(await opener({ transactionalFencing: true }), 2n);
      await expectWalError(old.append(message('old-after', 2n)), WalErrorCode.FENCED);
      await expectWalError(old.append(message('old-again', 3n)), WalErrorCode.FENCED);
      await expectWalError(old.truncate(kafkaMessageIds.of(0n)), WalErrorCode.FENCED);
      expect((await fresh.append(message('new', 4n))).toString()).toBe('v1:1');
      expect(kafka.epochs.get('streamsvc-wal-p-dml_0')).toBe(2);
    });
  });
});
