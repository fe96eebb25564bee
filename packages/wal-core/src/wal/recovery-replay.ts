import { isExclusiveMessageType, MessageType } from '@streamsvc/message';
import type { MessageId } from '@streamsvc/message';

import type { ReadOnlyBackendWal } from '../spi/backend.js';
import type { RecoveryCheckpoint } from './recovery-checkpoint.js';
import { TxnSession } from '../txn/txn-session.js';
import { VChannelManager } from '../vchannel/vchannel-manager.js';

/** The in-memory state a new owner rebuilds before accepting appends. */
export interface RecoveredState {
  readonly vchannels: VChannelManager;
  /** Transactions begun, not finished, and not expired at the new term's first tick. */
  readonly openTxns: readonly TxnSession[];
  /** Records replayed (for logs and the recovery benchmark). */
  readonly replayed: number;
}

export interface ReplayOptions {
  readonly backend: ReadOnlyBackendWal;
  /** Where replay starts, with the state before it: the log's start (and nothing) when absent. */
  readonly checkpoint?: RecoveryCheckpoint | undefined;
  /** The id of the new term's first tick: replay stops there (everything before it is the old terms'). */
  readonly until: MessageId;
  /** Txns expired at this tt are left out; undefined keeps every unfinished txn. */
  readonly untilTt: bigint | undefined;
  readonly defaultTxnKeepaliveMs: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Replays the log up to the new term's first tick and rebuilds what the WAL enforces: live collections
 * and their partitions (so a restarted node accepts exactly what it accepted before the crash) and
 * open transactions (so a client may still commit a txn across an ownership change).
 */
export async function replayForRecovery(options: ReplayOptions): Promise<RecoveredState> {
  const from = options.checkpoint;
  const vchannels = from ? VChannelManager.restore(from.vchannels) : new VChannelManager();
  const txns = new Map<bigint, TxnSession>();
  for (const t of from?.openTxns ?? []) {
    const session = new TxnSession(t.txnId, t.vchannel, t.txnId, t.keepaliveMs);
    session.observe(t.lastTt);
    session.beginId = t.beginId;
    txns.set(t.txnId, session);
  }
  const scanner = await options.backend.read(
    { policy: from ? { kind: 'startFrom', id: from.position } : { kind: 'all' }, name: 'recovery' },
    { signal: options.signal },
  );
  let replayed = 0;
  try {
    for await (const m of scanner) {
      if (m.id.compare(options.until) >= 0) break;
      replayed++;
      vchannels.apply(m);
      if (m.vchannel !== undefined && isExclusiveMessageType(m.type)) {
        for (const [id, s] of txns) if (s.vchannel === m.vchannel) txns.delete(id);
      }
      const ctx = m.txnContext;
      if (!ctx || m.vchannel === undefined) continue;
      if (m.type === MessageType.BeginTxn) {
        const keepaliveMs = ctx.keepaliveMs > 0 ? ctx.keepaliveMs : options.defaultTxnKeepaliveMs;
        const session = new TxnSession(ctx.txnId, m.vchannel, m.timeTick, keepaliveMs);
        session.beginId = m.id;
        txns.set(ctx.txnId, session);
      } else if (m.type === MessageType.CommitTxn || m.type === MessageType.RollbackTxn) {
        txns.delete(ctx.txnId);
      } else {
        txns.get(ctx.txnId)?.observe(m.timeTick);
      }
    }
  } finally {
    await scanner.close();
  }
  const untilTt = options.untilTt;
  const openTxns = [...txns.values()].filter((s) => untilTt === undefined || !s.isExpiredAt(untilTt));
  return { vchannels, openTxns, replayed };
}

/** Types whose records change what recovery rebuilds (besides every record of a txn). */
const RECOVERY_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  MessageType.CreateCollection,
  MessageType.DropCollection,
  MessageType.CreatePartition,
  MessageType.DropPartition,
  MessageType.BeginTxn,
  MessageType.CommitTxn,
  MessageType.RollbackTxn,
]);

/**
 * True when a record of this message could change the state {@link replayForRecovery} rebuilds: DDL,
 * exclusive types (they fail open txns) and anything of a transaction. Plain data and ticks cannot.
 */
export function affectsRecovery(message: { readonly type: MessageType; readonly txnContext: unknown }): boolean {
  return RECOVERY_TYPES.has(message.type) || isExclusiveMessageType(message.type) || message.txnContext !== undefined;
}

/** The checkpoint of a replay that stopped at `position`. */
export function checkpointOf(recovered: RecoveredState, term: bigint, position: MessageId): RecoveryCheckpoint {
  return {
    term,
    position,
    vchannels: recovered.vchannels.all().map((s) => ({ ...s, partitions: new Set(s.partitions) })),
    openTxns: recovered.openTxns.map((s) => ({
      txnId: s.txnId,
      vchannel: s.vchannel,
      keepaliveMs: s.keepaliveMs,
      lastTt: s.lastTimeTick,
      beginId: s.beginId!,
    })),
  };
}
