import { noopLogger, systemClock } from '@streamsvc/common';
import { StreamingError } from '@streamsvc/message';
import { BatchTsoAllocator, wallClockTsoSource } from '@streamsvc/tso';
import { memoryWal } from '@streamsvc/wal-memory';

import { WalManager } from './wal-manager.js';

const P = 'mgr-dml_0';

async function manager(): Promise<WalManager> {
  const tso = new BatchTsoAllocator({ source: wallClockTsoSource() });
  const opener = await memoryWal.createOpener(memoryWal.configSchema.parse({}), {
    logger: noopLogger,
    clock: systemClock,
  });
  return new WalManager({ opener, tso });
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return StreamingError.is(e) ? e.code : 'not a StreamingError';
  }
  return undefined;
};

describe('WalManager', () => {
  it('opens a pchannel under the assigned term and serves it only under that term', async () => {
    await using m = await manager();
    expect(codeOf(() => m.get(P))).toBe('CHANNEL_NOT_EXIST');
    await m.assign(P, 3n);
    expect(m.get(P).term).toBe(3n);
    expect(m.get(P, 3n).term).toBe(3n);
    expect(codeOf(() => m.get(P, 2n))).toBe('UNMATCHED_CHANNEL_TERM');
    expect(m.status()).toEqual([expect.objectContaining({ pchannel: P, term: 3n, state: 'open' })]);
  });

  it('moves to a newer term and ignores commands for older ones', async () => {
    await using m = await manager();
    await m.assign(P, 1n);
    const old = m.get(P);
    await m.assign(P, 2n);
    expect(old.available).toBe(false);
    expect(m.get(P).term).toBe(2n);
    await expect(m.assign(P, 1n)).rejects.toMatchObject({ code: 'IGNORED_OPERATION' });
    await expect(m.remove(P, 1n)).rejects.toMatchObject({ code: 'IGNORED_OPERATION' });
  });

  it('runs a burst of assigns in order so the newest term wins', async () => {
    await using m = await manager();
    const results = await Promise.allSettled([m.assign(P, 1n), m.assign(P, 2n), m.assign(P, 3n)]);
    expect(results[2]).toMatchObject({ status: 'fulfilled' });
    expect(m.get(P).term).toBe(3n);
  });

  it('closes the WAL on remove and refuses everything after close', async () => {
    const m = await manager();
    await m.assign(P, 1n);
    await m.remove(P, 1n);
    expect(codeOf(() => m.get(P))).toBe('CHANNEL_NOT_EXIST');
    await m.assign(P, 2n);
    await m.close();
    expect(codeOf(() => m.get(P))).toBe('ON_SHUTDOWN');
    await expect(m.assign(P, 3n)).rejects.toMatchObject({ code: 'ON_SHUTDOWN' });
  });
});
