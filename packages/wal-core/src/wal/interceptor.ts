import type { ImmutableMessage, MessageId, MutableMessage, TxnContext } from '@streamsvc/message';

/** What a successful append returns. */
export interface AppendResult {
  /** Where the backend stored the message. */
  readonly id: MessageId;
  /** The time tick the WAL assigned. */
  readonly timeTick: bigint;
  /** The message's last-confirmed id: resume from here (dropping tt below `timeTick`) to read it again. */
  readonly lastConfirmed: MessageId;
  /** For BeginTxn: the new txn's context, to put on its body messages. */
  readonly txnContext: TxnContext | undefined;
  /** The stored message. */
  readonly message: ImmutableMessage;
}

/** One append as it travels through the interceptor chain. */
export interface AppendContext {
  /** The message being appended; interceptors stamp it. A redo attempt gets a fresh clone. */
  readonly message: MutableMessage;
  readonly signal: AbortSignal | undefined;
}

/** The rest of the chain, as seen from one interceptor. */
export type AppendNext = (context: AppendContext) => Promise<AppendResult>;

/**
 * A step of the append path, outermost first: redo → lock → vchannel → timetick → extensions → backend.
 * Extensions (the shard/segment interceptor of the recovery package) plug in after timetick.
 */
export interface AppendInterceptor {
  readonly name: string;
  /** Appends through `next`; a throw counts as a rejection (see {@link chainInterceptors}). */
  append(context: AppendContext, next: AppendNext): Promise<AppendResult>;
  /** Called once when the WAL closes, innermost first. */
  close?(): Promise<void>;
}

/**
 * Builds `interceptors[0](… interceptors[n-1](last))`. An interceptor need not be an async function
 * (one fewer async frame per append on the hot path): whatever it throws before returning its promise
 * becomes that promise's rejection, so `next` never throws — an interceptor may chain `.then` on it
 * without a try around the call.
 */
export function chainInterceptors(interceptors: readonly AppendInterceptor[], last: AppendNext): AppendNext {
  return interceptors.reduceRight<AppendNext>(
    (next, interceptor) => (ctx) => {
      try {
        return interceptor.append(ctx, next);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    last,
  );
}

/**
 * Thrown by an interceptor inside the timetick step to have the whole append re-run from the top with
 * a new time tick (e.g. a segment could not take a message at its tt). Never reaches callers.
 */
export class RedoAppend extends Error {
  constructor(reason: string) {
    super(`[wal] redo append: ${reason}`);
    this.name = 'RedoAppend';
  }
}
