import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import type { ImmutableMessage, MessageId, MessageIdCodec, MutableMessage } from '@streamsvc/message';
import type { z } from 'zod';

/**
 * The backend SPI: what a log store must provide for streamsvc to run a WAL on it. Small on purpose —
 * ordering by TSO, time ticks, transactions, invariants and tail buffering all live in the WAL above,
 * written once. Modelled on Milvus `walimpls`.
 *
 * A backend is a value (`woodpeckerWal`, `kafkaWal`, ...) handed to a {@link WalRegistry}; importing
 * its package registers nothing.
 */
export interface WalBackend<C = unknown> {
  /** Lowercase, unique, stable: it is stamped into every message id (`MessageId.walName`). */
  readonly name: string;
  /** Validates the backend's configuration; the registry parses with it before `createOpener`. */
  readonly configSchema: z.ZodType<C>;
  /** What the backend promises; the conformance suite and the WAL branch on these, never on `name`. */
  readonly capabilities: WalCapabilities;
  /** Parses this backend's message-id strings (checkpoints, `_lc` properties). */
  readonly messageIds: MessageIdCodec;
  /**
   * Builds the process-wide opener: shared clients and connections. Called once per process.
   * @throws {WalError} UNAVAILABLE when the storage cannot be reached; INVALID_CONFIG.
   */
  createOpener(config: C, deps: WalBackendDeps): Promise<WalOpener>;
}

/** What a backend can promise beyond the basic contract. */
export interface WalCapabilities {
  /**
   * `native`: opening a pchannel for write under a newer term makes the backend reject the older
   * writer's appends with FENCED (object-store conditional writes, Pulsar exclusive producers, Kafka
   * producer epochs). `term-only`: the backend cannot stop an older writer; only the coordinator's
   * terms do, which leaves a window in which a partitioned old owner may still write.
   */
  readonly fencing: 'native' | 'term-only';
  /** Whether `truncate` really deletes data (false: it is accepted and ignored). */
  readonly truncate: boolean;
  /** Whether the same log can be read through a read-only open while a writer is active. */
  readonly readOnlyOpen: boolean;
}

/** Services a backend may use. Each is optional: a backend that needs one and lacks it fails `createOpener`. */
export interface WalBackendDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** Metadata store (Woodpecker keeps log metadata and fences here). Typed loosely to keep the SPI small. */
  readonly metaKv?: unknown;
  /** Object store (Woodpecker's object mode). */
  readonly objectStore?: unknown;
}

export type AccessMode = 'rw' | 'ro';

export interface OpenOptions<M extends AccessMode = AccessMode> {
  /** The pchannel (physical log) name, e.g. `by-dev-dml_0`. */
  readonly pchannel: string;
  /** The coordinator's term for this ownership; ≥ 1. A `rw` open under term T fences writers of terms < T. */
  readonly term: bigint;
  readonly mode: M;
}

/** Opens per-pchannel handles; owns the shared clients. */
export interface WalOpener extends AsyncDisposable {
  /**
   * Opens a pchannel. A `rw` open under term T fences every writer of an older term (where the backend
   * can — see `capabilities.fencing`); it resolves only when the handle can append.
   * @throws {WalError} FENCED when a writer of a newer term exists; UNAVAILABLE; INVALID_ARGUMENT; CLOSED.
   */
  open(options: OpenOptions<'rw'>, call?: CallOptions): Promise<BackendWal>;
  open(options: OpenOptions<'ro'>, call?: CallOptions): Promise<ReadOnlyBackendWal>;
  open(options: OpenOptions, call?: CallOptions): Promise<ReadOnlyBackendWal>;
  /** Closes the shared clients. Handles still open are closed first. Idempotent. */
  close(): Promise<void>;
}

/** Where a read starts. */
export type DeliverPolicy =
  | { readonly kind: 'all' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'startFrom'; readonly id: MessageId }
  | { readonly kind: 'startAfter'; readonly id: MessageId };

export interface ReadOptions {
  readonly policy: DeliverPolicy;
  /** A name for logs and metrics (and Kafka's consumer client id). */
  readonly name?: string;
}

/** A read-only handle on one pchannel. */
export interface ReadOnlyBackendWal extends AsyncDisposable {
  readonly pchannel: string;
  readonly term: bigint;
  readonly mode: AccessMode;
  /**
   * Reads the log in message-id order from `policy`. The scanner follows the tail: it waits for new
   * records after the last one and ends only when closed (or when the handle closes).
   * @throws {WalError} INVALID_MESSAGE_ID for an id of another backend; CLOSED.
   */
  read(options: ReadOptions, call?: CallOptions): Promise<BackendScanner>;
  /** Closes the handle and its scanners. Idempotent; same promise twice. */
  close(): Promise<void>;
}

/** A read-write handle: the only writer of its pchannel under its term. */
export interface BackendWal extends ReadOnlyBackendWal {
  /**
   * Appends one message; resolves with its id once it is durable. Safe for concurrent callers; ids need
   * not follow call order. The message must carry `_tt` and a last-confirmed id (the WAL stamps them).
   * @throws {WalError} FENCED when a newer writer took over (the handle is then unusable); UNAVAILABLE
   *   (retriable); READ_ONLY; CLOSED.
   * Abort: before the write started, rejects with the abort reason and nothing is written; after, with
   *   OUTCOME_UNKNOWN — the message may or may not be durable.
   */
  append(message: MutableMessage, call?: CallOptions): Promise<MessageId>;
  /**
   * Tells the backend everything before `id` may be deleted (a hint: backends free what they can, in
   * whole units). Reads from ids before it may then fail or start later.
   * @throws {WalError} READ_ONLY; INVALID_MESSAGE_ID; CLOSED.
   */
  truncate(id: MessageId, call?: CallOptions): Promise<void>;
}

/** Records of one pchannel in message-id order, following the tail until closed. */
export interface BackendScanner extends AsyncIterable<ImmutableMessage>, AsyncDisposable {
  /** Ends the iteration (a pending `next()` resolves done). Idempotent. */
  close(): Promise<void>;
}
