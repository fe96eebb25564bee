import type {
  BackendScanner,
  BackendWal,
  OpenOptions,
  ReadOnlyBackendWal,
  ReadOptions,
  WalBackend,
  WalBackendDeps,
  WalOpener,
} from '@streamsvc/wal-core';
import { describeError } from '../support/describe-error.js';
import { uniquePChannels } from '../support/pchannel-names.js';
import { settleAll } from '../support/settle-all.js';
import { within } from '../support/within.js';
import { BACKEND_SUITE_DEFAULTS } from './options.js';
import type { ResolvedBackendOptions } from './options.js';

/**
 * What scenarios and a backend's `additionalTests` work with: the backend, its configuration, and
 * helpers that track every opener, handle and scanner they create so the suite closes them afterwards
 * (also when a scenario fails half-way).
 */
export interface BackendSuiteContext<C> {
  readonly backend: WalBackend<C>;
  /** Records per pchannel and term, the last a marker. */
  readonly messageCount: number;
  /** The bound of every single wait on the backend. */
  readonly waitTimeoutMs: number;
  /** A fresh configuration (the options' `config()`). */
  config(): Promise<C>;
  /** Fresh services (the options' `deps()`). */
  deps(): Promise<WalBackendDeps>;
  /** A new opener from `backend.createOpener`, closed after the test. */
  createOpener(): Promise<WalOpener>;
  /** Opens a handle through `opener`, closed after the test. */
  open(opener: WalOpener, options: OpenOptions<'rw'>): Promise<BackendWal>;
  open(opener: WalOpener, options: OpenOptions<'ro'>): Promise<ReadOnlyBackendWal>;
  /** Starts a read on `wal`, closed after the test. */
  read(wal: ReadOnlyBackendWal, options: ReadOptions): Promise<BackendScanner>;
  /** `count` (default 3) new pchannel names no other test uses. */
  uniquePChannels(count?: number): string[];
  /**
   * Waits for `promise` at most `waitTimeoutMs`.
   * @throws {WaitTimeoutError} naming `what` when the backend does not answer in time.
   */
  within<T>(promise: PromiseLike<T>, what: string): Promise<T>;
  /**
   * Closes everything created through this context: scanners, then handles, then openers.
   * @throws {Error} listing every close that failed or timed out.
   */
  closeAll(): Promise<void>;
}

/** The suite's implementation of {@link BackendSuiteContext}, plus what scenarios share. */
export class ScenarioRuntime<C> implements BackendSuiteContext<C> {
  readonly backend: WalBackend<C>;
  readonly messageCount: number;
  readonly waitTimeoutMs: number;
  readonly #options: ResolvedBackendOptions<C>;
  #openers: WalOpener[] = [];
  #handles: ReadOnlyBackendWal[] = [];
  #scanners: BackendScanner[] = [];

  constructor(options: ResolvedBackendOptions<C>) {
    this.#options = options;
    this.backend = options.backend;
    this.messageCount = options.messageCount;
    this.waitTimeoutMs = options.waitTimeoutMs;
  }

  /** The configuration the options name as invalid, with the path the error must mention. */
  get invalidConfig(): { readonly config: unknown; readonly path: string } {
    return this.#options.invalidConfig;
  }

  async config(): Promise<C> {
    return this.#options.config();
  }

  async deps(): Promise<WalBackendDeps> {
    return this.#options.deps();
  }

  async createOpener(): Promise<WalOpener> {
    const [config, deps] = await Promise.all([this.config(), this.deps()]);
    const opener = await this.within(this.backend.createOpener(config, deps), `${this.backend.name}.createOpener()`);
    this.#openers.push(opener);
    return opener;
  }

  open(opener: WalOpener, options: OpenOptions<'rw'>): Promise<BackendWal>;
  open(opener: WalOpener, options: OpenOptions<'ro'>): Promise<ReadOnlyBackendWal>;
  async open(opener: WalOpener, options: OpenOptions): Promise<ReadOnlyBackendWal> {
    const what = `open(${options.pchannel}, term ${options.term}, ${options.mode})`;
    const wal = await this.within(opener.open(options), what);
    this.#handles.push(wal);
    return wal;
  }

  async read(wal: ReadOnlyBackendWal, options: ReadOptions): Promise<BackendScanner> {
    const scanner = await this.within(wal.read(options), `read(${wal.pchannel}, ${options.policy.kind})`);
    this.#scanners.push(scanner);
    return scanner;
  }

  uniquePChannels(count: number = BACKEND_SUITE_DEFAULTS.channelCount): string[] {
    return uniquePChannels(count);
  }

  within<T>(promise: PromiseLike<T>, what: string): Promise<T> {
    return within(promise, this.waitTimeoutMs, what);
  }

  /**
   * Runs `scenario` on {@link BACKEND_SUITE_DEFAULTS.channelCount} fresh pchannels at once and waits for
   * all of them, so a failure on one channel never leaves another still running during cleanup.
   */
  async forEachChannel(scenario: (pchannel: string, index: number) => Promise<void>): Promise<void> {
    await settleAll(this.uniquePChannels().map((pchannel, index) => scenario(pchannel, index)));
  }

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
      for (const r of results)
        if (r.status === 'rejected') problems.push(`${kind}.close(): ${describeError(r.reason)}`);
    };
    const [scanners, handles, openers] = [this.#scanners, this.#handles, this.#openers];
    this.#scanners = [];
    this.#handles = [];
    this.#openers = [];
    await closeEach(scanners, 'scanner');
    await closeEach(handles, 'handle');
    await closeEach(openers, 'opener');
    if (problems.length > 0) throw new Error(`cleanup failed: ${problems.join('; ')}`);
  }
}
