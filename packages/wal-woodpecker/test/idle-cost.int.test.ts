import { spawnTsChild, tempDir } from '@streamsvc/testkit';

import { woodpeckerWal } from '../src/index.js';
import type { Medium } from './support/fixtures.js';
import { storageFixture } from './support/fixtures.js';
import { keyed } from './support/log-helpers.js';

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (bounded) until no more timers are pending than `baseline`: work still finishing on a loaded
 * machine may hold one briefly; an idle backend must hold none for good.
 */
async function settlesTo(baseline: number): Promise<void> {
  for (let i = 0; i < 40 && timers() > baseline; i++) await sleep(50);
  expect({ timers: timers(), resources: process.getActiveResourcesInfo() }).toMatchObject({ timers: baseline });
}

function describeIdle(medium: Medium): void {
  const storage = storageFixture(medium);
  it(`${medium}: an idle log with a reader waiting at its tail keeps no timer and burns no CPU`, async () => {
    const s = storage();
    const pchannel = `idle${Math.random().toString(36).slice(2, 8)}-dml_0`;
    await sleep(50);
    const baseline = timers();
    const opener = await woodpeckerWal.createOpener(s.config(), s.deps());
    try {
      const wal = await opener.open({ pchannel, term: 1n, mode: 'rw' });
      await wal.append(keyed(pchannel, 'a'));
      const scanner = await wal.read({ policy: { kind: 'latest' } });
      const iterator = scanner[Symbol.asyncIterator]();
      const next = iterator.next();
      await wal.append(keyed(pchannel, 'b'));
      expect((await next).done).toBe(false);
      const waiting = iterator.next();
      await settlesTo(baseline);
      const cpu = process.cpuUsage();
      await sleep(1000);
      const used = process.cpuUsage(cpu);
      expect((used.user + used.system) / 1000).toBeLessThan(50); // ms of CPU over an idle second
      expect(timers()).toBe(baseline);
      await scanner.close();
      expect((await waiting).done).toBe(true);
    } finally {
      await opener.close();
    }
  });
}

describe('idle cost', () => {
  describeIdle('local');
  describeIdle('object-fs');

  it.each(['local', 'object'])(
    '%s: a process holding an idle writer and a tail reader can exit on its own',
    async (mode) => {
      await using dir = await tempDir('wp-idle-');
      const child = await spawnTsChild(`${__dirname}/fixtures/idle-writer.ts`, {
        args: [dir.path, mode],
        logFile: `${dir.path}/child.log`,
      });
      try {
        await child.nextLine((l) => l === 'idle', 30_000);
        const exit = await Promise.race([child.exited, sleep(5_000).then(() => 'still running')]);
        expect(exit).toEqual({ code: 0, signal: null });
      } finally {
        if (!child.hasExited) child.signal('SIGKILL');
        await child.exited;
      }
    },
    40_000,
  );
});
