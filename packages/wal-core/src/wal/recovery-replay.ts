import { isExclusiveMessageType, MessageType } from '@streamsvc/message';
import type { ImmutableMessage, MessageId } from '@streamsvc/message';

import type { DeliverPolicy, ReadOnlyBackendWal } from '../spi/backend.js';
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
  const state = ReplayState.from(options.checkpoint);
  const replayed = await state.replay({
    backend: options.backend,
    policy: options.checkpoint ? { kind: 'startFrom', id: options.checkpoint.position } : { kind: 'all' },
    until: options.until,
    defaultTxnKeepaliveMs: options.defaultTxnKeepaliveMs,
    signal: options.signal,
  });
  return state.result(replayed, options.untilTt);
}

/**
 * What replay rebuilds, as it goes: vchannels and unfinished txns. Applying a record is idempotent for
 * the state (set a vchannel's state, add or drop a partition or txn), which lets a caller replay only
 * the parts of a log that can change it, in id order.
 */
export class ReplayState {
  readonly vchannels: VChannelManager;
  readonly #txns = new Map<bigint, TxnSession>();

  private constructor(vchannels: VChannelManager) {
    this.vchannels = vchannels;
  }

  /** The state a checkpoint describes (empty without one). */
  static from(checkpoint: RecoveryCheckpoint | undefined): ReplayState {
    const state = new ReplayState(checkpoint ? VChannelManager.restore(checkpoint.vchannels) : new VChannelManager());
    for (const t of checkpoint?.openTxns ?? []) {
      const session = new TxnSession(t.txnId, t.vchannel, t.txnId, t.keepaliveMs);
      session.observe(t.lastTt);
      session.beginId = t.beginId;
      state.#txns.set(t.txnId, session);
    }
    return state;
  }

  /**
   * Applies the records from `policy` on, in id order, up to `until` (exclusive) — or, with `through`,
   * up to and including that id. Returns how many were applied.
   */
  async replay(options: {
    readonly backend: ReadOnlyBackendWal;
    readonly policy: DeliverPolicy;
    readonly until: MessageId;
    readonly through?: MessageId | undefined;
    readonly defaultTxnKeepaliveMs: number;
    readonly signal?: AbortSignal | undefined;
  }): Promise<number> {
    const scanner = await options.backend.read(
      { policy: options.policy, name: 'recovery' },
      { signal: options.signal },
    );
    let replayed = 0;
    try {
      for await (const m of scanner) {
        if (m.id.compare(options.until) >= 0) break;
        if (options.through && m.id.compare(options.through) > 0) break;
        replayed++;
        this.#apply(m, options.defaultTxnKeepaliveMs);
        if (options.through && m.id.compare(options.through) === 0) break;
      }
    } finally {
      await scanner.close();
    }
    return replayed;
  }

  /** The recovered state; txns expired at `untilTt` are left out (undefined keeps them all). */
  result(replayed: number, untilTt: bigint | undefined): RecoveredState {
    const openTxns = [...this.#txns.values()].filter((s) => untilTt === undefined || !s.isExpiredAt(untilTt));
    return { vchannels: this.vchannels, openTxns, replayed };
  }

  #apply(m: ImmutableMessage, defaultTxnKeepaliveMs: number): void {
    this.vchannels.apply(m);
    if (m.vchannel !== undefined && isExclusiveMessageType(m.type)) {
      for (const [id, s] of this.#txns) if (s.vchannel === m.vchannel) this.#txns.delete(id);
    }
    const ctx = m.txnContext;
    if (!ctx || m.vchannel === undefined) return;
    if (m.type === MessageType.BeginTxn) {
      const keepaliveMs = ctx.keepaliveMs > 0 ? ctx.keepaliveMs : defaultTxnKeepaliveMs;
      const session = new TxnSession(ctx.txnId, m.vchannel, m.timeTick, keepaliveMs);
      session.beginId = m.id;
      this.#txns.set(ctx.txnId, session);
    } else if (m.type === MessageType.CommitTxn || m.type === MessageType.RollbackTxn) {
      this.#txns.delete(ctx.txnId);
    } else {
      this.#txns.get(ctx.txnId)?.observe(m.timeTick);
    }
  }
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
