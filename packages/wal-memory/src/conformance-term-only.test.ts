import { noopLogger, systemClock } from '@streamsvc/common';
import { describeBackendConformance } from '@streamsvc/wal-conformance';
import { MemoryLogStore, memoryWal } from './index.js';

// The suite's skip machinery, on a memory backend that claims less than it can: with term-only fencing
// the fencing scenarios are skipped (and printed) with the suite's reason, an explicit skip prints the
// author's reason, and additionalTests run inside the suite with its cleanup.
const store = new MemoryLogStore();

describeBackendConformance({
  backend: { ...memoryWal, capabilities: { ...memoryWal.capabilities, fencing: 'term-only' } },
  config: () => ({ store, appendLatencyMs: 0 }),
  deps: () => ({ logger: noopLogger, clock: systemClock }),
  messageCount: 10,
  skip: { 'deliver-latest': 'covered by conformance.test.ts; this file checks the skip machinery' },
  additionalTests: (ctx) => {
    it('lets backend-specific tests open pchannels through the suite context, which closes them afterwards', async () => {
      const opener = await ctx.createOpener();
      const [pchannel] = ctx.uniquePChannels(1) as [string];
      const wal = await ctx.open(opener, { pchannel, term: 1n, mode: 'rw' });
      expect(wal.pchannel).toBe(pchannel);
      expect(store.pchannels).toContain(pchannel);
    });
  },
});
