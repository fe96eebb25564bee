import { ImmutableTxnMessage, MessageType } from '@streamsvc/message';
import type { AnyImmutableMessage, ImmutableMessage } from '@streamsvc/message';
import { physicalMsOf } from '@streamsvc/tso';

interface Builder {
  readonly begin: ImmutableMessage;
  readonly body: ImmutableMessage[];
  readonly keepaliveMs: number;
  lastTt: bigint;
}

/**
 * Reader-side transaction assembly: BeginTxn opens a builder, body messages join it, CommitTxn turns it
 * into one `Txn` message delivered at the commit's time tick, RollbackTxn drops it, and a tick past the
 * keepalive drops an abandoned one. Rolled-back and expired transactions are never delivered.
 * Input must be in tt order (after the reorder buffer).
 */
export class TxnBuffer {
  readonly #builders = new Map<bigint, Builder>();

  /** Open builders (for tests and metrics). */
  get openCount(): number {
    return this.#builders.size;
  }

  /** Feeds one message; returns what is ready to deliver (nothing, the message itself, or a Txn). */
  process(message: ImmutableMessage): AnyImmutableMessage | undefined {
    const ctx = message.txnContext;
    switch (message.type) {
      case MessageType.TimeTick:
        this.#expire(message.timeTick);
        return message as AnyImmutableMessage;
      case MessageType.BeginTxn:
        if (ctx)
          this.#builders.set(ctx.txnId, {
            begin: message,
            body: [],
            keepaliveMs: ctx.keepaliveMs,
            lastTt: message.timeTick,
          });
        return undefined;
      case MessageType.CommitTxn: {
        const builder = ctx && this.#builders.get(ctx.txnId);
        if (!ctx || !builder) return undefined; // its begin is before our start point, or it expired
        this.#builders.delete(ctx.txnId);
        return ImmutableTxnMessage.assemble(builder.begin, builder.body, message);
      }
      case MessageType.RollbackTxn:
        if (ctx) this.#builders.delete(ctx.txnId);
        return undefined;
      default: {
        if (!ctx) return message as AnyImmutableMessage;
        const builder = this.#builders.get(ctx.txnId);
        if (builder) {
          builder.body.push(message);
          builder.lastTt = message.timeTick;
        }
        return undefined;
      }
    }
  }

  clear(): void {
    this.#builders.clear();
  }

  #expire(tt: bigint): void {
    const now = physicalMsOf(tt);
    for (const [id, b] of this.#builders) {
      if (now >= physicalMsOf(b.lastTt) + b.keepaliveMs) this.#builders.delete(id);
    }
  }
}
