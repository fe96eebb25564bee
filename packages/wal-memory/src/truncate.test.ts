import { noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';
import type { MessageId } from '@streamsvc/message';
import type { BackendScanner, BackendWal, WalOpener } from '@streamsvc/wal-core';
import { WalErrorCode } from '@streamsvc/wal-core';
import { MemoryLogStore, memoryMessageIds, memoryWal } from './index.js';
import type { MemoryWalConfig } from './index.js';

const pchannel = 'trunc-dml_0';
const deps = { logger: noopLogger, clock: systemClock };

function message(key: string) {
  return MessageBuilder.data(new TextEncoder().encode(key))
    .vchannel(`${pchannel}_1v0`)
    .properties({ key })
    .build()
    .withTimeTick(1n)
    .withLastConfirmedSelf();
}

async function next(scanner: BackendScanner): Promise<string | undefined> {
  const step = await scanner[Symbol.asyncIterator]().next();
  return step.done === true ? undefined : step.value.userProperties.get('key');
}

async function keys(scanner: BackendScanner, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await next(scanner)) ?? '<end>');
  await scanner.close();
  return out;
}

describe('memory backend truncation', () => {
  let store: MemoryLogStore;
  let opener: WalOpener;
  let wal: BackendWal;
  let ids: MessageId[];

  async function setUp(config: Omit<MemoryWalConfig, 'store'> = { appendLatencyMs: 0 }, count = 10): Promise<void> {
    store = new MemoryLogStore();
    opener = await memoryWal.createOpener({ ...config, store }, deps);
    wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
    ids = [];
    for (let i = 0; i < count; i++) ids.push(await wal.append(message(`k${i}`)));
  }

  afterEach(() => opener.close());

  it('removes exactly the records before the id and keeps the id itself', async () => {
    await setUp();
    await wal.truncate(ids[4]!);
    expect(store.stats(pchannel)).toMatchObject({ firstOffset: 4n, nextOffset: 10n, records: 6 });
    expect(await keys(await wal.read({ policy: { kind: 'all' } }), 2)).toEqual(['k4', 'k5']);
  });

  it('starts a read from a truncated position at the first retained record', async () => {
    await setUp();
    await wal.truncate(ids[4]!);
    expect(await keys(await wal.read({ policy: { kind: 'startFrom', id: ids[1]! } }), 1)).toEqual(['k4']);
    expect(await keys(await wal.read({ policy: { kind: 'startAfter', id: ids[1]! } }), 1)).toEqual(['k4']);
    expect(await keys(await wal.read({ policy: { kind: 'startAfter', id: ids[4]! } }), 1)).toEqual(['k5']);
  });

  it('ignores a truncate to an id before the first retained record', async () => {
    await setUp();
    await wal.truncate(ids[6]!);
    await wal.truncate(ids[2]!);
    expect(store.stats(pchannel)).toMatchObject({ firstOffset: 6n, records: 4 });
  });

  it('keeps one record when truncating to the last id, and appends continue after it', async () => {
    await setUp();
    await wal.truncate(ids[9]!);
    const id = await wal.append(message('k10'));
    expect(id.equals(memoryMessageIds.of(10n))).toBe(true);
    expect(await keys(await wal.read({ policy: { kind: 'all' } }), 2)).toEqual(['k9', 'k10']);
  });

  it('rejects an id the log never issued, or of another backend, with INVALID_MESSAGE_ID', async () => {
    await setUp();
    await expect(wal.truncate(memoryMessageIds.of(10n))).rejects.toMatchObject({
      code: WalErrorCode.INVALID_MESSAGE_ID,
    });
    const kafkaLike = { walName: 'kafka', compare: () => 0 as const, equals: () => true, toString: () => 'v1:3' };
    await expect(wal.truncate(kafkaLike)).rejects.toMatchObject({ code: WalErrorCode.INVALID_MESSAGE_ID });
    expect(store.stats(pchannel)?.records).toBe(10);
  });

  it('moves a reader whose position was truncated away on to the first retained record', async () => {
    await setUp();
    const reader = await wal.read({ policy: { kind: 'all' } });
    expect(await next(reader)).toBe('k0');
    await wal.truncate(ids[7]!);
    expect(await keys(reader, 2)).toEqual(['k7', 'k8']);
  });

  it('drops the oldest records beyond maxRecordsPerChannel, like a retention limit', async () => {
    await setUp({ appendLatencyMs: 0, maxRecordsPerChannel: 3 });
    expect(store.stats(pchannel)).toMatchObject({ firstOffset: 7n, nextOffset: 10n, records: 3 });
    expect(await keys(await wal.read({ policy: { kind: 'all' } }), 3)).toEqual(['k7', 'k8', 'k9']);
  });

  it('keeps retention correct across many appends (the record array compacts itself)', async () => {
    await setUp({ appendLatencyMs: 0, maxRecordsPerChannel: 5 }, 3000);
    expect(store.stats(pchannel)).toMatchObject({ firstOffset: 2995n, nextOffset: 3000n, records: 5 });
    expect(await keys(await wal.read({ policy: { kind: 'startFrom', id: ids[2996]! } }), 2)).toEqual([
      'k2996',
      'k2997',
    ]);
  });
});
