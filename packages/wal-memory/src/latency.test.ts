import { ManualClock, noopLogger } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';
import type { MessageId } from '@streamsvc/message';
import type { BackendScanner, BackendWal, WalOpener } from '@streamsvc/wal-core';
import { WalErrorCode } from '@streamsvc/wal-core';
import { MemoryLogStore, memoryMessageIds, memoryWal } from './index.js';

const pchannel = 'slow-dml_0';

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
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const step = await it.next();
    out.push(step.done === true ? '<end>' : (step.value.userProperties.get('key') ?? '?'));
  }
  await scanner.close();
  return out;
}

const offset = (id: MessageId): bigint => memoryMessageIds.parse(id.toString()).offset;

describe('memory backend append latency', () => {
  const latencyMs = 10;
  let clock: ManualClock;
  let store: MemoryLogStore;
  let opener: WalOpener;
  let wal: BackendWal;

  beforeEach(async () => {
    clock = new ManualClock();
    store = new MemoryLogStore();
    opener = await memoryWal.createOpener({ appendLatencyMs: latencyMs, store }, { logger: noopLogger, clock });
    wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
  });

  afterEach(async () => {
    clock.advance(10 * latencyMs);
    await opener.close();
  });

  it('completes an append only after the simulated latency has passed on the injected clock', async () => {
    let done = false;
    const pending = wal.append(message('a')).then((id) => ((done = true), id));
    await Promise.resolve();
    expect(clock.pendingSleeps).toBe(1);
    // The jitter spans 50–150 % of the latency: nothing can land before half of it, everything by 1.5×.
    clock.advance(latencyMs / 2 - 1);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(latencyMs + 1);
    expect(offset(await pending)).toBe(0n);
  });

  it('gives concurrent appends ids in completion order, which the jitter makes differ from call order', async () => {
    const count = 20;
    const appends = Array.from({ length: count }, (_, i) => wal.append(message(`k${i}`)));
    clock.advance(2 * latencyMs);
    const offsets = (await Promise.all(appends)).map(offset);
    expect([...offsets].sort((a, b) => Number(a - b))).toEqual(Array.from({ length: count }, (_, i) => BigInt(i)));
    // 20 appends in call order by chance: 1 in 20! — this is the reordering the WAL above must cope with.
    expect(offsets).not.toEqual([...offsets].sort((a, b) => Number(a - b)));
    const stored = await keys(await wal.read({ policy: { kind: 'all' } }), count);
    offsets.forEach((o, i) => expect(stored[Number(o)]).toBe(`k${i}`));
  });

  it('rejects an append aborted in flight with OUTCOME_UNKNOWN, and the record still lands', async () => {
    const controller = new AbortController();
    const pending = wal.append(message('maybe'), { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toMatchObject({
      code: WalErrorCode.OUTCOME_UNKNOWN,
      cause: new Error('caller gave up'),
    });
    expect(store.stats(pchannel)?.records).toBe(0);
    clock.advance(2 * latencyMs);
    await wal.close();
    expect(store.stats(pchannel)?.records).toBe(1);
  });

  it('lets close wait for the appends in flight, which are written', async () => {
    const appends = [wal.append(message('x')), wal.append(message('y'))];
    const closing = wal.close();
    await expect(wal.append(message('z'))).rejects.toMatchObject({ code: WalErrorCode.CLOSED });
    clock.advance(2 * latencyMs);
    await closing;
    await expect(Promise.all(appends)).resolves.toHaveLength(2);
    expect(store.stats(pchannel)?.records).toBe(2);
  });
});
