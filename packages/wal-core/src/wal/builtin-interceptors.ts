import { isExclusiveMessageType, MessageType } from '@streamsvc/message';

import { RwLock } from '../util/rw-lock.js';
import type { TxnManager } from '../txn/txn-manager.js';
import type { VChannelManager } from '../vchannel/vchannel-manager.js';
import { RedoAppend } from './interceptor.js';
import type { AppendContext, AppendInterceptor, AppendNext, AppendResult } from './interceptor.js';

/** Redo attempts before an append gives up; each takes a fresh time tick. */
const MAX_REDO = 100;

/**
 * Outermost: gives each attempt its own copy of the caller's message, stamped with the WAL term, and
 * re-runs the chain on {@link RedoAppend} so the retry gets a new time tick (a tick is never reused).
 * The caller's message is never modified. Time ticks come from the WAL itself, stamped, and pass as is.
 */
export class RedoInterceptor implements AppendInterceptor {
  readonly name = 'redo';
  readonly #term: bigint;

  constructor(term: bigint) {
    this.#term = term;
  }

  append(ctx: AppendContext, next: AppendNext): Promise<AppendResult> {
    if (ctx.message.type === MessageType.TimeTick) return next(ctx);
    return this.#attempt(ctx, next, 1);
  }

  #attempt(ctx: AppendContext, next: AppendNext, attempt: number): Promise<AppendResult> {
    return next({ ...ctx, message: ctx.message.clone().withWalTerm(this.#term) }).catch((e: unknown) => {
      if (!(e instanceof RedoAppend) || attempt >= MAX_REDO) throw e;
      ctx.signal?.throwIfAborted();
      return this.#attempt(ctx, next, attempt + 1);
    });
  }
}

/**
 * Per-vchannel locking: exclusive DDL (CreateCollection, DropCollection, partitions, ManualFlush,
 * SchemaChange) waits for the vchannel's in-flight appends and holds later ones back, so in time-tick
 * order a DDL never interleaves with DML of its vchannel. Applying one fails the vchannel's open txns.
 */
export class LockInterceptor implements AppendInterceptor {
  readonly name = 'lock';
  readonly #locks = new Map<string, RwLock>();
  readonly #txns: TxnManager;

  constructor(txns: TxnManager) {
    this.#txns = txns;
  }

  async append(ctx: AppendContext, next: AppendNext): Promise<AppendResult> {
    const vchannel = ctx.message.vchannel;
    if (vchannel === undefined || ctx.message.type === MessageType.TimeTick) return next(ctx);
    const exclusive = isExclusiveMessageType(ctx.message.type);
    let lock = this.#locks.get(vchannel);
    if (!lock) this.#locks.set(vchannel, (lock = new RwLock()));
    if (!exclusive && lock.tryAcquireShared()) {
      try {
        return await next(ctx);
      } finally {
        lock.releaseShared();
        if (lock.idle) this.#locks.delete(vchannel);
      }
    }
    const release = await lock.acquire(exclusive, ctx.signal);
    try {
      const result = await next(ctx);
      if (exclusive) this.#txns.failVChannel(vchannel, `${ctx.message.typeName} was applied to ${vchannel}`);
      return result;
    } finally {
      release();
      if (lock.idle) this.#locks.delete(vchannel);
    }
  }
}

/** Checks the vchannel invariants before the append and applies DDL effects after it. */
export class VChannelInterceptor implements AppendInterceptor {
  readonly name = 'vchannel';
  readonly #vchannels: VChannelManager;

  constructor(vchannels: VChannelManager) {
    this.#vchannels = vchannels;
  }

  append(ctx: AppendContext, next: AppendNext): Promise<AppendResult> {
    this.#vchannels.check(ctx.message);
    return next(ctx).then(this.#applied);
  }

  // Made once: no closure per append.
  readonly #applied = (result: AppendResult): AppendResult => {
    this.#vchannels.apply(result.message);
    return result;
  };
}
