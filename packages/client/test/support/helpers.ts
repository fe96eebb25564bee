import { MessageBuilder, MessageType } from '@streamsvc/message';
import type { AnyImmutableMessage, MutableMessage } from '@streamsvc/message';

import { StreamingClient } from '../../src/index.js';
import type { StreamingClientOptions, Subscription } from '../../src/index.js';
import type { FakeCluster } from './fake-cluster.js';

/** A client of `cluster` with short backoffs, so retries do not slow the tests down. */
export async function connectTo(
  cluster: FakeCluster,
  options: Partial<StreamingClientOptions> = {},
): Promise<StreamingClient> {
  return StreamingClient.connect({
    endpoint: cluster.endpoint,
    discoveryBackoff: { initialMs: 20, maxMs: 100 },
    retryBackoff: { initialMs: 20, maxMs: 200 },
    createTimeoutMs: 2_000,
    ...options,
  });
}

/** A Data message with `text` as its payload. */
export function data(vchannel: string, text: string): MutableMessage {
  return MessageBuilder.data(new TextEncoder().encode(text)).vchannel(vchannel).build();
}

/** The payload text of a Data message (or of each body message of a Txn, joined by `+`). */
export function textOf(m: AnyImmutableMessage): string {
  if (m.type === MessageType.Txn) return m.body.map((b) => new TextDecoder().decode(b.payload)).join('+');
  return new TextDecoder().decode(m.payload);
}

/** Takes `n` messages from `sub`, failing after `timeoutMs`. */
export async function take(sub: Subscription, n: number, timeoutMs = 10_000): Promise<AnyImmutableMessage[]> {
  const out: AnyImmutableMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`took ${out.length} of ${n} messages before the timeout`);
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      sub.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`took ${out.length} of ${n} messages before the timeout`)), left);
      }),
    ]).finally(() => clearTimeout(timer));
    if (r.done) throw new Error(`subscription ended after ${out.length} of ${n} messages`);
    out.push(r.value);
  }
  return out;
}

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes. */
export async function eventually(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
