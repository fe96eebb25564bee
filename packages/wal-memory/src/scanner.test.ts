import { noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';
import type { MessageId } from '@streamsvc/message';
import type { BackendScanner, BackendWal, DeliverPolicy, WalOpener } from '@streamsvc/wal-core';
import { WalErrorCode } from '@streamsvc/wal-core';
import { MemoryLogStore, memoryMessageIds, memoryWal } from './index.js';

const pchannel = 'scan-dml_0';

function message(key: string) {
  return MessageBuilder.data(new TextEncoder().encode(key))
    .vchannel(`${pchannel}_1v0`)
    .properties({ key })
    .build()
    .withTimeTick(1n)
    .withLastConfirmedSelf();
}

const keyOf = (step: IteratorResult<{ userProperties: ReadonlyMap<string, string> }>): string =>
  step.done === true ? '<end>' : (step.value.userProperties.get('key') ?? '?');

async function keys(scanner: BackendScanner, n: number): Promise<string[]> {
  const it = scanner[Symbol.asyncIterator]();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(keyOf(await it.next()));
  await scanner.close();
  return out;
}

describe('memory backend scanners', () => {
  let opener: WalOpener;
  let wal: BackendWal;
  let ids: MessageId[];

  beforeEach(async () => {
    opener = await memoryWal.createOpener(
      { appendLatencyMs: 0, store: new MemoryLogStore() },
      { logger: noopLogger, clock: systemClock },
    );
    wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
    ids = [];
    for (const k of ['a', 'b', 'c']) ids.push(await wal.append(message(k)));
  });

  afterEach(() => opener.close());

  it.each<[string, () => DeliverPolicy, string[]]>([
    ['all', () => ({ kind: 'all' }), ['a', 'b', 'c', 'd']],
    ['latest', () => ({ kind: 'latest' }), ['d', 'e', 'f', 'g']],
    ['startFrom b', () => ({ kind: 'startFrom', id: ids[1]! }), ['b', 'c', 'd', 'e']],
    ['startAfter b', () => ({ kind: 'startAfter', id: ids[1]! }), ['c', 'd', 'e', 'f']],
    ['startAfter the last id', () => ({ kind: 'startAfter', id: ids[2]! }), ['d', 'e', 'f', 'g']],
  ])('delivers from the position %s names and then follows the tail', async (_name, policy, expected) => {
    const scanner = await wal.read({ policy: policy() });
    const read = keys(scanner, 4);
    for (const k of ['d', 'e', 'f', 'g']) await wal.append(message(k));
    await expect(read).resolves.toEqual(expected);
  });

  it('wakes a reader waiting at the tail on the next append, with no timer involved', async () => {
    const it = (await wal.read({ policy: { kind: 'latest' } }))[Symbol.asyncIterator]();
    let delivered = '';
    const waiting = it.next().then((step) => (delivered = keyOf(step)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered).toBe('');
    await wal.append(message('woken'));
    await waiting;
    expect(delivered).toBe('woken');
  });

  it('delivers consecutive records to overlapping next() calls, in order', async () => {
    const it = (await wal.read({ policy: { kind: 'startAfter', id: ids[2]! } }))[Symbol.asyncIterator]();
    const pending = [it.next(), it.next(), it.next()];
    for (const k of ['x', 'y', 'z']) await wal.append(message(k));
    expect((await Promise.all(pending)).map(keyOf)).toEqual(['x', 'y', 'z']);
  });

  it('ends the scan when a for-await loop breaks out of it', async () => {
    const scanner = await wal.read({ policy: { kind: 'all' } });
    for await (const m of scanner) {
      expect(m.userProperties.get('key')).toBe('a');
      break;
    }
    expect(keyOf(await scanner[Symbol.asyncIterator]().next())).toBe('<end>');
  });

  it('ends the scanners of a closed handle but not those of another handle on the same log', async () => {
    const ro = await opener.open({ pchannel, term: 1n, mode: 'ro' });
    const mine = (await ro.read({ policy: { kind: 'latest' } }))[Symbol.asyncIterator]();
    const other = (await wal.read({ policy: { kind: 'latest' } }))[Symbol.asyncIterator]();
    const [mineNext, otherNext] = [mine.next(), other.next()];
    await ro.close();
    expect(keyOf(await mineNext)).toBe('<end>');
    await wal.append(message('still read'));
    expect(keyOf(await otherNext)).toBe('still read');
  });

  it('rejects positions this log never issued with INVALID_MESSAGE_ID and an unknown policy with INVALID_ARGUMENT', async () => {
    const beyond = memoryMessageIds.of(3n);
    await expect(wal.read({ policy: { kind: 'startFrom', id: beyond } })).rejects.toMatchObject({
      code: WalErrorCode.INVALID_MESSAGE_ID,
    });
    await expect(wal.read({ policy: { kind: 'startAfter', id: beyond } })).rejects.toMatchObject({
      code: WalErrorCode.INVALID_MESSAGE_ID,
    });
    await expect(wal.read({ policy: { kind: 'earliest' } as never })).rejects.toMatchObject({
      code: WalErrorCode.INVALID_ARGUMENT,
    });
    await expect(wal.read(undefined as never)).rejects.toMatchObject({ code: WalErrorCode.INVALID_ARGUMENT });
  });
});
