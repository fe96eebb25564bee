import { ManualClock, noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';
import type { ImmutableMessage } from '@streamsvc/message';
import type { BackendScanner, WalOpener } from '@streamsvc/wal-core';
import { WalErrorCode } from '@streamsvc/wal-core';
import { MemoryLogStore, memoryWal } from './index.js';

const pchannel = 'fence-dml_0';

function message(key: string) {
  return MessageBuilder.data(new TextEncoder().encode(key))
    .vchannel(`${pchannel}_1v0`)
    .properties({ key })
    .build()
    .withTimeTick(1n)
    .withLastConfirmedSelf();
}

async function keys(scanner: BackendScanner, n: number): Promise<string[]> {
  const it = scanner[Symbol.asyncIterator]();
  const out: ImmutableMessage[] = [];
  while (out.length < n) {
    const step = await it.next();
    if (step.done === true) break;
    out.push(step.value);
  }
  await scanner.close();
  return out.map((m) => m.userProperties.get('key') ?? '?');
}

describe('memory backend fencing', () => {
  let store: MemoryLogStore;
  let node1: WalOpener;
  let node2: WalOpener;

  beforeEach(async () => {
    store = new MemoryLogStore();
    node1 = await memoryWal.createOpener({ appendLatencyMs: 0, store }, { logger: noopLogger, clock: systemClock });
    node2 = await memoryWal.createOpener({ appendLatencyMs: 0, store }, { logger: noopLogger, clock: systemClock });
  });

  afterEach(() => Promise.all([node1.close(), node2.close()]));

  it('rejects appends and truncates of the older writer with FENCED once a newer term opens', async () => {
    const old = await node1.open({ pchannel, term: 1n, mode: 'rw' });
    const id = await old.append(message('before'));
    await node2.open({ pchannel, term: 2n, mode: 'rw' });
    await expect(old.append(message('after'))).rejects.toMatchObject({ code: WalErrorCode.FENCED });
    await expect(old.append(message('again'))).rejects.toMatchObject({ code: WalErrorCode.FENCED });
    await expect(old.truncate(id)).rejects.toMatchObject({ code: WalErrorCode.FENCED });
    expect(store.stats(pchannel)).toMatchObject({ nextOffset: 1n, writerTerm: 2n });
  });

  it('lets a second read-write open under the same term take over, so a log never has two live writers', async () => {
    const first = await node1.open({ pchannel, term: 1n, mode: 'rw' });
    const second = await node2.open({ pchannel, term: 1n, mode: 'rw' });
    await expect(first.append(message('first'))).rejects.toMatchObject({ code: WalErrorCode.FENCED });
    await expect(second.append(message('second'))).resolves.toBeDefined();
  });

  it('rejects a read-write open under an older term with FENCED, even after the newer writer closed', async () => {
    const newer = await node2.open({ pchannel, term: 3n, mode: 'rw' });
    await expect(node1.open({ pchannel, term: 2n, mode: 'rw' })).rejects.toMatchObject({
      code: WalErrorCode.FENCED,
      message: expect.stringContaining('owned by term 3'),
    });
    await newer.close();
    await expect(node1.open({ pchannel, term: 2n, mode: 'rw' })).rejects.toMatchObject({ code: WalErrorCode.FENCED });
    await expect(node1.open({ pchannel, term: 3n, mode: 'rw' })).resolves.toMatchObject({ term: 3n });
  });

  it('fences nobody on a read-only open, whatever its term', async () => {
    const writer = await node1.open({ pchannel, term: 2n, mode: 'rw' });
    await node2.open({ pchannel, term: 5n, mode: 'ro' });
    await node2.open({ pchannel, term: 1n, mode: 'ro' });
    await expect(writer.append(message('still the writer'))).resolves.toBeDefined();
  });

  it('lets a fenced handle still read the log and close', async () => {
    const old = await node1.open({ pchannel, term: 1n, mode: 'rw' });
    await old.append(message('a'));
    const current = await node2.open({ pchannel, term: 2n, mode: 'rw' });
    await current.append(message('b'));
    expect(await keys(await old.read({ policy: { kind: 'all' } }), 2)).toEqual(['a', 'b']);
    await expect(old.close()).resolves.toBeUndefined();
  });

  it('rejects an append in flight during the takeover when it lands, so it never reaches the log', async () => {
    const clock = new ManualClock();
    const slow = await memoryWal.createOpener({ appendLatencyMs: 10, store }, { logger: noopLogger, clock });
    const old = await slow.open({ pchannel, term: 1n, mode: 'rw' });
    const inFlight = old.append(message('in flight'));
    await node2.open({ pchannel, term: 2n, mode: 'rw' });
    clock.advance(20);
    await expect(inFlight).rejects.toMatchObject({ code: WalErrorCode.FENCED });
    expect(store.stats(pchannel)?.nextOffset).toBe(0n);
    await slow.close();
  });
});
