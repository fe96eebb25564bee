import type { WalBackend, WalBackendDeps, WalOpener } from './backend.js';
import { WalError, WalErrorCode } from './wal-error.js';

/**
 * The backends an app ships, by name. Immutable: built once in the app's composition root from the
 * backend values it imports (`WalRegistry.of([woodpeckerWal, kafkaWal])`). No global instance, no
 * registration on import.
 */
export class WalRegistry {
  readonly #backends: ReadonlyMap<string, WalBackend<unknown>>;

  private constructor(backends: ReadonlyMap<string, WalBackend<unknown>>) {
    this.#backends = backends;
  }

  /**
   * @throws {WalError} BACKEND_DUPLICATE when two backends share a name.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each backend has its own config type; the registry parses configs itself.
  static of(backends: readonly WalBackend<any>[]): WalRegistry {
    const map = new Map<string, WalBackend<unknown>>();
    for (const backend of backends) {
      if (map.has(backend.name)) {
        throw new WalError(WalErrorCode.BACKEND_DUPLICATE, `two WAL backends are named "${backend.name}"`);
      }
      map.set(backend.name, backend as WalBackend<unknown>);
    }
    return new WalRegistry(map);
  }

  /** The registered names, sorted. */
  get names(): readonly string[] {
    return [...this.#backends.keys()].sort();
  }

  /**
   * @throws {WalError} BACKEND_UNKNOWN naming the known backends.
   */
  get(name: string): WalBackend<unknown> {
    const backend = this.#backends.get(name);
    if (!backend) {
      throw new WalError(
        WalErrorCode.BACKEND_UNKNOWN,
        `no WAL backend named "${name}"; known: ${this.names.map((n) => `"${n}"`).join(', ') || '(none)'}`,
      );
    }
    return backend;
  }

  /**
   * Validates `rawConfig` with the backend's schema and creates its opener.
   * @throws {WalError} BACKEND_UNKNOWN; INVALID_CONFIG listing each bad path as `wal.<name>.<path>`;
   *   whatever `createOpener` throws.
   */
  async createOpener(name: string, rawConfig: unknown, deps: WalBackendDeps): Promise<WalOpener> {
    const backend = this.get(name);
    const parsed = backend.configSchema.safeParse(rawConfig ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `wal.${name}.${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new WalError(WalErrorCode.INVALID_CONFIG, `invalid configuration: ${problems.join('; ')}`, {
        cause: parsed.error,
      });
    }
    return backend.createOpener(parsed.data, deps);
  }
}
