// The WAL suite is only worth something if it fails broken setups. Each test wraps the memory backend
// with one deliberate fault and checks that the WAL scenario meant to catch it fails, and why.
import { MessageType } from '@streamsvc/message';
import type { ImmutableMessage } from '@streamsvc/message';
import type { BackendScanner, BackendWal, WalBackend, WalOpener } from '@streamsvc/wal-core';
import { runWalScenario } from '@streamsvc/wal-conformance';
import type { WalScenarioId } from '@streamsvc/wal-conformance';
import type { MemoryWalConfig } from './index.js';
import { MemoryLogStore, memoryWal } from './index.js';

interface Faults {
  /** Replaces the records a scanner yields. */
  readonly records?: (source: AsyncIterable<ImmutableMessage>) => AsyncGenerator<ImmutableMessage>;
  /** Changes the configuration each opener gets. */
  readonly config?: (config: MemoryWalConfig) => MemoryWalConfig;
}

function faulty(faults: Faults): WalBackend<MemoryWalConfig> {
  return {
    ...memoryWal,
    async createOpener(config, deps) {
      const inner = await memoryWal.createOpener(faults.config?.(config) ?? config, deps);
      const open = async (options: Parameters<WalOpener['open']>[0], call?: Parameters<WalOpener['open']>[1]) => {
        const handle = (await inner.open(options, call)) as BackendWal;
        return {
          ...bind(handle),
          read: async (o, c) => wrapScanner(await handle.read(o, c), faults),
        } satisfies BackendWal;
      };
      return {
        open: open as WalOpener['open'],
        close: () => inner.close(),
        [Symbol.asyncDispose]: () => inner.close(),
      };
    },
  };
}

function bind(h: BackendWal): BackendWal {
  return {
    pchannel: h.pchannel,
    term: h.term,
    mode: h.mode,
    append: (message, call) => h.append(message, call),
    truncate: (id, call) => h.truncate(id, call),
    read: (options, call) => h.read(options, call),
    close: () => h.close(),
    [Symbol.asyncDispose]: () => h.close(),
  };
}

function wrapScanner(inner: BackendScanner, faults: Faults): BackendScanner {
  if (faults.records === undefined) return inner;
  const records = faults.records(inner);
  return {
    [Symbol.asyncIterator]: () => records,
    close: () => inner.close(),
    [Symbol.asyncDispose]: () => inner.close(),
  };
}

function run(backend: WalBackend<MemoryWalConfig>, id: WalScenarioId): Promise<void> {
  const store = new MemoryLogStore();
  return runWalScenario(
    { backend, config: () => ({ store, appendLatencyMs: 0 }), messageCount: 50, waitTimeoutMs: 2_000 },
    id,
  );
}

describe('the WAL conformance suite', () => {
  it('passes the unmodified memory backend through the wrappers used below', async () => {
    await expect(run(faulty({}), 'txn-commit-waits-for-bodies')).resolves.toBeUndefined();
  });

  it('fails a WAL whose backend loses a record, naming the message', async () => {
    const lossy = faulty({
      records: async function* (source) {
        let n = 0;
        for await (const m of source) if (m.type === MessageType.TimeTick || ++n !== 4) yield m;
      },
    });
    await expect(run(lossy, 'txn-commit-waits-for-bodies')).rejects.toThrow(
      /delivered \d+ messages but \d+ were expected|differs/,
    );
  });

  it('fails a WAL whose backend does not keep the log for the next owner', async () => {
    const forgetful = faulty({ config: (config) => ({ ...config, store: undefined }) });
    await expect(run(forgetful, 'recovery-after-reopen')).rejects.toThrow(
      /append of v1\/p5 failed: StreamingError VCHANNEL_NOT_EXIST/,
    );
  });

  it('fails a WAL whose backend lets a fenced owner keep appending', async () => {
    const unfenced = faulty({ config: (config) => ({ ...config, store: undefined }) });
    await expect(run(unfenced, 'fencing')).rejects.toThrow(
      /append 0 of the term-1 WAL after term 2 opened: resolved, but it must reject/,
    );
  });
});
