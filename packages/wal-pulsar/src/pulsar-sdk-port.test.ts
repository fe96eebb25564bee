import { noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import { describeBackendConformance } from '@streamsvc/wal-conformance';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import type { BackendWal, WalOpener } from '@streamsvc/wal-core';
import { FakePulsarBroker } from '../test/support/fake-pulsar-sdk.js';
import {
  createPulsarWal,
  loadPulsarSdk,
  PULSAR_RESULT_CODES,
  pulsarMessageIds,
  pulsarWalConfigSchema,
  toWalError,
} from './index.js';
import type { PulsarWalConfigInput, SdkProducerConfig } from './index.js';

const deps = { logger: noopLogger, clock: systemClock };

function message(text: string, tt: bigint): MutableMessage {
  return MessageBuilder.data(new TextEncoder().encode(text))
    .vchannel('by-dev-dml_0_449v0')
    .build()
    .withTimeTick(tt)
    .withLastConfirmedSelf();
}

async function openerOn(broker: FakePulsarBroker, extra: Partial<PulsarWalConfigInput> = {}): Promise<WalOpener> {
  const backend = createPulsarWal({ loadSdk: async () => broker.sdk });
  return backend.createOpener(
    pulsarWalConfigSchema.parse({ serviceUrl: 'pulsar://broker:6650', readWaitMs: 20, ...extra }),
    deps,
  );
}

function callsOf(broker: FakePulsarBroker, method: string): unknown[] {
  return broker.calls.filter((c) => c.method === method).map((c) => c.config);
}

describe('the pulsar-client adapter, against a fake SDK of the documented shape', () => {
  let broker: FakePulsarBroker;
  const openers: WalOpener[] = [];
  beforeEach(() => {
    broker = new FakePulsarBroker();
  });
  afterEach(async () => {
    await Promise.all(openers.splice(0).map((o) => o.close()));
  });
  const open = async (extra?: Partial<PulsarWalConfigInput>): Promise<WalOpener> => {
    const opener = await openerOn(broker, extra);
    openers.push(opener);
    return opener;
  };

  it('rejects with an actionable INVALID_CONFIG when pulsar-client cannot be loaded', async () => {
    const missing = Object.assign(new Error("Cannot find module 'pulsar-client'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const backend = createPulsarWal({ loadSdk: () => Promise.reject(missing) });
    const config = pulsarWalConfigSchema.parse({ serviceUrl: 'pulsar://localhost:6650' });
    const error = await backend.createOpener(config, deps).catch((e: unknown) => e);
    expect(WalError.is(error, WalErrorCode.INVALID_CONFIG)).toBe(true);
    expect((error as Error).message).toContain('npm install pulsar-client');
    expect((error as Error).message).toContain('Pulsar C++ client library');
    expect((error as WalError).cause).toBe(missing);
  });

  it('rejects a module that does not look like pulsar-client with INVALID_CONFIG', async () => {
    await expect(loadPulsarSdk(async () => ({ default: {} }))).rejects.toMatchObject({
      code: WalErrorCode.INVALID_CONFIG,
    });
  });

  it('the default loader imports the real pulsar-client lazily and, when absent, says how to install it', async () => {
    // pulsar-client is not installed in this workspace (a native addon needing libpulsar).
    const error = await loadPulsarSdk().catch((e: unknown) => e);
    expect(WalError.is(error, WalErrorCode.INVALID_CONFIG)).toBe(true);
    expect((error as Error).message).toMatch(/npm install pulsar-client/);
  });

  it('creates the client from the configuration, with whole seconds and token authentication', async () => {
    await open({ operationTimeoutMs: 2_500, authToken: 'jwt' });
    const [config] = callsOf(broker, 'Client') as [
      { serviceUrl: string; operationTimeoutSeconds: number; authentication: unknown },
    ];
    expect(config.serviceUrl).toBe('pulsar://broker:6650');
    expect(config.operationTimeoutSeconds).toBe(3);
    expect(config.authentication).toMatchObject({ params: { token: 'jwt' } });
  });

  it('a read-write open creates an ExclusiveWithFencing producer on the pchannel topic and writes a term marker', async () => {
    const opener = await open({ tenant: 'milvus', namespace: 'wal', topicPrefix: 'x-' });
    await opener.open({ pchannel: 'by-dev-dml_0', term: 3n, mode: 'rw' });
    const [producer] = callsOf(broker, 'createProducer') as [SdkProducerConfig];
    expect(producer).toMatchObject({
      topic: 'persistent://milvus/wal/x-by-dev-dml_0',
      accessMode: 'ExclusiveWithFencing',
      batchingEnabled: false,
    });
    const marker = broker.topic('persistent://milvus/wal/x-by-dev-dml_0').entries[0]!;
    expect(marker.properties).toEqual({ '__pulsar.term': '3', '__pulsar.marker': '' });
  });

  it('returns the SDK-assigned id in its serialized form and sends properties as Pulsar properties', async () => {
    const opener = await open();
    const wal = (await opener.open({ pchannel: 'p0', term: 1n, mode: 'rw' })) as BackendWal;
    const id = await wal.append(message('hello', 7n));
    const entry = broker.topic('persistent://public/default/p0').entries[1]!;
    expect(Buffer.from(pulsarMessageIds.parse(id.toString()).serialize())).toEqual(Buffer.from(entry.id.serialize()));
    expect(id.toString()).toBe(entry.id.toString());
    expect(entry.properties['__pulsar.term']).toBe('1');
    expect(entry.properties['_tt']).toBe(7n.toString(36));
    expect(new TextDecoder().decode(entry.data)).toBe('hello');
  });

  it('maps the fenced producer of the older owner to FENCED, and refuses a stale term without creating a producer', async () => {
    const old = (await (await open()).open({ pchannel: 'p1', term: 1n, mode: 'rw' })) as BackendWal;
    await old.append(message('a', 1n));
    const fresh = (await (await open()).open({ pchannel: 'p1', term: 2n, mode: 'rw' })) as BackendWal;
    const fenced = await old.append(message('b', 2n)).catch((e: unknown) => e);
    expect(WalError.is(fenced, WalErrorCode.FENCED)).toBe(true);
    expect((fenced as Error).message).toContain('ProducerFenced');
    await expect(old.append(message('c', 3n))).rejects.toMatchObject({ code: WalErrorCode.FENCED });
    await fresh.append(message('d', 4n));

    const producersBefore = callsOf(broker, 'createProducer').length;
    await expect((await open()).open({ pchannel: 'p1', term: 1n, mode: 'rw' })).rejects.toMatchObject({
      code: WalErrorCode.FENCED,
    });
    expect(callsOf(broker, 'createProducer')).toHaveLength(producersBefore);
  });

  it('starts an inclusive read just before the id, because the Node SDK has no startMessageIdInclusive', async () => {
    const opener = await open();
    const wal = (await opener.open({ pchannel: 'p2', term: 1n, mode: 'rw' })) as BackendWal;
    const first = await wal.append(message('first', 1n));
    await wal.append(message('second', 2n));
    const scanner = await wal.read({ policy: { kind: 'startFrom', id: first } });
    const readers = callsOf(broker, 'createReader') as { startMessageId: { value: { entryId: bigint } } }[];
    expect(readers.at(-1)!.startMessageId.value.entryId).toBe(pulsarMessageIds.parse(first.toString()).entryId - 1n);
    const iterator = scanner[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.id.toString()).toBe(first.toString());
    await scanner.close();
  });

  it('keeps waiting across readNext timeouts and delivers a message published later', async () => {
    const opener = await open({ readWaitMs: 10 });
    const wal = (await opener.open({ pchannel: 'p3', term: 1n, mode: 'rw' })) as BackendWal;
    const scanner = await wal.read({ policy: { kind: 'latest' } });
    const next = scanner[Symbol.asyncIterator]().next();
    await new Promise((r) => setTimeout(r, 50)); // several 10 ms long polls time out meanwhile
    const id = await wal.append(message('late', 1n));
    expect((await next).value?.id.toString()).toBe(id.toString());
    await scanner.close();
  });

  it('truncates by acknowledging cumulatively up to just before the id on the streamsvc-truncate subscription', async () => {
    const opener = await open();
    const wal = (await opener.open({ pchannel: 'p4', term: 1n, mode: 'rw' })) as BackendWal;
    await wal.append(message('a', 1n));
    const cut = await wal.append(message('b', 2n));
    await wal.truncate(cut);
    expect(callsOf(broker, 'subscribe')).toEqual([
      expect.objectContaining({
        topic: 'persistent://public/default/p4',
        subscription: 'streamsvc-truncate',
        subscriptionType: 'Failover',
      }),
    ]);
    const acked = broker.topic('persistent://public/default/p4').acknowledgedUpTo!;
    expect(acked.entryId).toBe(pulsarMessageIds.parse(cut.toString()).entryId - 1n);
  });

  it('turns a transient broker error on send into the retriable UNAVAILABLE', async () => {
    const opener = await open();
    const wal = (await opener.open({ pchannel: 'p5', term: 1n, mode: 'rw' })) as BackendWal;
    broker.failures['send'] = ['TimeOut'];
    const error = await wal.append(message('a', 1n)).catch((e: unknown) => e);
    expect(WalError.is(error, WalErrorCode.UNAVAILABLE)).toBe(true);
    expect((error as WalError).retriable).toBe(true);
    await expect(wal.append(message('b', 2n))).resolves.toBeDefined();
  });

  it('closes the client when its opener closes', async () => {
    const opener = await openerOn(broker);
    await opener.close();
    expect(callsOf(broker, 'Client.close')).toHaveLength(1);
  });
});

describe('toWalError', () => {
  it.each(Object.entries(PULSAR_RESULT_CODES))('maps the native result %s to %s', (result, code) => {
    const error = toWalError(new Error(`Failed to send message: ${result}`), 'send');
    expect(error.code).toBe(code);
    expect(error.message).toContain(result);
  });

  it('maps an unknown error to UNAVAILABLE and keeps it as the cause', () => {
    const native = new Error('Failed to send message: UnknownError');
    const error = toWalError(native, 'send');
    expect(error.code).toBe(WalErrorCode.UNAVAILABLE);
    expect(error.cause).toBe(native);
  });

  it('passes WalErrors through unchanged', () => {
    const closed = WalError.closed('x');
    expect(toWalError(closed, 'send')).toBe(closed);
  });
});

// The whole backend suite through the adapter and the fake SDK: the adapter's reader emulation of
// inclusive starts, its long-poll reads, its error mapping and its close paths, end to end.
const sharedBroker = new FakePulsarBroker();
describeBackendConformance({
  backend: createPulsarWal({ loadSdk: async () => sharedBroker.sdk }),
  config: () => pulsarWalConfigSchema.parse({ serviceUrl: 'pulsar://fake:6650', readWaitMs: 50 }),
  messageCount: 20,
  invalidConfig: { config: { serviceUrl: 'http://not-pulsar' }, path: 'serviceUrl' },
});
