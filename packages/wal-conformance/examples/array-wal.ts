/**
 * A complete WAL backend in one file: the example of docs/writing-a-wal-backend.md. Records live in an
 * array per pchannel (in memory, so it only shows the contract); every part a real backend needs is
 * here: config schema, capabilities, message ids, the opener, read-write and read-only handles with
 * native fencing, tail-following scanners, truncation, error codes, aborts and idempotent close.
 */
import { CloseOnce, abortReason } from '@streamsvc/common';
import type { CallOptions } from '@streamsvc/common';
import { ImmutableMessage, PropertyKey, counterMessageIdCodec } from '@streamsvc/message';
import type { CounterMessageId, MessageEnvelope, MessageId, MutableMessage } from '@streamsvc/message';
import { WalError } from '@streamsvc/wal-core';
import type {
  BackendScanner,
  BackendWal,
  DeliverPolicy,
  OpenOptions,
  ReadOnlyBackendWal,
  ReadOptions,
  WalBackend,
  WalOpener,
} from '@streamsvc/wal-core';
import { z } from 'zod';

/** 1. Ids: a per-pchannel counter, with the stable `v1:<offset>` string form the message package provides. */
export const arrayIds = counterMessageIdCodec('array');

/** 2. Configuration, validated by the registry before `createOpener`. */
export const arrayWalConfigSchema = z.object({
  logs: z
    .custom<ArrayLogs>((v) => v instanceof ArrayLogs)
    .optional()
    .describe('Share logs between openers (several "nodes").'),
});
export type ArrayWalConfig = z.output<typeof arrayWalConfigSchema>;

/** The storage: one array of records and a writer term per pchannel. */
export class ArrayLogs {
  readonly #logs = new Map<string, { records: MessageEnvelope[]; term: bigint; wake: Set<() => void> }>();

  log(pchannel: string): { records: MessageEnvelope[]; term: bigint; wake: Set<() => void> } {
    let log = this.#logs.get(pchannel);
    if (!log) this.#logs.set(pchannel, (log = { records: [], term: 0n, wake: new Set() }));
    return log;
  }
}

/** 3. The backend value an app registers: `WalRegistry.of([arrayWal])`. Importing it registers nothing. */
export const arrayWal: WalBackend<ArrayWalConfig> = {
  name: 'array',
  configSchema: arrayWalConfigSchema,
  capabilities: { fencing: 'native', truncate: false, readOnlyOpen: true },
  messageIds: arrayIds,
  createOpener: async (config) => new ArrayOpener(config.logs ?? new ArrayLogs()),
};

/** 4. The opener: shared state for every pchannel this process opens. */
class ArrayOpener implements WalOpener {
  readonly #logs: ArrayLogs;
  readonly #handles = new Set<ArrayHandle>();
  readonly #closer = new CloseOnce();

  constructor(logs: ArrayLogs) {
    this.#logs = logs;
  }

  open(options: OpenOptions<'rw'>, call?: CallOptions): Promise<BackendWal>;
  open(options: OpenOptions<'ro'>, call?: CallOptions): Promise<ReadOnlyBackendWal>;
  async open(options: OpenOptions, call?: CallOptions): Promise<BackendWal> {
    if (call?.signal?.aborted) throw abortReason(call.signal);
    if (this.#closer.started) throw WalError.closed('open');
    if (!options.pchannel || options.term < 1n || (options.mode !== 'rw' && options.mode !== 'ro')) {
      throw new WalError(
        'INVALID_ARGUMENT',
        `bad open options ${JSON.stringify({ ...options, term: String(options.term) })}`,
      );
    }
    const log = this.#logs.log(options.pchannel);
    if (options.mode === 'rw') {
      // Native fencing: a newer term takes the log over; an older one is refused.
      if (options.term < log.term) throw new WalError('FENCED', `term ${options.term} is older than ${log.term}`);
      log.term = options.term;
    }
    const handle = new ArrayHandle(log, options, () => this.#handles.delete(handle));
    this.#handles.add(handle);
    return handle;
  }

  close(): Promise<void> {
    return this.#closer.run(async () => {
      await Promise.all([...this.#handles].map((h) => h.close()));
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** 5. A handle on one pchannel: append (durable on return), read, truncate, close. */
class ArrayHandle implements BackendWal {
  readonly pchannel: string;
  readonly term: bigint;
  readonly mode: 'rw' | 'ro';
  readonly #log: ReturnType<ArrayLogs['log']>;
  readonly #onClose: () => void;
  readonly #scanners = new Set<BackendScanner>();
  readonly #closer = new CloseOnce();

  constructor(log: ReturnType<ArrayLogs['log']>, options: OpenOptions, onClose: () => void) {
    this.#log = log;
    this.pchannel = options.pchannel;
    this.term = options.term;
    this.mode = options.mode;
    this.#onClose = onClose;
  }

  async append(message: MutableMessage, call?: CallOptions): Promise<MessageId> {
    if (this.mode !== 'rw') throw WalError.readOnly('append', this.pchannel);
    if (this.#closer.started) throw WalError.closed('append');
    if (call?.signal?.aborted) throw abortReason(call.signal); // before the write: nothing written
    if (this.#log.term > this.term) throw new WalError('FENCED', `a writer of term ${this.#log.term} took over`);
    if (!message.properties.has(PropertyKey.TimeTick)) throw new WalError('INVALID_ARGUMENT', 'message has no _tt');
    // Store a private copy: later changes to the caller's object must not reach the log.
    this.#log.records.push({ payload: Buffer.from(message.payload), properties: new Map(message.properties) });
    for (const wake of this.#log.wake) wake();
    return arrayIds.of(BigInt(this.#log.records.length - 1));
  }

  async truncate(id: MessageId): Promise<void> {
    if (this.mode !== 'rw') throw WalError.readOnly('truncate', this.pchannel);
    if (this.#closer.started) throw WalError.closed('truncate');
    offsetOf(id); // validates; this backend keeps everything (capabilities.truncate = false)
  }

  async read(options: ReadOptions, call?: CallOptions): Promise<BackendScanner> {
    if (call?.signal?.aborted) throw abortReason(call.signal);
    if (this.#closer.started) throw WalError.closed('read');
    let next = startOffset(options.policy, this.#log.records.length);
    let closed = false;
    let wake: (() => void) | undefined;
    const log = this.#log;
    const scanner: BackendScanner = {
      [Symbol.asyncIterator]: () => ({
        // Follow the tail: wait for the next append instead of ending.
        next: async () => {
          for (;;) {
            if (closed) return { done: true, value: undefined };
            const envelope = log.records[next];
            if (envelope) {
              const id = arrayIds.of(BigInt(next++));
              return { done: false, value: ImmutableMessage.fromEnvelope(envelope, id, arrayIds) };
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
              log.wake.add(resolve);
            });
            if (wake) log.wake.delete(wake);
          }
        },
      }),
      close: async () => {
        closed = true;
        wake?.();
        this.#scanners.delete(scanner);
      },
      [Symbol.asyncDispose]: () => scanner.close(),
    };
    this.#scanners.add(scanner);
    return scanner;
  }

  close(): Promise<void> {
    return this.#closer.run(async () => {
      await Promise.all([...this.#scanners].map((s) => s.close()));
      this.#onClose();
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function offsetOf(id: MessageId): number {
  if (id.walName !== 'array')
    throw new WalError('INVALID_MESSAGE_ID', `id of wal "${id.walName}" given to wal "array"`);
  return Number((id as CounterMessageId).offset);
}

function startOffset(policy: DeliverPolicy, length: number): number {
  switch (policy.kind) {
    case 'all':
      return 0;
    case 'latest':
      return length;
    case 'startFrom':
      return offsetOf(policy.id);
    case 'startAfter':
      return offsetOf(policy.id) + 1;
  }
}
