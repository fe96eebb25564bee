import type { CallOptions } from '@streamsvc/common';
import { decodeBroadcastMessage, encodeMessage, StreamingError } from '@streamsvc/message';
import type { BroadcastMutableMessage } from '@streamsvc/message';
import { listAll } from '@streamsvc/metastore';
import type { Compare, KeyValue, MetaKv, TxnOp } from '@streamsvc/metastore';
import type { AppendResult } from '@streamsvc/proto';

import type { BroadcastRequestKey } from './broadcast-requests.js';

/**
 * The active coordinator's leadership check, added to the compare list of every write: typically
 * `[{ key: leadership.key, target: 'createRevision', op: '==', value: leadership.createRevision }]`.
 * When it fails this coordinator is no longer the active one and must stop writing.
 */
export type LeadershipGuard = () => readonly Compare[];

/** Where one vchannel's copy of a broadcast landed, as persisted in its task. */
export type VChannelResult = Pick<AppendResult, 'messageId' | 'timeTick' | 'lastConfirmed'>;

/**
 * A persisted broadcast: pending (some copies unacknowledged), or finished and kept only so that the
 * next active coordinator still answers retries of its request (`finishedAtMs` set).
 */
export interface BroadcastTask {
  readonly broadcastId: bigint;
  /** The MetaKV key of the task. */
  readonly key: string;
  /** The broadcast, with its broadcast id set. */
  readonly message: BroadcastMutableMessage;
  readonly createdAtMs: number;
  /**
   * The client request that started it, so a coordinator that resumes the task still answers retries
   * of that request with its outcome. Absent for a request without an id (and for tasks persisted
   * before request ids existed).
   */
  readonly request?: BroadcastRequestKey;
  /** Per target vchannel: where its copy landed, or `undefined` while it is not yet acknowledged. */
  readonly results: ReadonlyMap<string, VChannelResult | undefined>;
  /** When every copy was acknowledged, for a finished task kept for retries of its request. */
  readonly finishedAtMs?: number;
}

/** Options of {@link BroadcastTaskStore}. */
export interface BroadcastTaskStoreOptions {
  readonly kv: MetaKv;
  /** Key prefix of the coordinator's metadata (ends with `/`); tasks live under `<prefix>broadcast/tasks/`. */
  readonly prefix: string;
  readonly guard: LeadershipGuard;
}

/** The persisted form: JSON with bigints as decimal strings. */
interface TaskJson {
  readonly broadcastId: string;
  /** Base64 of `encodeMessage(broadcast with its id set)`. */
  readonly message: string;
  readonly results: Record<string, { messageId: string; timeTick: string; lastConfirmed: string } | null>;
  readonly createdAtMs: number;
  readonly request?: { readonly id: string; readonly fingerprint: string };
  readonly finishedAtMs?: number;
}

/** What {@link BroadcastTaskStore.create} persists besides the message. */
export interface NewBroadcastTask {
  readonly createdAtMs: number;
  readonly request?: BroadcastRequestKey;
}

interface TaskState {
  readonly task: BroadcastTask;
  readonly results: Map<string, VChannelResult | undefined>;
  finishedAtMs: number | undefined;
  /** modRevision of the task key as this store last wrote it (0 = not written yet). */
  modRevision: bigint;
  /**
   * What a write whose outcome is unknown (it threw: store unreachable, aborted) left behind if it was
   * applied after all: the value it put, or `null` for a delete.
   */
  unknownWrite: string | null | undefined;
  /** Writes of one task run one after the other: each compares the modRevision the previous one left. */
  chain: Promise<unknown>;
}

/** uint64 ids have at most 20 digits; padding keeps the keys in id order. */
const ID_DIGITS = 20;

/**
 * Persisted broadcast tasks in MetaKV, one key per task (`<prefix>broadcast/tasks/<id, 20 digits>`),
 * so a broadcast interrupted by a coordinator crash is completed by the next active coordinator.
 *
 * Every write is one transaction that compares the caller's {@link LeadershipGuard} and the task key's
 * modRevision as this store last wrote it: a coordinator that lost leadership cannot touch a task any
 * more, and the first failed compare makes every later write fail at once with COORDINATOR_NOT_ACTIVE
 * without reaching the store.
 *
 * Each result write rewrites the whole task, message included: fine for DDL-sized messages, which is
 * what broadcasts carry.
 */
export class BroadcastTaskStore {
  readonly #kv: MetaKv;
  readonly #dir: string;
  readonly #guard: LeadershipGuard;
  readonly #tasks = new Map<bigint, TaskState>();
  #lost: StreamingError | undefined;

  constructor(options: BroadcastTaskStoreOptions) {
    this.#kv = options.kv;
    this.#dir = `${options.prefix}broadcast/tasks/`;
    this.#guard = options.guard;
  }

  /** The COORDINATOR_NOT_ACTIVE error that stopped this store, once a guarded write failed its compare. */
  get lost(): StreamingError | undefined {
    return this.#lost;
  }

  /** The MetaKV key of a task. */
  keyOf(broadcastId: bigint): string {
    return this.#dir + broadcastId.toString().padStart(ID_DIGITS, '0');
  }

  /**
   * Checks the guard with an empty transaction, so a coordinator that is not active learns it before
   * it resumes anything.
   * @throws StreamingError COORDINATOR_NOT_ACTIVE when the guard fails; MetaKvError UNAVAILABLE/CLOSED.
   * Abort: the check is abandoned; nothing is written.
   */
  async checkActive(options: CallOptions = {}): Promise<void> {
    this.#throwIfLost();
    const result = await this.#kv.txn({ compare: this.#guard(), success: [] }, options);
    if (!result.succeeded) throw this.#lose('the leadership guard failed');
  }

  /**
   * Reads every persisted task — pending ones and finished ones kept for retries — in broadcast id
   * order, and tracks them for later writes.
   * @throws StreamingError UNRECOVERABLE naming the key of a task that cannot be decoded; MetaKvError
   *   UNAVAILABLE/CLOSED/COMPACTED.
   * Abort: the read is abandoned.
   */
  async loadAll(options: CallOptions = {}): Promise<BroadcastTask[]> {
    const { kvs } = await listAll(this.#kv, this.#dir, options);
    const tasks: BroadcastTask[] = [];
    for (const kv of kvs) {
      const decoded = decodeTask(kv);
      const state = this.#tasks.get(decoded.broadcastId) ?? this.#track(decoded, kv.modRevision);
      tasks.push(this.#view(state));
    }
    return tasks.sort((a, b) => (a.broadcastId < b.broadcastId ? -1 : a.broadcastId > b.broadcastId ? 1 : 0));
  }

  /**
   * Persists a new task for `message` (its broadcast id set) and the request that started it, every
   * vchannel unacknowledged. Calling it
   * again after a failure retries the same write and recognises it if the failed attempt was applied.
   * @throws StreamingError COORDINATOR_NOT_ACTIVE when the guard fails (then nothing was written, unless
   *   an earlier attempt whose outcome was unknown was); MetaKvError UNAVAILABLE (retriable)/CLOSED.
   * Abort: the outcome is unknown.
   */
  async create(
    message: BroadcastMutableMessage,
    { createdAtMs, request }: NewBroadcastTask,
    options: CallOptions = {},
  ): Promise<BroadcastTask> {
    const broadcastId = message.broadcastHeader.broadcastId;
    if (broadcastId === 0n) throw new StreamingError('INVALID_ARGUMENT', 'a broadcast task needs a broadcast id');
    const state =
      this.#tasks.get(broadcastId) ??
      this.#track(
        {
          broadcastId,
          key: this.keyOf(broadcastId),
          message,
          createdAtMs,
          ...(request !== undefined && { request }),
          results: new Map(message.vchannels.map((v) => [v, undefined])),
        },
        0n,
      );
    if (state.modRevision === 0n) await this.#enqueue(state, 'put', options);
    return state.task;
  }

  /**
   * Records where `vchannel`'s copy landed. Idempotent: recording again rewrites the same result.
   * @throws StreamingError COORDINATOR_NOT_ACTIVE when the guard or the task's modRevision compare fails;
   *   INVALID_ARGUMENT for a task this store does not track or a vchannel the broadcast does not name;
   *   MetaKvError UNAVAILABLE (retriable; the result is written with the next write)/CLOSED.
   * Abort: the outcome is unknown.
   */
  async recordResult(
    broadcastId: bigint,
    vchannel: string,
    result: VChannelResult,
    options: CallOptions = {},
  ): Promise<void> {
    const state = this.#state(broadcastId);
    if (!state.results.has(vchannel)) {
      throw new StreamingError('INVALID_ARGUMENT', `broadcast ${broadcastId} does not target vchannel ${vchannel}`);
    }
    state.results.set(vchannel, {
      messageId: result.messageId,
      timeTick: result.timeTick,
      lastConfirmed: result.lastConfirmed,
    });
    await this.#enqueue(state, 'put', options);
  }

  /**
   * Marks a task whose copies were all acknowledged as finished at `finishedAtMs`, keeping it so that
   * the next active coordinator can answer retries of its request.
   * @throws like {@link recordResult}.
   * Abort: the outcome is unknown.
   */
  async markFinished(broadcastId: bigint, finishedAtMs: number, options: CallOptions = {}): Promise<void> {
    const state = this.#state(broadcastId);
    state.finishedAtMs = finishedAtMs;
    await this.#enqueue(state, 'put', options);
  }

  /**
   * Deletes a finished (or abandoned) task and stops tracking it.
   * @throws like {@link recordResult}.
   * Abort: the outcome is unknown.
   */
  async delete(broadcastId: bigint, options: CallOptions = {}): Promise<void> {
    const state = this.#state(broadcastId);
    await this.#enqueue(state, 'delete', options);
    this.#tasks.delete(broadcastId);
  }

  #track(task: BroadcastTask, modRevision: bigint): TaskState {
    const state: TaskState = {
      task,
      results: task.results as Map<string, VChannelResult | undefined>,
      finishedAtMs: task.finishedAtMs,
      modRevision,
      unknownWrite: undefined,
      chain: Promise.resolve(),
    };
    this.#tasks.set(task.broadcastId, state);
    return state;
  }

  #view(state: TaskState): BroadcastTask {
    const finishedAtMs = state.finishedAtMs;
    return finishedAtMs === undefined || finishedAtMs === state.task.finishedAtMs
      ? state.task
      : { ...state.task, finishedAtMs };
  }

  #state(broadcastId: bigint): TaskState {
    const state = this.#tasks.get(broadcastId);
    if (state === undefined) throw new StreamingError('INVALID_ARGUMENT', `no pending broadcast task ${broadcastId}`);
    return state;
  }

  #enqueue(state: TaskState, type: 'put' | 'delete', options: CallOptions): Promise<void> {
    const run = state.chain.then(
      () => this.#write(state, type, options),
      () => this.#write(state, type, options),
    );
    state.chain = run.catch(() => {});
    return run;
  }

  async #write(state: TaskState, type: 'put' | 'delete', options: CallOptions): Promise<void> {
    for (let adopted = false; ; adopted = true) {
      this.#throwIfLost();
      const key = state.task.key;
      // Serialised when the write runs, so it carries every result recorded so far.
      const value = type === 'put' ? encodeTask(state) : null;
      const op: TxnOp = value === null ? { type: 'delete', key } : { type: 'put', key, value };
      const compare: Compare[] = [...this.#guard(), { key, target: 'modRevision', op: '==', value: state.modRevision }];
      let result;
      try {
        result = await this.#kv.txn({ compare, success: [op], failure: [{ type: 'get', key }] }, options);
      } catch (e) {
        state.unknownWrite = value;
        throw e;
      }
      if (result.succeeded) {
        state.modRevision = value === null ? 0n : result.revision;
        state.unknownWrite = undefined;
        return;
      }
      const current = result.results[0];
      // A write that threw may have been applied after all; if the key holds exactly what it wrote,
      // it was ours: adopt its revision and try again (the guard is still checked).
      if (!adopted && state.unknownWrite !== undefined && holds(current, state.unknownWrite)) {
        state.modRevision = current?.modRevision ?? 0n;
        state.unknownWrite = undefined;
        if (value === null && current === undefined) return;
        continue;
      }
      throw this.#lose(
        (current?.modRevision ?? 0n) === state.modRevision
          ? 'the leadership guard failed'
          : `broadcast task ${state.task.broadcastId} was changed by someone else`,
      );
    }
  }

  #lose(why: string): StreamingError {
    this.#lost ??= new StreamingError(
      'COORDINATOR_NOT_ACTIVE',
      `this coordinator is no longer the active one (${why}); it stopped writing broadcast tasks`,
    );
    return this.#lost;
  }

  #throwIfLost(): void {
    if (this.#lost !== undefined) throw this.#lost;
  }
}

function holds(current: KeyValue | undefined, expected: string | null): boolean {
  if (expected === null) return current === undefined;
  return current !== undefined && Buffer.from(current.value).toString('utf8') === expected;
}

function encodeTask(state: TaskState): string {
  const results: TaskJson['results'] = {};
  for (const [vchannel, r] of state.results) {
    results[vchannel] =
      r === undefined
        ? null
        : { messageId: r.messageId, timeTick: r.timeTick.toString(), lastConfirmed: r.lastConfirmed };
  }
  const json: TaskJson = {
    broadcastId: state.task.broadcastId.toString(),
    message: Buffer.from(encodeMessage(state.task.message)).toString('base64'),
    results,
    createdAtMs: state.task.createdAtMs,
    ...(state.task.request !== undefined && {
      request: { id: state.task.request.id, fingerprint: state.task.request.fingerprint },
    }),
    ...(state.finishedAtMs !== undefined && { finishedAtMs: state.finishedAtMs }),
  };
  return JSON.stringify(json);
}

function decodeTask(kv: KeyValue): BroadcastTask {
  try {
    const json = JSON.parse(Buffer.from(kv.value).toString('utf8')) as TaskJson;
    const broadcastId = BigInt(json.broadcastId);
    const message = decodeBroadcastMessage(Buffer.from(json.message, 'base64'));
    if (message.broadcastHeader.broadcastId !== broadcastId) {
      throw new Error(`its message carries broadcast id ${message.broadcastHeader.broadcastId}, not ${broadcastId}`);
    }
    if (typeof json.createdAtMs !== 'number') throw new Error('createdAtMs is not a number');
    const request = json.request;
    if (request !== undefined && (typeof request.id !== 'string' || typeof request.fingerprint !== 'string')) {
      throw new Error('its request is not {id, fingerprint}');
    }
    if (json.finishedAtMs !== undefined && typeof json.finishedAtMs !== 'number') {
      throw new Error('finishedAtMs is not a number');
    }
    const results = new Map<string, VChannelResult | undefined>();
    for (const vchannel of message.vchannels) {
      const r = json.results[vchannel];
      results.set(
        vchannel,
        r == null
          ? undefined
          : { messageId: r.messageId, timeTick: BigInt(r.timeTick), lastConfirmed: r.lastConfirmed },
      );
    }
    return {
      broadcastId,
      key: kv.key,
      message,
      createdAtMs: json.createdAtMs,
      ...(request !== undefined && { request: { id: request.id, fingerprint: request.fingerprint } }),
      results,
      ...(json.finishedAtMs !== undefined && { finishedAtMs: json.finishedAtMs }),
    };
  } catch (e) {
    throw new StreamingError('UNRECOVERABLE', `broadcast task ${kv.key} cannot be decoded: ${String(e)}`, {
      cause: e,
    });
  }
}
