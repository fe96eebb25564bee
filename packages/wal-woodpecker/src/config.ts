import { z } from 'zod';

const MiB = 1024 * 1024;

/**
 * Configuration of the woodpecker backend. `mode` picks the medium; everything else has a default
 * that suits it. Where the log's metadata lives is not configuration but a dependency
 * (`WalBackendDeps.metaKv`, and `.objectStore` in object mode).
 */
export const woodpeckerWalConfigSchema = z
  .strictObject({
    mode: z
      .enum(['local', 'object'])
      .default('local')
      .describe(
        '`local`: one append file per segment under `rootDir`, group commit with fdatasync (the embedded default). `object`: one object per block under `prefix` in the `ObjectStore` dependency, written with put-if-absent.',
      ),
    rootDir: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Local mode: directory holding `<pchannel>/<segment>.log` files (created when missing). Required in local mode.',
      ),
    prefix: z
      .string()
      .min(1)
      .regex(/^[^/].*[^/]$|^[^/]$/, 'must not start or end with "/"')
      .default('woodpecker')
      .describe('Object mode: key prefix of every object, `<prefix>/<pchannel>/<segment>/<block>.blk`.'),
    metaPrefix: z
      .string()
      .min(1)
      .regex(/^[^/].*[^/]$|^[^/]$/, 'must not start or end with "/"')
      .default('woodpecker')
      .describe("MetaKv key prefix of the logs' metadata: `<metaPrefix>/logs/<pchannel>[/segments/<id>]`."),
    maxBlockBytes: z
      .number()
      .int()
      .min(4096)
      .max(64 * MiB)
      .default(2 * MiB)
      .describe(
        'A block is cut once its entries reach this many bytes (it may exceed it by one entry). Larger blocks mean fewer syncs/PUTs and larger acks.',
      ),
    maxBlockEntries: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe('At most this many entries per block.'),
    flushIntervalMs: z
      .number()
      .int()
      .min(10)
      .max(200)
      .default(50)
      .describe(
        'Object mode: how long the oldest buffered entry waits before its block is uploaded (unless the block fills first). Local mode ignores it: the next block is written as soon as the previous fdatasync returns.',
      ),
    maxParallelUploads: z
      .number()
      .int()
      .min(1)
      .max(32)
      .default(4)
      .describe('Object mode: blocks uploaded at once (pipelined; acks still follow block order).'),
    segmentMaxBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(256 * MiB)
      .describe('A segment rolls (is completed and the next one created) once it holds this many bytes.'),
    segmentMaxBlocks: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'A segment rolls once it has this many blocks. Default: 1000 in object mode (bounds recovery probes); unlimited in local mode (blocks are file regions there).',
      ),
    segmentMaxAgeMs: z
      .number()
      .int()
      .min(1)
      .default(600_000)
      .describe('A non-empty segment rolls at its next block once it is this old.'),
    maxInFlightBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(64 * MiB)
      .describe(
        'Bytes of appended entries not yet durable, per writer. Past it appends wait; after `maxInFlightWaitMs` they fail with the retriable UNAVAILABLE. Memory never grows past it.',
      ),
    maxInFlightWaitMs: z
      .number()
      .int()
      .min(1)
      .max(600_000)
      .default(5_000)
      .describe('How long an append waits for in-flight room before failing with UNAVAILABLE.'),
    readAheadBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(256 * MiB)
      .default(4 * MiB)
      .describe('Local mode: bytes read per request by catching-up readers and by recovery.'),
    readAheadBlocks: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('Object mode: blocks a catching-up reader fetches ahead in parallel (completed segments).'),
    pollInitialMs: z
      .number()
      .int()
      .min(1)
      .default(20)
      .describe(
        'A reader at the tail of a log written by another process polls (next block header / HEAD of the next block) after this delay, doubling up to `pollMaxMs`. In-process readers are notified instead.',
      ),
    pollMaxMs: z.number().int().min(1).default(1_000).describe('The longest delay between two tail polls.'),
    preallocateBytes: z
      .number()
      .int()
      .min(0)
      .default(64 * MiB)
      .describe(
        'Local mode: the segment file is extended (sparse, by ftruncate) this far ahead of the data, so a block write does not change the file size and fdatasync need not commit it. 0 = off.',
      ),
    putRetries: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(3)
      .describe(
        'Object mode: retries of a block PUT that failed with a transient error before the writer repairs the segment.',
      ),
    fenceResolveTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe(
        'Local mode: how long a writer that finds a fence after its fdatasync waits for the new writer to record the segment end, to tell whether its last block made it (else OUTCOME_UNKNOWN).',
      ),
    allowNonAtomicPutIfAbsent: z
      .boolean()
      .default(false)
      .describe(
        'Object mode: accept an ObjectStore whose putIfAbsent is not atomic. Fencing then relies on the MetaKv CAS alone and a stale writer may add blocks after a takeover; for tests and trusted single-writer setups only.',
      ),
  })
  .superRefine((config, ctx) => {
    if (config.mode === 'local' && config.rootDir === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rootDir'], message: 'rootDir is required in local mode' });
    }
    if (config.pollMaxMs < config.pollInitialMs) {
      ctx.addIssue({ code: 'custom', path: ['pollMaxMs'], message: 'pollMaxMs must be at least pollInitialMs' });
    }
  });

/** Validated configuration of the woodpecker backend (what `woodpeckerWalConfigSchema` outputs). */
export type WoodpeckerWalConfig = z.output<typeof woodpeckerWalConfigSchema>;
/** Configuration as written by hand, before defaults (what `woodpeckerWalConfigSchema` accepts). */
export type WoodpeckerWalConfigInput = z.input<typeof woodpeckerWalConfigSchema>;

/** The configuration with mode-dependent defaults resolved: what the writer and readers run on. */
export interface WoodpeckerSettings {
  readonly mode: 'local' | 'object';
  readonly rootDir: string;
  readonly prefix: string;
  readonly metaPrefix: string;
  readonly maxBlockBytes: number;
  readonly maxBlockEntries: number;
  /** 0 = cut a block as soon as the previous write finished (local group commit). */
  readonly flushIntervalMs: number;
  /** Blocks written at once: 1 in local mode. */
  readonly parallelWrites: number;
  readonly segmentMaxBytes: number;
  readonly segmentMaxBlocks: number;
  readonly segmentMaxAgeMs: number;
  readonly maxInFlightBytes: number;
  readonly maxInFlightWaitMs: number;
  readonly readAheadBytes: number;
  readonly readAheadBlocks: number;
  readonly pollInitialMs: number;
  readonly pollMaxMs: number;
  readonly preallocateBytes: number;
  readonly putRetries: number;
  readonly fenceResolveTimeoutMs: number;
  readonly allowNonAtomicPutIfAbsent: boolean;
}

/** Applies the defaults that depend on the mode. */
export function resolveSettings(config: WoodpeckerWalConfig): WoodpeckerSettings {
  const local = config.mode === 'local';
  return {
    mode: config.mode,
    rootDir: config.rootDir ?? '',
    prefix: config.prefix,
    metaPrefix: config.metaPrefix,
    maxBlockBytes: config.maxBlockBytes,
    maxBlockEntries: config.maxBlockEntries,
    flushIntervalMs: local ? 0 : config.flushIntervalMs,
    parallelWrites: local ? 1 : config.maxParallelUploads,
    segmentMaxBytes: config.segmentMaxBytes,
    segmentMaxBlocks: config.segmentMaxBlocks ?? (local ? Number.POSITIVE_INFINITY : 1000),
    segmentMaxAgeMs: config.segmentMaxAgeMs,
    maxInFlightBytes: config.maxInFlightBytes,
    maxInFlightWaitMs: config.maxInFlightWaitMs,
    readAheadBytes: config.readAheadBytes,
    readAheadBlocks: config.readAheadBlocks,
    pollInitialMs: config.pollInitialMs,
    pollMaxMs: config.pollMaxMs,
    preallocateBytes: local ? config.preallocateBytes : 0,
    putRetries: config.putRetries,
    fenceResolveTimeoutMs: config.fenceResolveTimeoutMs,
    allowNonAtomicPutIfAbsent: config.allowNonAtomicPutIfAbsent,
  };
}
