import type { MutableMessage } from '@streamsvc/message';
import type { AppendContext, AppendInterceptor, AppendNext, AppendResult } from '@streamsvc/wal-core';

/**
 * Where the gate holds a matching append: `before-write` after it got its time tick but before the
 * backend write (the append is in flight), `after-write` once the backend stored it but before the WAL
 * sees the result (for a TimeTick: it is readable in the backend while the write-ahead buffer does not
 * have it yet — what a slow producer acknowledgement looks like on Kafka).
 */
export type GatePhase = 'before-write' | 'after-write';

/**
 * An extension interceptor (it runs after the timetick step, where the shard interceptor would) that
 * holds chosen appends until released. Scenarios use it to make timing that backends produce at random
 * happen on purpose: bodies in flight while a commit arrives, a tick visible to readers before the
 * buffer has it. It changes nothing else.
 */
export class AppendGate implements AppendInterceptor {
  readonly name = 'conformance-gate';
  #rule: { readonly match: (message: MutableMessage) => boolean; readonly phase: GatePhase } | undefined;
  #held: (() => void)[] = [];
  #waiters: { readonly count: number; readonly wake: () => void }[] = [];

  /** Appends held right now. */
  get held(): number {
    return this.#held.length;
  }

  /** From now on holds every append `match` accepts, at `phase`, until {@link release}. */
  hold(match: (message: MutableMessage) => boolean, phase: GatePhase = 'before-write'): void {
    this.#rule = { match, phase };
  }

  /** Lets every held append continue and stops holding. */
  release(): void {
    this.#rule = undefined;
    for (const go of this.#held.splice(0)) go();
  }

  /** Resolves once at least `count` appends are held. */
  whenHeld(count: number): Promise<void> {
    if (this.#held.length >= count) return Promise.resolve();
    return new Promise((wake) => this.#waiters.push({ count, wake }));
  }

  async append(ctx: AppendContext, next: AppendNext): Promise<AppendResult> {
    if (this.#matches(ctx.message, 'before-write')) await this.#wait();
    const result = await next(ctx);
    if (this.#matches(ctx.message, 'after-write')) await this.#wait();
    return result;
  }

  #matches(message: MutableMessage, phase: GatePhase): boolean {
    const rule = this.#rule;
    return rule !== undefined && rule.phase === phase && rule.match(message);
  }

  #wait(): Promise<void> {
    return new Promise((go) => {
      this.#held.push(go);
      this.#waiters = this.#waiters.filter((w) => (this.#held.length >= w.count ? (w.wake(), false) : true));
    });
  }
}
