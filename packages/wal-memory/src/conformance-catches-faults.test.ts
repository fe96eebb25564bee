// The conformance suite is only worth something if it fails broken backends. Each test wraps the memory
// backend with one deliberate fault and checks that the scenario meant to catch it fails, and why.
import type { ImmutableMessage } from '@streamsvc/message';
import type { BackendScanner, BackendWal, WalBackend, WalOpener } from '@streamsvc/wal-core';
import { runBackendScenario, WaitTimeoutError } from '@streamsvc/wal-conformance';
import type { BackendScenarioId } from '@streamsvc/wal-conformance';
import type { MemoryWalConfig } from './index.js';
import { MemoryLogStore, memoryMessageIds, memoryWal } from './index.js';

interface Faults {
  /** Replaces the records a scanner yields. */
  readonly records?: (source: AsyncIterable<ImmutableMessage>) => AsyncGenerator<ImmutableMessage>;
  /** Changes a handle (read-write or read-only). */
  readonly handle?: (handle: BackendWal) => BackendWal;
  /** Changes the configuration each opener gets. */
  readonly config?: (config: MemoryWalConfig) => MemoryWalConfig;
}

function faulty(faults: Faults): WalBackend<MemoryWalConfig> {
  return {
    ...memoryWal,
    async createOpener(config, deps) {
      return wrapOpener(await memoryWal.createOpener(faults.config?.(config) ?? config, deps), faults);
    },
  };
}

function wrapOpener(inner: WalOpener, faults: Faults): WalOpener {
  const open = async (options: Parameters<WalOpener['open']>[0], call?: Parameters<WalOpener['open']>[1]) =>
    wrapHandle((await inner.open(options, call)) as BackendWal, faults);
  return { open: open as WalOpener['open'], close: () => inner.close(), [Symbol.asyncDispose]: () => inner.close() };
}

function wrapHandle(inner: BackendWal, faults: Faults): BackendWal {
  const handle: BackendWal = {
    pchannel: inner.pchannel,
    term: inner.term,
    mode: inner.mode,
    append: (message, call) => inner.append(message, call),
    truncate: (id, call) => inner.truncate(id, call),
    read: async (options, call) => wrapScanner(await inner.read(options, call), faults),
    close: () => inner.close(),
    [Symbol.asyncDispose]: () => inner.close(),
  };
  return faults.handle?.(handle) ?? handle;
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

function run(backend: WalBackend<MemoryWalConfig>, id: BackendScenarioId, waitTimeoutMs = 2_000): Promise<void> {
  const store = new MemoryLogStore();
  return runBackendScenario(
    { backend, config: () => ({ store, appendLatencyMs: 0 }), messageCount: 20, waitTimeoutMs },
    id,
  );
}

describe('the backend conformance suite', () => {
  it('passes the unmodified memory backend through the wrappers used below', async () => {
    await expect(run(faulty({}), 'append-read-concurrent')).resolves.toBeUndefined();
  });

  it('fails a backend whose scanner loses a record, naming the missing key', async () => {
    const lossy = faulty({
      records: async function* (source) {
        let n = 0;
        for await (const m of source) if (++n !== 7) yield m;
      },
    });
    await expect(run(lossy, 'append-read-concurrent')).rejects.toThrow(/missing \[term-1\/\d+\]/);
  });

  it('fails a backend whose scanner delivers two records out of id order', async () => {
    const swapped = faulty({
      records: async function* (source) {
        let first: ImmutableMessage | undefined;
        let n = 0;
        for await (const m of source) {
          if (n++ === 0) first = m;
          else if (n === 2) yield* [m, first!];
          else yield m;
        }
      },
    });
    await expect(run(swapped, 'append-read-concurrent')).rejects.toThrow(/strictly increasing by id/);
  });

  it('fails a backend whose data does not survive a reopen through another opener', async () => {
    const forgetful = faulty({ config: (config) => ({ ...config, store: undefined }) });
    await expect(run(forgetful, 'append-read-concurrent')).rejects.toThrow(
      /first id after reopening \(v1:0\) is not after the last id of the previous term/,
    );
  });

  it('fails a backend that lets a fenced writer keep appending', async () => {
    const unfenced = faulty({ config: (config) => ({ ...config, store: undefined }) });
    await expect(run(unfenced, 'term-bump-fences-old-writer')).rejects.toThrow(
      /append 1 of the term-1 writer after the term-2 writer opened: resolved, but it must reject/,
    );
  });

  it('fails a read-only handle whose append throws synchronously instead of rejecting', async () => {
    const throwing = faulty({
      handle: (h) =>
        h.mode === 'ro'
          ? {
              ...h,
              append: () => {
                throw new Error('read-only');
              },
            }
          : h,
    });
    await expect(run(throwing, 'ro-rejects-writes')).rejects.toThrow(/append: threw synchronously/);
  });

  it('fails a backend whose truncate deletes the record it was given', async () => {
    const greedy = faulty({
      handle: (h) => ({
        ...h,
        truncate: (id, call) =>
          h.truncate(memoryMessageIds.of(memoryMessageIds.parse(id.toString()).offset + 1n), call),
      }),
    });
    await expect(run(greedy, 'truncate-reopen')).rejects.toThrow(
      /startFrom the truncation point on the truncating handle: read \d+ records but \d+ were written; missing \[before-truncate\//,
    );
  });

  it('fails a backend that ignores an already-aborted signal on append', async () => {
    const deaf = faulty({ handle: (h) => ({ ...h, append: (message) => h.append(message) }) });
    await expect(run(deaf, 'abort-append')).rejects.toThrow(
      /append with an aborted signal: resolved, but it must reject/,
    );
  });

  it('fails a backend whose close returns a new promise on every call', async () => {
    const forgetfulClose = faulty({ handle: (h) => ({ ...h, close: () => h.close().then(() => {}) }) });
    await expect(run(forgetfulClose, 'close-idempotent')).rejects.toThrow(
      /a second handle.close\(\) returned another promise/,
    );
  });

  it('fails fast with a timeout naming the wait when a scanner never delivers', async () => {
    const silent = faulty({
      records: async function* () {
        yield await new Promise<ImmutableMessage>(() => {});
      },
    });
    const failure = run(silent, 'append-read-concurrent', 200);
    await expect(failure).rejects.toThrow(WaitTimeoutError);
    await expect(failure).rejects.toThrow(/timed out after 200 ms waiting for .*reader \d: record 0/);
  });
});
