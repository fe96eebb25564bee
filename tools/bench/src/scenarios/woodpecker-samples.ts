import { MessageBuilder, vchannelName } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';

/** The pchannel every woodpecker benchmark writes. */
export const BENCH_PCHANNEL = 'bench-dml_0';

/** Sorted-sample percentile. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The samples without the first 1/16 (warm-up), sorted. */
export function afterWarmup(samples: readonly number[]): number[] {
  return samples.slice(samples.length >> 4).sort((a, b) => a - b);
}

/** `count` pre-built, stamped Data messages with `bytes` of payload each (built before timing starts). */
export function messages(count: number, bytes: number): MutableMessage[] {
  const payload = new Uint8Array(bytes).map((_, i) => (i * 7919) & 0xff);
  return Array.from({ length: count }, (_, i) =>
    MessageBuilder.data(payload)
      .vchannel(vchannelName(BENCH_PCHANNEL, 1n, 0))
      .build()
      .withTimeTick(BigInt(i + 1))
      .withLastConfirmedSelf(),
  );
}
