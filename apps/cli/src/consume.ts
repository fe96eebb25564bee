import type { StreamingClient, SubscribeFrom } from '@streamsvc/client';
import { MessageType, messageTypeName } from '@streamsvc/message';
import type { AnyImmutableMessage, ImmutableMessage } from '@streamsvc/message';

import type { Io } from './output.js';
import { toJson } from './output.js';

export interface ConsumeOptions {
  readonly vchannel: string;
  readonly from: string;
  readonly follow: boolean;
  /** Exit after this long without a message (default 1000 ms without --follow, never with it). */
  readonly idleExitMs?: number | undefined;
  readonly json: boolean;
}

/**
 * `earliest`, `latest` or `tt:N` (messages with a time tick above N).
 * @throws Error INVALID_ARGUMENT naming the bad value.
 */
export function parseFrom(from: string): SubscribeFrom {
  if (from === 'earliest' || from === 'latest') return from;
  const m = /^tt:(\d+)$/.exec(from);
  if (m) return { timeTickAfter: BigInt(m[1]!) };
  throw new Error(`INVALID_ARGUMENT: --from must be earliest, latest or tt:<time tick>, not ${JSON.stringify(from)}`);
}

const decoder = new TextDecoder();

/** Prints every message of the vchannel (transactions flattened, in order); returns how many. */
export async function consume(
  client: StreamingClient,
  options: ConsumeOptions,
  io: Io,
  signal?: AbortSignal,
): Promise<number> {
  const idleMs = options.idleExitMs ?? (options.follow ? undefined : 1000);
  const stop = new AbortController();
  signal?.addEventListener('abort', () => stop.abort(signal.reason), { once: true });
  const subscription = client.subscribe({
    vchannel: options.vchannel,
    from: parseFrom(options.from),
    signal: stop.signal,
  });
  let count = 0;
  let idle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (idleMs === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(() => stop.abort(new Error('idle')), idleMs);
  };
  const print = (m: ImmutableMessage): void => {
    count++;
    const type = messageTypeName(m.type);
    const payload = m.type === MessageType.Data ? decoder.decode(m.payload) : '';
    io.out(
      options.json
        ? toJson({ messageId: m.id.toString(), timeTick: m.timeTick, type, payload })
        : `${m.timeTick} ${m.id.toString()} ${type}${payload ? ` ${payload}` : ''}`,
    );
  };
  arm();
  try {
    for await (const m of subscription as AsyncIterable<AnyImmutableMessage>) {
      if (m.type === MessageType.Txn) for (const part of m.body) print(part);
      else print(m);
      arm();
    }
  } catch (e) {
    if (!stop.signal.aborted) throw e;
  } finally {
    clearTimeout(idle);
    await subscription.close();
  }
  return count;
}
