import { noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';
import type { BackendWal, WalOpener } from '@streamsvc/wal-core';
import { MemoryLogStore, memoryWal } from './index.js';

const pchannel = 'abort-dml_0';

function message(key: string) {
  return MessageBuilder.data(new TextEncoder().encode(key))
    .vchannel(`${pchannel}_1v0`)
    .properties({ key })
    .build()
    .withTimeTick(1n)
    .withLastConfirmedSelf();
}

function aborted(): { signal: AbortSignal; reason: Error } {
  const reason = new Error('stop');
  return { signal: AbortSignal.abort(reason), reason };
}

describe('memory backend abort before the call', () => {
  let store: MemoryLogStore;
  let opener: WalOpener;
  let wal: BackendWal;

  beforeEach(async () => {
    store = new MemoryLogStore();
    opener = await memoryWal.createOpener({ appendLatencyMs: 0, store }, { logger: noopLogger, clock: systemClock });
    wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
  });

  afterEach(() => opener.close());

  it('rejects an append with the abort reason and writes nothing', async () => {
    const { signal, reason } = aborted();
    await expect(wal.append(message('no'), { signal })).rejects.toBe(reason);
    expect(store.stats(pchannel)?.records).toBe(0);
  });

  it('rejects a truncate with the abort reason and truncates nothing', async () => {
    await wal.append(message('a'));
    await wal.append(message('b'));
    const last = await wal.append(message('c'));
    const { signal, reason } = aborted();
    await expect(wal.truncate(last, { signal })).rejects.toBe(reason);
    expect(store.stats(pchannel)).toMatchObject({ firstOffset: 0n, records: 3 });
  });

  it('rejects a read and an open with the abort reason', async () => {
    const read = aborted();
    await expect(wal.read({ policy: { kind: 'all' } }, { signal: read.signal })).rejects.toBe(read.reason);
    const open = aborted();
    await expect(opener.open({ pchannel: 'other-dml_0', term: 1n, mode: 'rw' }, { signal: open.signal })).rejects.toBe(
      open.reason,
    );
    expect(store.pchannels).toEqual([pchannel]);
  });

  it('rejects with a DOMException AbortError when the signal was aborted without a reason', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(wal.append(message('no'), { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
