import { deferred } from '@streamsvc/common';
import type { Deferred } from '@streamsvc/common';
import { ImmutableMessage, MessageType, counterMessageIdCodec, encodeMessage, decodeMessage } from '@streamsvc/message';
import type { CounterMessageId, MutableMessage } from '@streamsvc/message';

import { WalError } from '../../src/spi/wal-error.js';
import type {
  BackendScanner,
  BackendWal,
  DeliverPolicy,
  OpenOptions,
  ReadOptions,
  WalOpener,
} from '../../src/spi/backend.js';

export const fakeIds = counterMessageIdCodec('fake');

interface Record {
  readonly offset: bigint;
  readonly bytes: Uint8Array;
}

/**
 * A tiny in-memory backend for wal-core's own tests (the reference backend, wal-memory, depends on
 * wal-core, so it cannot be used here). One log per pchannel; a rw open fences older terms; appends can
 * be delayed per call (`delay`) so completion order differs from call order, and can be made to fail.
 */
export class FakeLogStore implements WalOpener {
  readonly logs = new Map<string, { records: Record[]; term: bigint; waiters: Set<Deferred<void>> }>();
  /** Decides each append's delay in ms (default 0). */
  delay: (message: MutableMessage) => number = () => 0;
  /** When set, appends reject with this error. */
  failWith: Error | undefined;
  /** Writes matching appends, then throws OUTCOME_UNKNOWN anyway (an ack lost on the way back). */
  loseAck: (message: MutableMessage) => boolean = () => false;
  appends = 0;
  /** Appends of anything but TimeTick. */
  dataAppends = 0;

  log(pchannel: string): { records: Record[]; term: bigint; waiters: Set<Deferred<void>> } {
    let log = this.logs.get(pchannel);
    if (!log) this.logs.set(pchannel, (log = { records: [], term: 0n, waiters: new Set() }));
    return log;
  }

  async open(options: OpenOptions): Promise<BackendWal> {
    const log = this.log(options.pchannel);
    if (options.mode === 'rw') {
      if (options.term < log.term) throw new WalError('FENCED', `term ${options.term} < ${log.term}`);
      log.term = options.term;
    }
    return new FakeBackendWal(this, options);
  }

  async close(): Promise<void> {}
  async [Symbol.asyncDispose](): Promise<void> {}
}

class FakeBackendWal implements BackendWal {
  readonly pchannel: string;
  readonly term: bigint;
  readonly mode: 'rw' | 'ro';
  readonly #store: FakeLogStore;
  #closed = false;

  constructor(store: FakeLogStore, options: OpenOptions) {
    this.#store = store;
    this.pchannel = options.pchannel;
    this.term = options.term;
    this.mode = options.mode;
  }

  async append(message: MutableMessage): Promise<CounterMessageId> {
    if (this.mode === 'ro') throw WalError.readOnly('append', this.pchannel);
    if (this.#closed) throw WalError.closed('append');
    const bytes = encodeMessage(message);
    const ms = this.#store.delay(message);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    if (this.#store.failWith) throw this.#store.failWith;
    const log = this.#store.log(this.pchannel);
    if (log.term > this.term) throw new WalError('FENCED', `fenced by term ${log.term}`);
    const offset = BigInt(log.records.length);
    log.records.push({ offset, bytes });
    this.#store.appends++;
    if (message.type !== MessageType.TimeTick) this.#store.dataAppends++;
    for (const w of log.waiters) w.resolve();
    log.waiters.clear();
    if (this.#store.loseAck(message)) throw new WalError('OUTCOME_UNKNOWN', `ack of record ${offset} lost`);
    return fakeIds.of(offset);
  }

  async truncate(): Promise<void> {}

  async read(options: ReadOptions): Promise<BackendScanner> {
    const log = this.#store.log(this.pchannel);
    let next = startOffset(options.policy, log.records.length);
    let closed = false;
    let wake: Deferred<void> | undefined;
    const scanner: BackendScanner = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          for (;;) {
            if (closed || this.#closed) return { done: true, value: undefined };
            const record = log.records[next];
            if (record) {
              next++;
              const env = decodeMessage(record.bytes);
              return { done: false, value: ImmutableMessage.fromEnvelope(env, fakeIds.of(record.offset), fakeIds) };
            }
            wake = deferred();
            log.waiters.add(wake);
            await wake.promise;
          }
        },
      }),
      close: async () => {
        closed = true;
        wake?.resolve();
      },
      [Symbol.asyncDispose]: async () => scanner.close(),
    };
    return scanner;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const log = this.#store.log(this.pchannel);
    for (const w of log.waiters) w.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function startOffset(policy: DeliverPolicy, length: number): number {
  switch (policy.kind) {
    case 'all':
      return 0;
    case 'latest':
      return length;
    case 'startFrom':
      return Number((policy.id as CounterMessageId).offset);
    case 'startAfter':
      return Number((policy.id as CounterMessageId).offset) + 1;
  }
}
