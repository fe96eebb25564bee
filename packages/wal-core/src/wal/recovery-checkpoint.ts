import type { CallOptions } from '@streamsvc/common';
import type { MessageId, MessageIdCodec } from '@streamsvc/message';
import { z } from 'zod';

import type { VChannelState } from '../vchannel/vchannel-manager.js';

/** One open transaction in a checkpoint. */
export interface CheckpointTxn {
  readonly txnId: bigint;
  readonly vchannel: string;
  readonly keepaliveMs: number;
  /** Time tick of its last append before the checkpoint (its keepalive runs from here). */
  readonly lastTt: bigint;
  /** Where its BeginTxn is (it pins the last-confirmed id). */
  readonly beginId: MessageId;
}

/**
 * What a WAL owner knew at one position of the log: everything recovery would rebuild by replaying the
 * log up to (not including) `position`. A new owner replays from `position` only.
 *
 * Checkpoints are taken from replay results (the state the log itself implies), never from a live WAL's
 * in-memory state, so an ambiguous append (written, but its caller told it failed) cannot make one wrong.
 */
export interface RecoveryCheckpoint {
  /** The term of the owner that took it. */
  readonly term: bigint;
  /** Replay resumes at this id (inclusive). */
  readonly position: MessageId;
  readonly vchannels: readonly VChannelState[];
  readonly openTxns: readonly CheckpointTxn[];
}

/**
 * Where a WAL keeps its recovery checkpoints (one per pchannel; the newest wins). Saving is an
 * optimisation: a WAL without a store, or whose checkpoint is missing or unreadable, replays the whole
 * log.
 */
export interface RecoveryCheckpointStore {
  /** The newest checkpoint of `pchannel`, or undefined. @throws what the storage throws. */
  load(pchannel: string, options?: CallOptions): Promise<RecoveryCheckpoint | undefined>;
  /** Keeps `checkpoint` unless a newer term's is there already. @throws what the storage throws. */
  save(pchannel: string, checkpoint: RecoveryCheckpoint, options?: CallOptions): Promise<void>;
}

/** The part of a MetaKV the store needs (`@streamsvc/metastore`'s MetaKv has it). */
export interface CheckpointKv {
  get(key: string, options?: CallOptions): Promise<{ readonly value: Uint8Array } | undefined>;
  put(key: string, value: string, options?: CallOptions): Promise<unknown>;
}

const decimal = z.string().regex(/^\d+$/);
const checkpointJson = z.object({
  v: z.literal(1),
  term: decimal,
  position: z.string().min(1),
  vchannels: z.array(
    z.object({
      vchannel: z.string().min(1),
      collectionId: decimal,
      state: z.enum(['live', 'dropped']),
      partitions: z.array(decimal),
    }),
  ),
  openTxns: z.array(
    z.object({
      txnId: decimal,
      vchannel: z.string().min(1),
      keepaliveMs: z.number().int().positive(),
      lastTt: decimal,
      beginId: z.string().min(1),
    }),
  ),
});

/** The JSON form of a checkpoint (ids in their stable string form, bigints as decimal strings). */
export function encodeCheckpoint(c: RecoveryCheckpoint): string {
  return JSON.stringify({
    v: 1,
    term: String(c.term),
    position: c.position.toString(),
    vchannels: c.vchannels.map((s) => ({
      vchannel: s.vchannel,
      collectionId: String(s.collectionId),
      state: s.state,
      partitions: [...s.partitions].map(String),
    })),
    openTxns: c.openTxns.map((t) => ({
      txnId: String(t.txnId),
      vchannel: t.vchannel,
      keepaliveMs: t.keepaliveMs,
      lastTt: String(t.lastTt),
      beginId: t.beginId.toString(),
    })),
  });
}

/**
 * Parses {@link encodeCheckpoint}'s output with the backend's id codec.
 * @throws {Error} naming what is wrong (not JSON, a missing field, an id the codec rejects).
 */
export function decodeCheckpoint(text: string, ids: MessageIdCodec): RecoveryCheckpoint {
  const j = checkpointJson.parse(JSON.parse(text));
  return {
    term: BigInt(j.term),
    position: ids.parse(j.position),
    vchannels: j.vchannels.map((s) => ({
      vchannel: s.vchannel,
      collectionId: BigInt(s.collectionId),
      state: s.state,
      partitions: new Set(s.partitions.map(BigInt)),
    })),
    openTxns: j.openTxns.map((t) => ({
      txnId: BigInt(t.txnId),
      vchannel: t.vchannel,
      keepaliveMs: t.keepaliveMs,
      lastTt: BigInt(t.lastTt),
      beginId: ids.parse(t.beginId),
    })),
  };
}

/**
 * Recovery checkpoints in a MetaKV, one key per pchannel: `<prefix><pchannel>`. A save under an older
 * term than the stored one is dropped (a fenced owner finishing late); an unreadable stored checkpoint
 * loads as none.
 */
export class MetaKvCheckpointStore implements RecoveryCheckpointStore {
  readonly #kv: CheckpointKv;
  readonly #prefix: string;
  readonly #ids: MessageIdCodec;

  /** `prefix` ends with `/`; `ids` is the backend's codec (`backend.messageIds`). */
  constructor(options: { readonly kv: CheckpointKv; readonly prefix: string; readonly ids: MessageIdCodec }) {
    this.#kv = options.kv;
    this.#prefix = options.prefix;
    this.#ids = options.ids;
  }

  async load(pchannel: string, options: CallOptions = {}): Promise<RecoveryCheckpoint | undefined> {
    const kv = await this.#kv.get(this.#prefix + pchannel, options);
    if (!kv) return undefined;
    try {
      return decodeCheckpoint(new TextDecoder().decode(kv.value), this.#ids);
    } catch {
      return undefined;
    }
  }

  async save(pchannel: string, checkpoint: RecoveryCheckpoint, options: CallOptions = {}): Promise<void> {
    const current = await this.load(pchannel, options);
    if (current && current.term > checkpoint.term) return;
    await this.#kv.put(this.#prefix + pchannel, encodeCheckpoint(checkpoint), options);
  }
}
