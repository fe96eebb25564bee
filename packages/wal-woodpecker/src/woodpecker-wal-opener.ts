import { abortReason, CloseOnce } from '@streamsvc/common';
import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import type { MetaKv } from '@streamsvc/metastore';
import type { BackendWal, OpenOptions, WalOpener } from '@streamsvc/wal-core';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import type { WoodpeckerSettings } from './config.js';
import { LogMeta } from './log-meta.js';
import type { LogWriter } from './log-writer.js';
import type { LogContext } from './open-writer.js';
import { openLogWriter } from './open-writer.js';
import type { SegmentStore } from './segment-store.js';
import { logTailOf } from './tail-hub.js';
import { WoodpeckerWalHandle } from './woodpecker-wal-handle.js';

// A pchannel names a directory (local) and a key segment (object): keep to characters that are safe
// as both, and never `.`, `..` or the object store's reserved `.tmp~` names.
const PCHANNEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** What an opener is built from (see `woodpeckerWal.createOpener`). */
export interface OpenerInit {
  readonly settings: WoodpeckerSettings;
  readonly metaKv: MetaKv;
  readonly store: SegmentStore;
  /** Identifies the data location, so handles on the same storage share in-process tail notifications. */
  readonly location: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Opens pchannels of one storage (a MetaKv plus a directory or an object store prefix). */
export class WoodpeckerWalOpener implements WalOpener {
  readonly #init: OpenerInit;
  readonly #close = new CloseOnce();
  readonly #handles = new Set<WoodpeckerWalHandle>();

  constructor(init: OpenerInit) {
    this.#init = init;
  }

  /**
   * Opens `options.pchannel`. A read-write open takes the log over: it records the term (FENCED when a
   * newer one is recorded), fences and completes the segments earlier writers left active — recovering
   * their real end — and starts a new segment. A read-only open reads whatever is durable.
   * @throws {WalError} INVALID_ARGUMENT for an empty or unsafe pchannel name, a term that is not a
   *   bigint ≥ 1 or an unknown mode; FENCED; CORRUPT when an abandoned segment is damaged beyond a torn
   *   tail; UNAVAILABLE; CLOSED.
   * Abort: an aborted signal rejects with its reason and opens nothing; an abort during a read-write
   *   open stops it at the next step (a term already recorded stays recorded).
   */
  async open(options: OpenOptions, call?: CallOptions): Promise<BackendWal> {
    const signal = call?.signal;
    if (signal?.aborted === true) throw abortReason(signal);
    if (this.#close.started) throw WalError.closed('open on the woodpecker WAL opener');
    checkOpenOptions(options);
    const { pchannel, term, mode } = options;
    const { settings, metaKv, store, clock, location } = this.#init;
    const logger = this.#init.logger.child({ pchannel, term: String(term), mode });
    const ctx: LogContext = {
      pchannel,
      meta: new LogMeta(metaKv, settings.metaPrefix, pchannel, clock),
      store,
      settings,
      tail: logTailOf(metaKv, location, pchannel),
      clock,
      logger,
    };
    let writer: LogWriter | undefined;
    if (mode === 'rw') {
      writer = await openLogWriter(ctx, term, signal);
      if (this.#close.started) {
        await writer.close();
        throw WalError.closed('open on the woodpecker WAL opener');
      }
    }
    const handle = new WoodpeckerWalHandle({ ctx, term, mode, writer, onClose: (h) => this.#handles.delete(h) });
    this.#handles.add(handle);
    return handle;
  }

  /** Closes every handle still open (their scanners end), then the opener. Idempotent: the same promise. */
  close(): Promise<void> {
    return this.#close.run(async () => {
      await Promise.all([...this.#handles].map((h) => h.close()));
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function checkOpenOptions(options: OpenOptions): void {
  const invalid = (why: string): WalError => new WalError(WalErrorCode.INVALID_ARGUMENT, `open: ${why}`);
  if (typeof options !== 'object' || options === null) throw invalid('options are required');
  if (typeof options.pchannel !== 'string' || !PCHANNEL.test(options.pchannel)) {
    throw invalid(
      `pchannel must be 1-200 characters of letters, digits, ".", "_" and "-", starting with a letter or digit; got ${JSON.stringify(options.pchannel)}`,
    );
  }
  if (typeof options.term !== 'bigint' || options.term < 1n) {
    throw invalid(`term must be a bigint of at least 1, got ${String(options.term)}`);
  }
  if (options.mode !== 'rw' && options.mode !== 'ro') {
    throw invalid(`mode must be "rw" or "ro", got ${JSON.stringify(options.mode)}`);
  }
}
