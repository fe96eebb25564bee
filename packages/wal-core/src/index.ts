/**
 * @streamsvc/wal-core — the WAL proper, on top of any backend: time ticks from the TSO for every
 * message, reads in strict time-tick order, transactions, per-vchannel invariants, a write-ahead buffer
 * for tail readers, and term fencing. Backends implement the small SPI in `spi/backend.ts`.
 *
 * ```ts
 * const registry = WalRegistry.of([memoryWal]);
 * const opener = await registry.createOpener('memory', {}, { logger, clock });
 * const wal = await Wal.open({ opener, pchannel: 'by-dev-dml_0', term: 1n, tso });
 * const { id, timeTick } = await wal.append(message);
 * for await (const m of wal.read({ policy: { kind: 'all' }, vchannel })) { ... }
 * ```
 */
export { WalError, WalErrorCode } from './spi/wal-error.js';
export { WalRegistry } from './spi/wal-registry.js';
export { outcomeUnknownOnAbort } from './spi/outcome-unknown.js';
export { parseOwnMessageId } from './spi/own-message-id.js';
export { Wal } from './wal/wal.js';
export { walConfigSchema } from './wal/wal-config.js';
export { RedoAppend, chainInterceptors } from './wal/interceptor.js';
export { WalScanner } from './scanner/wal-scanner.js';
export { validateFilters, passes } from './scanner/deliver-filter.js';
export { WriteAheadBuffer, WabCursor } from './wab/write-ahead-buffer.js';
export { AckManager } from './timetick/ack-manager.js';
export { LastConfirmedManager } from './timetick/last-confirmed.js';
export { TxnManager, DEFAULT_TXN_KEEPALIVE_MS } from './txn/txn-manager.js';
export { TxnSession } from './txn/txn-session.js';
export { VChannelManager } from './vchannel/vchannel-manager.js';
export { MetaKvCheckpointStore, encodeCheckpoint, decodeCheckpoint } from './wal/recovery-checkpoint.js';
export { ReorderBuffer } from './scanner/reorder-buffer.js';
export { TxnBuffer } from './scanner/txn-buffer.js';

export type {
  WalBackend,
  WalCapabilities,
  WalBackendDeps,
  AccessMode,
  OpenOptions,
  WalOpener,
  DeliverPolicy,
  ReadOptions,
  ReadOnlyBackendWal,
  BackendWal,
  BackendScanner,
} from './spi/backend.js';
export type { OpenWalOptions, ReadWalOptions, WalTso } from './wal/wal.js';
export type { WalConfig, ResolvedWalConfig } from './wal/wal-config.js';
export type { AppendResult, AppendContext, AppendNext, AppendInterceptor } from './wal/interceptor.js';
export type { DeliverFilter } from './scanner/deliver-filter.js';
export type { WalScannerOptions } from './scanner/wal-scanner.js';
export type { WriteAheadBufferOptions, WabRead } from './wab/write-ahead-buffer.js';
export type { Acker, AckOutcome, TimestampSource } from './timetick/ack-manager.js';
export type { ConfirmCandidate } from './timetick/last-confirmed.js';
export type { TxnState } from './txn/txn-session.js';
export type { VChannelState } from './vchannel/vchannel-manager.js';
export type { RecoveredState } from './wal/recovery-replay.js';
export type {
  RecoveryCheckpoint,
  RecoveryCheckpointStore,
  CheckpointKv,
  CheckpointTxn,
} from './wal/recovery-checkpoint.js';
