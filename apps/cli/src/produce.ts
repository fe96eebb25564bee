import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

import type { StreamingClient } from '@streamsvc/client';
import { MessageBuilder } from '@streamsvc/message';
import { SingleBar } from 'cli-progress';

import type { Io } from './output.js';
import { toJson } from './output.js';

export interface ProduceOptions {
  readonly vchannel: string;
  readonly json: boolean;
  /** Group every K lines into one transaction; a line's ack is printed after its txn commits. */
  readonly txnSize?: number | undefined;
  /** Appends in flight at once (stdin mode: order across lines is kept only with 1). */
  readonly concurrency: number;
}

interface Ack {
  readonly line: number;
  readonly messageId: string;
  readonly timeTick: bigint;
}

const encoder = new TextEncoder();

/** One `Data` message per stdin line; returns the number of lines acknowledged. */
export async function produceLines(
  client: StreamingClient,
  input: Readable,
  options: ProduceOptions,
  io: Io,
): Promise<number> {
  const print = (ack: Ack): void =>
    io.out(
      options.json
        ? toJson({ line: ack.line, messageId: ack.messageId, timeTick: ack.timeTick })
        : `line ${ack.line} → ${ack.messageId} at tt ${ack.timeTick}`,
    );
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  let acked = 0;
  if (options.txnSize && options.txnSize > 0) {
    let batch: { line: number; text: string }[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const txn = await client.txn({ vchannel: options.vchannel });
      const results = [];
      for (const { line, text } of batch) {
        const r = await txn.append(MessageBuilder.data(encoder.encode(text)).vchannel(options.vchannel).build());
        results.push({ line, messageId: r.id.toString(), timeTick: r.timeTick });
      }
      await txn.commit();
      for (const ack of results) print(ack);
      acked += results.length;
      batch = [];
    };
    for await (const text of lines) {
      batch.push({ line: ++n, text });
      if (batch.length >= options.txnSize) await flush();
    }
    await flush();
    return acked;
  }
  const inFlight = new Set<Promise<void>>();
  for await (const text of lines) {
    const line = ++n;
    const p = client
      .append(MessageBuilder.data(encoder.encode(text)).vchannel(options.vchannel).build())
      .then((r) => {
        print({ line, messageId: r.id.toString(), timeTick: r.timeTick });
        acked++;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return acked;
}

export interface LoadOptions {
  readonly vchannel: string;
  readonly count: number;
  readonly size: number;
  readonly concurrency: number;
  readonly json: boolean;
}

/** Generates `count` messages of `size` bytes with `concurrency` in flight; prints a summary. */
export async function produceLoad(client: StreamingClient, options: LoadOptions, io: Io): Promise<void> {
  const payload = new Uint8Array(options.size).map((_, i) => (i * 7919) & 0xff);
  const bar = io.isTty
    ? new SingleBar({ format: 'produce [{bar}] {value}/{total} {percentage}% {eta}s left' })
    : undefined;
  bar?.start(options.count, 0);
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.count) }, async () => {
      while (next < options.count) {
        next++;
        const t0 = performance.now();
        await client.append(MessageBuilder.data(payload).vchannel(options.vchannel).build());
        latencies.push(performance.now() - t0);
        bar?.increment();
      }
    }),
  );
  bar?.stop();
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  const summary = {
    messages: latencies.length,
    seconds: Number(seconds.toFixed(3)),
    messagesPerSec: Math.round(latencies.length / seconds),
    mbPerSec: Number(((latencies.length * options.size) / seconds / 1e6).toFixed(2)),
    ackP50Ms: Number(pct(50).toFixed(3)),
    ackP99Ms: Number(pct(99).toFixed(3)),
  };
  io.out(
    options.json
      ? toJson(summary)
      : `${summary.messages} messages in ${summary.seconds} s: ${summary.messagesPerSec} msg/s, ${summary.mbPerSec} MB/s, ack p50 ${summary.ackP50Ms} ms, p99 ${summary.ackP99Ms} ms`,
  );
}
