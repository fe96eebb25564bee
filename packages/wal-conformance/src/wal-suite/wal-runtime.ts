import { MetaKvCheckpointStore, Wal } from '@streamsvc/wal-core';
import type {
  AppendInterceptor,
  OpenOptions,
  ReadOnlyBackendWal,
  ReadWalOptions,
  WalBackend,
  WalBackendDeps,
  WalCapabilities,
  WalConfig,
  WalOpener,
  WalScanner,
} from '@streamsvc/wal-core';
import type { TsoSource } from '@streamsvc/tso';
import { describeError } from '../support/describe-error.js';
import { uniquePChannels } from '../support/pchannel-names.js';
import { settleAll } from '../support/settle-all.js';
import { within } from '../support/within.js';
import { WAL_SUITE_DEFAULTS } from './options.js';
import type { ResolvedWalOptions } from './options.js';
import { AppendGate } from './append-gate.js';
import { nodeTso, testTsoSource } from './test-tso.js';

/** How a scenario opens a read-write WAL. */
export interface OpenWalRequest {
  readonly opener: WalOpener;
  readonly pchannel: string;
  readonly term: bigint;
  /** Merged over the suite's WAL settings. */
  readonly config?: WalConfig;
  /** Extension interceptors (run after the timetick step), e.g. an {@link AppendGate}. */
  readonly interceptors?: readonly AppendInterceptor[];
}

/**
 * What WAL scenarios work with: the backend, the suite's parameters, and helpers that track every
 * opener, WAL and scanner they create so the suite closes them afterwards (also when a scenario fails
 * half-way). Every WAL gets its own node TSO over one suite-wide source.
 */
export class WalScenarioRuntime<C> {
  readonly backend: WalBackend<C>;
  readonly messageCount: number;
  readonly writers: number;
  readonly waitTimeoutMs: number;
  readonly #options: ResolvedWalOptions<C>;
  readonly #tso: TsoSource = testTsoSource();
  /** Recovery checkpoints of every WAL the scenario opens: each reopen replays from the previous open's. */
  readonly #checkpoints = new Map<string, string>();
  #openers: WalOpener[] = [];
  #wals: Wal[] = [];
  #handles: ReadOnlyBackendWal[] = [];
  #scanners: WalScanner[] = [];
  #gates: AppendGate[] = [];

  constructor(options: ResolvedWalOptions<C>) {
    this.#options = options;
    this.backend = options.backend;
    this.messageCount = options.messageCount;
    this.writers = options.writers;
    this.waitTimeoutMs = options.waitTimeoutMs;
  }

  /** What the backend under test promises (scenarios adapt to `readOnlyOpen`). */
  get capabilities(): WalCapabilities {
    return this.backend.capabilities;
  }

  /** Fresh services (the options' `deps()`). */
  async deps(): Promise<WalBackendDeps> {
    return this.#options.deps();
  }

  /** A new opener (a node's clients), closed after the scenario. */
  async createOpener(): Promise<WalOpener> {
    const [config, deps] = await Promise.all([this.#options.config(), this.deps()]);
    const opener = await this.within(this.backend.createOpener(config, deps), `${this.backend.name}.createOpener()`);
    this.#openers.push(opener);
    return opener;
  }

  /** `Wal.open` under `term` with a fresh node TSO; closed after the scenario. */
  async openWal(request: OpenWalRequest): Promise<Wal> {
    const deps = await this.deps();
    const open = Wal.open({
      opener: request.opener,
      pchannel: request.pchannel,
      term: request.term,
      tso: nodeTso(this.#tso),
      config: this.walConfig(request.config),
      interceptors: request.interceptors,
      checkpoints: new MetaKvCheckpointStore({
        kv: {
          get: async (key) => {
            const text = this.#checkpoints.get(key);
            return text === undefined ? undefined : { value: new TextEncoder().encode(text) };
          },
          put: async (key, value) => void this.#checkpoints.set(key, value),
        },
        prefix: 'checkpoints/',
        ids: this.backend.messageIds,
      }),
      logger: deps.logger,
    });
    const wal = await this.within(open, `Wal.open(${request.pchannel}, term ${request.term})`);
    this.#wals.push(wal);
    return wal;
  }

  /** `Wal.openReadOnly`; closed after the scenario. */
  async openReadOnlyWal(request: Omit<OpenWalRequest, 'interceptors'>): Promise<Wal> {
    const deps = await this.deps();
    const open = Wal.openReadOnly({
      opener: request.opener,
      pchannel: request.pchannel,
      term: request.term,
      config: this.walConfig(request.config),
      logger: deps.logger,
    });
    const wal = await this.within(open, `Wal.openReadOnly(${request.pchannel}, term ${request.term})`);
    this.#wals.push(wal);
    return wal;
  }

  /**
   * A read-only WAL (through a new opener) on `wal`'s pchannel and term: beside it when the backend
   * can read while a writer is active (`capabilities.readOnlyOpen`), otherwise after closing `wal`.
   */
  async openReadOnlyBeside(wal: Wal): Promise<Wal> {
    if (!this.capabilities.readOnlyOpen)
      await this.within(wal.close(), `${wal.pchannel}: close before the read-only open`);
    return this.openReadOnlyWal({ opener: await this.createOpener(), pchannel: wal.pchannel, term: wal.term });
  }

  /** A raw read-only backend handle (to count what was really stored); closed after the scenario. */
  async openBackend(opener: WalOpener, options: Omit<OpenOptions<'ro'>, 'mode'>): Promise<ReadOnlyBackendWal> {
    const handle = await this.within(opener.open({ ...options, mode: 'ro' }), `backend open(${options.pchannel}, ro)`);
    this.#handles.push(handle);
    return handle;
  }

  /** `wal.read(options)`, closed after the scenario. Throws what `read` throws. */
  read(wal: Wal, options: ReadWalOptions): WalScanner {
    const scanner = wal.read(options);
    this.#scanners.push(scanner);
    return scanner;
  }

  /** A new {@link AppendGate} to pass to {@link openWal}; released before cleanup closes the WALs. */
  gate(): AppendGate {
    const gate = new AppendGate();
    this.#gates.push(gate);
    return gate;
  }

  /** The suite's WAL settings with `overrides` on top. */
  walConfig(overrides: WalConfig = {}): WalConfig {
    return { ...this.#options.walConfig, ...overrides };
  }

  /** `count` (default 3) new pchannel names no other scenario uses. */
  uniquePChannels(count: number = WAL_SUITE_DEFAULTS.channelCount): string[] {
    return uniquePChannels(count, 'walc');
  }

  /**
   * Waits for `promise` at most `waitTimeoutMs`.
   * @throws {WaitTimeoutError} naming `what` when it does not settle in time.
   */
  within<T>(promise: PromiseLike<T>, what: string): Promise<T> {
    return within(promise, this.waitTimeoutMs, what);
  }

  /**
   * Runs `scenario` on {@link WAL_SUITE_DEFAULTS.channelCount} fresh pchannels at once and waits for
   * all of them, so a failure on one never leaves another running during cleanup.
   */
  async forEachChannel(scenario: (pchannel: string, index: number) => Promise<void>): Promise<void> {
    await settleAll(this.uniquePChannels().map((pchannel, index) => scenario(pchannel, index)));
  }

  /**
   * Releases every gate (so no append stays held), then closes everything created here: scanners,
   * then WALs and backend handles, then openers.
   * @throws {Error} listing every close that failed or timed out.
   */
  async closeAll(): Promise<void> {
    const problems: string[] = [];
    const closeEach = async (items: readonly { close(): Promise<void> }[], kind: string): Promise<void> => {
      const results = await Promise.allSettled(
        items.map((item) =>
          this.within(
            Promise.resolve().then(() => item.close()),
            `${kind}.close()`,
          ),
        ),
      );
      for (const r of results) {
        if (r.status === 'rejected') problems.push(`${kind}.close(): ${describeError(r.reason)}`);
      }
    };
    for (const gate of this.#gates.splice(0)) gate.release();
    const [scanners, wals, handles, openers] = [this.#scanners, this.#wals, this.#handles, this.#openers];
    this.#scanners = [];
    this.#wals = [];
    this.#handles = [];
    this.#openers = [];
    await closeEach(scanners, 'scanner');
    await closeEach(wals, 'wal');
    await closeEach(handles, 'backend handle');
    await closeEach(openers, 'opener');
    if (problems.length > 0) throw new Error(`cleanup failed: ${problems.join('; ')}`);
  }
}
