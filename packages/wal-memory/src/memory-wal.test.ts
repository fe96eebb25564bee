import { noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';
import type { ImmutableMessage } from '@streamsvc/message';
import type { BackendScanner } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import { MemoryLogStore, memoryMessageIds, memoryWal, memoryWalConfigSchema } from './index.js';

const deps = { logger: noopLogger, clock: systemClock };
const pchannel = 'mem-dml_0';

function message(key: string) {
  return MessageBuilder.data(new TextEncoder().encode(key))
    .vchannel(`${pchannel}_1v0`)
    .properties({ key })
    .build()
    .withTimeTick(1n)
    .withLastConfirmedSelf();
}

async function take(scanner: BackendScanner, n: number): Promise<ImmutableMessage[]> {
  const it = scanner[Symbol.asyncIterator]();
  const out: ImmutableMessage[] = [];
  while (out.length < n) {
    const step = await it.next();
    if (step.done === true) break;
    out.push(step.value);
  }
  return out;
}

describe('memoryWal', () => {
  it('is named memory, issues memory ids and promises native fencing, real truncation and read-only opens', () => {
    expect(memoryWal.name).toBe('memory');
    expect(memoryWal.messageIds).toBe(memoryMessageIds);
    expect(memoryWal.messageIds.walName).toBe('memory');
    expect(memoryWal.capabilities).toEqual({ fencing: 'native', truncate: true, readOnlyOpen: true });
  });

  it('fills the defaults for an empty configuration', () => {
    expect(memoryWalConfigSchema.parse({})).toEqual({ appendLatencyMs: 0 });
  });

  it('rejects unknown keys and out-of-range values, naming each path', () => {
    const result = memoryWalConfigSchema.safeParse({
      appendLatencyMs: -1,
      maxRecordsPerChannel: 0,
      typo: 1,
      store: {},
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.') || '(root)').sort();
    expect(paths).toEqual(['(root)', 'appendLatencyMs', 'maxRecordsPerChannel', 'store']);
  });

  it('rejects an invalid configuration in createOpener with INVALID_CONFIG, also without the registry', async () => {
    const e = await memoryWal.createOpener({ appendLatencyMs: 1.5 }, deps).catch((x: unknown) => x);
    expect(WalError.is(e, WalErrorCode.INVALID_CONFIG)).toBe(true);
    expect((e as Error).message).toContain('appendLatencyMs');
  });

  it('keeps the logs of each opener private unless a store is shared', async () => {
    const store = new MemoryLogStore();
    const [a, b, c] = await Promise.all([
      memoryWal.createOpener({ appendLatencyMs: 0, store }, deps),
      memoryWal.createOpener({ appendLatencyMs: 0, store }, deps),
      memoryWal.createOpener({ appendLatencyMs: 0 }, deps),
    ]);
    const writer = await a.open({ pchannel, term: 1n, mode: 'rw' });
    await writer.append(message('shared'));
    const sharing = await b.open({ pchannel, term: 1n, mode: 'ro' });
    expect(
      (await take(await sharing.read({ policy: { kind: 'all' } }), 1)).map((m) => m.userProperties.get('key')),
    ).toEqual(['shared']);
    const separate = await c.open({ pchannel, term: 1n, mode: 'ro' });
    await expect(separate.read({ policy: { kind: 'startFrom', id: memoryMessageIds.of(0n) } })).rejects.toMatchObject({
      code: WalErrorCode.INVALID_MESSAGE_ID,
    });
    expect(store.pchannels).toEqual([pchannel]);
    expect(store.stats(pchannel)).toEqual({ firstOffset: 0n, nextOffset: 1n, records: 1, writerTerm: 1n });
    expect(store.stats('never-opened')).toBeUndefined();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('rejects a message without a time tick or last-confirmed id with INVALID_ARGUMENT and writes nothing', async () => {
    const store = new MemoryLogStore();
    const opener = await memoryWal.createOpener({ appendLatencyMs: 0, store }, deps);
    const wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
    const bare = MessageBuilder.data(new Uint8Array([1]))
      .vchannel(`${pchannel}_1v0`)
      .build();
    await expect(wal.append(bare)).rejects.toMatchObject({
      code: WalErrorCode.INVALID_ARGUMENT,
      message: expect.stringContaining('time tick'),
    });
    await expect(wal.append(bare.withTimeTick(5n))).rejects.toMatchObject({ code: WalErrorCode.INVALID_ARGUMENT });
    expect(store.stats(pchannel)?.nextOffset).toBe(0n);
    await opener.close();
  });

  it('stores the message as it was at the append: later changes to the object do not reach the log', async () => {
    const opener = await memoryWal.createOpener({ appendLatencyMs: 0 }, deps);
    const wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
    const m = message('original');
    await wal.append(m);
    m.withBarrierTimeTick(99n).withWalTerm(7n);
    const [stored] = await take(await wal.read({ policy: { kind: 'all' } }), 1);
    expect(stored!.barrierTimeTick).toBeUndefined();
    expect(stored!.walTerm).toBeUndefined();
    expect(stored!.userProperties.get('key')).toBe('original');
    await opener.close();
  });

  it('decodes a fresh message on every read, with the id it was stored at as its own last-confirmed id', async () => {
    const opener = await memoryWal.createOpener({ appendLatencyMs: 0 }, deps);
    const wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
    const id = await wal.append(message('a'));
    const [first] = await take(await wal.read({ policy: { kind: 'all' } }), 1);
    const [second] = await take(await wal.read({ policy: { kind: 'all' } }), 1);
    expect(first).not.toBe(second);
    expect(first!.id.equals(id) && second!.id.equals(id)).toBe(true);
    expect(first!.lastConfirmed.equals(id)).toBe(true);
    expect(first!.timeTick).toBe(1n);
    await opener.close();
  });

  it('stores a TimeTick without a vchannel (one for every vchannel of the pchannel) and reads it back', async () => {
    const opener = await memoryWal.createOpener({ appendLatencyMs: 0 }, deps);
    const wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
    await wal.append(message('first'));
    await wal.append(MessageBuilder.timeTick().build().withTimeTick(7n).withLastConfirmed(memoryMessageIds.of(0n)));
    const [, stored] = await take(await wal.read({ policy: { kind: 'all' } }), 2);
    expect([stored!.typeName, stored!.vchannel, stored!.timeTick, stored!.lastConfirmed.toString()]).toEqual([
      'TimeTick',
      undefined,
      7n,
      'v1:0',
    ]);
    await opener.close();
  });
});
