import { abortReason, CloseOnce, raceAbort } from '@streamsvc/common';
import type { CallOptions, Logger } from '@streamsvc/common';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import type { WalErrorCode as WalErrorCodeType } from '@streamsvc/wal-core';
import { positionBefore, pulsarMessageIds } from './pulsar-message-id.js';
import type { PulsarMessageId } from './pulsar-message-id.js';
import type {
  PulsarPort,
  PulsarPortMessage,
  PulsarPortProducer,
  PulsarPortReader,
  PulsarProducerOptions,
  PulsarReadStart,
} from './pulsar-port.js';
import type { PulsarSdk, SdkClient, SdkConsumer, SdkMessage, SdkMessageId, SdkReader } from './pulsar-sdk.js';

/** What the SDK adapter needs from the backend configuration. */
export interface SdkPortConfig {
  readonly serviceUrl: string;
  readonly operationTimeoutMs: number;
  readonly sendTimeoutMs: number;
  readonly readWaitMs: number;
  readonly truncateSubscription: string;
  readonly authToken?: string | undefined;
}

/** Loads the SDK module; replaceable in tests. */
export type PulsarSdkLoader = () => Promise<unknown>;

// A variable specifier keeps TypeScript (and bundlers) from resolving the optional peer at build time.
const SDK_MODULE = 'pulsar-client';
const defaultLoader: PulsarSdkLoader = () => import(SDK_MODULE);

/**
 * Loads `pulsar-client` lazily, on the first opener that needs it.
 * @throws {WalError} INVALID_CONFIG with an actionable message when the module (or its native addon)
 *   cannot be loaded, or does not look like pulsar-client.
 */
export async function loadPulsarSdk(loader: PulsarSdkLoader = defaultLoader): Promise<PulsarSdk> {
  let loaded: unknown;
  try {
    loaded = await loader();
  } catch (cause) {
    throw new WalError(
      WalErrorCode.INVALID_CONFIG,
      `the pulsar WAL backend needs the optional peer dependency "pulsar-client", which could not be loaded (${describe(cause)}). ` +
        'Install it with `npm install pulsar-client` (or pnpm add / yarn add); it is a native addon that needs the Pulsar C++ client library ' +
        '(libpulsar), which its install script downloads from archive.apache.org or builds from source. ' +
        'To run without a broker, configure the backend with `port: new InMemoryPulsar()` instead of `serviceUrl`.',
      { cause, details: { module: SDK_MODULE } },
    );
  }
  const sdk = ((loaded as { default?: unknown })?.default ?? loaded) as Partial<PulsarSdk> | undefined;
  if (typeof sdk?.Client !== 'function' || typeof sdk.MessageId?.deserialize !== 'function') {
    throw new WalError(
      WalErrorCode.INVALID_CONFIG,
      `the module "${SDK_MODULE}" does not export Client and MessageId; install pulsar-client 1.9 or later with \`npm install pulsar-client\``,
      { details: { module: SDK_MODULE } },
    );
  }
  return sdk as PulsarSdk;
}

/**
 * Native results of the Pulsar client (`pulsar_result_str`, which the Node SDK puts in its error
 * messages: "Failed to send message: ProducerFenced") and the WalError code each becomes. The Node SDK
 * throws plain `Error`s, so the result name in the message is the only thing to branch on; this table
 * is the one place that does.
 */
export const PULSAR_RESULT_CODES: Readonly<Record<string, WalErrorCodeType>> = Object.freeze({
  // ExclusiveWithFencing: a newer exclusive producer took the topic.
  ProducerFenced: WalErrorCode.FENCED,
  // Exclusive (non-fencing) access held by another producer: this one may not write.
  ProducerBusy: WalErrorCode.FENCED,
  // A terminated topic accepts no writes ever again: the handle must stop, like a fenced one.
  TopicTerminated: WalErrorCode.FENCED,
  AlreadyClosed: WalErrorCode.CLOSED,
  MessageTooBig: WalErrorCode.INVALID_ARGUMENT,
  InvalidMessage: WalErrorCode.INVALID_ARGUMENT,
  InvalidTopicName: WalErrorCode.INVALID_ARGUMENT,
  InvalidConfiguration: WalErrorCode.INVALID_CONFIG,
  AuthenticationError: WalErrorCode.INVALID_CONFIG,
  AuthorizationError: WalErrorCode.INVALID_CONFIG,
  TimeOut: WalErrorCode.UNAVAILABLE,
  ConnectError: WalErrorCode.UNAVAILABLE,
  NotConnected: WalErrorCode.UNAVAILABLE,
  Disconnected: WalErrorCode.UNAVAILABLE,
  ServiceUnitNotReady: WalErrorCode.UNAVAILABLE,
  LookupError: WalErrorCode.UNAVAILABLE,
  TooManyLookupRequestException: WalErrorCode.UNAVAILABLE,
  ProducerQueueIsFull: WalErrorCode.UNAVAILABLE,
  BrokerMetadataError: WalErrorCode.UNAVAILABLE,
  BrokerPersistenceError: WalErrorCode.UNAVAILABLE,
  ProducerBlockedQuotaExceededError: WalErrorCode.UNAVAILABLE,
  ProducerBlockedQuotaExceededException: WalErrorCode.UNAVAILABLE,
});

const RESULT_NAMES = Object.keys(PULSAR_RESULT_CODES).sort((a, b) => b.length - a.length);

/**
 * Translates an SDK error into a WalError; `context` says what was being done ("send to topic …").
 * WalErrors pass through; unknown errors become UNAVAILABLE (retriable), keeping the cause.
 */
export function toWalError(e: unknown, context: string): WalError {
  if (WalError.is(e)) return e;
  const text = describe(e);
  const result = RESULT_NAMES.find((name) => text.includes(name));
  const code = result === undefined ? WalErrorCode.UNAVAILABLE : PULSAR_RESULT_CODES[result]!;
  return new WalError(code, `${context}: ${text}`, { cause: e, details: { pulsarResult: result ?? 'unknown' } });
}

function isTimeout(e: unknown): boolean {
  return describe(e).includes('TimeOut');
}

/**
 * A {@link PulsarPort} over the `pulsar-client` SDK. The only code that calls the SDK.
 * @throws {WalError} INVALID_CONFIG when the SDK cannot be loaded (see {@link loadPulsarSdk}).
 */
export async function createSdkPulsarPort(
  config: SdkPortConfig,
  deps: { readonly logger: Logger; readonly loadSdk?: PulsarSdkLoader },
): Promise<PulsarPort> {
  const sdk = await loadPulsarSdk(deps.loadSdk);
  let client: SdkClient;
  try {
    client = new sdk.Client({
      serviceUrl: config.serviceUrl,
      operationTimeoutSeconds: Math.ceil(config.operationTimeoutMs / 1000),
      ...(config.authToken === undefined
        ? {}
        : { authentication: new sdk.AuthenticationToken({ token: config.authToken }) }),
      // The SDK logs to stdout by default; packages are silent, so route it to the injected logger.
      log: (level, file, line, message) => {
        if (level >= 2) deps.logger.warn({ file, line }, message);
        else deps.logger.debug({ file, line }, message);
      },
    });
  } catch (cause) {
    throw toWalError(cause, `creating the pulsar client for ${config.serviceUrl}`);
  }
  return new SdkPulsarPort(sdk, client, config);
}

class SdkPulsarPort implements PulsarPort {
  readonly #sdk: PulsarSdk;
  readonly #client: SdkClient;
  readonly #config: SdkPortConfig;
  readonly #close = new CloseOnce();
  readonly #resources = new Set<{ close(): Promise<unknown> }>();
  readonly #cursors = new Map<string, Promise<SdkConsumer>>();

  constructor(sdk: PulsarSdk, client: SdkClient, config: SdkPortConfig) {
    this.#sdk = sdk;
    this.#client = client;
    this.#config = config;
  }

  async createProducer(topic: string, options: PulsarProducerOptions, call?: CallOptions): Promise<PulsarPortProducer> {
    this.#check('createProducer', call);
    const created = this.#client
      .createProducer({
        topic,
        ...(options.producerName === undefined ? {} : { producerName: options.producerName }),
        // The newer owner fences the older: see README "Fencing". Plain `Exclusive` would instead make
        // the new owner fail (ProducerBusy) until the old producer is gone.
        accessMode: 'ExclusiveWithFencing',
        sendTimeoutMs: this.#config.sendTimeoutMs,
        blockIfQueueFull: true,
        // One message per entry: ids are (ledger, entry) and "just before an id" is always expressible.
        batchingEnabled: false,
      })
      .catch((e: unknown) => {
        throw toWalError(e, `creating the exclusive producer of topic "${topic}"`);
      });
    const native = await this.#untilAbort(created, call, (p) => p.close());
    const producer: PulsarPortProducer = {
      send: async (payload, properties) => {
        if (this.#close.started) throw WalError.closed(`send to topic "${topic}"`);
        try {
          const id = await native.send({ data: Buffer.from(payload), properties: { ...properties } });
          return idFromSdk(id);
        } catch (e) {
          throw toWalError(e, `send to topic "${topic}"`);
        }
      },
      close: async () => {
        this.#resources.delete(native);
        await native.close().catch(() => {});
      },
    };
    this.#resources.add(native);
    return producer;
  }

  async createReader(topic: string, start: PulsarReadStart, call?: CallOptions): Promise<PulsarPortReader> {
    this.#check('createReader', call);
    const native = await this.#untilAbort(this.#openReader(topic, start), call, (r) => r.close());
    this.#resources.add(native);
    return new SdkPortReader(native, topic, this.#config.readWaitMs, () => this.#resources.delete(native));
  }

  async lastMessage(topic: string, call?: CallOptions): Promise<PulsarPortMessage | undefined> {
    this.#check('lastMessage', call);
    // The Node SDK offers neither getLastMessageId nor an inclusive reader at `latest`, so the newest
    // message is found by reading what the topic retains (truncation keeps that short) to its end.
    const reader = await this.#untilAbort(this.#openReader(topic, { kind: 'earliest' }), call, (r) => r.close());
    try {
      let last: SdkMessage | undefined;
      // Bounded by the messages the topic retains; hasNext() is false at the end.
      while (reader.hasNext()) {
        if (call?.signal?.aborted === true) throw abortReason(call.signal);
        last = await reader.readNext(this.#config.operationTimeoutMs);
      }
      return last === undefined ? undefined : messageFromSdk(last);
    } catch (e) {
      throw call?.signal?.aborted === true
        ? abortReason(call.signal)
        : toWalError(e, `reading the last message of topic "${topic}"`);
    } finally {
      await reader.close().catch(() => {});
    }
  }

  async truncate(topic: string, id: PulsarMessageId, call?: CallOptions): Promise<void> {
    this.#check('truncate', call);
    let cursor = this.#cursors.get(topic);
    if (cursor === undefined) {
      cursor = this.#client.subscribe({
        topic,
        subscription: this.#config.truncateSubscription,
        // Failover allows cumulative acks and lets a new owner's consumer join while an old one lingers.
        subscriptionType: 'Failover',
        subscriptionInitialPosition: 'Earliest',
        receiverQueueSize: 1,
      });
      this.#cursors.set(topic, cursor);
      cursor.catch(() => this.#cursors.delete(topic));
    }
    try {
      const consumer = await raceAbort(cursor, call?.signal);
      // Everything before `id` is acknowledged; `id` itself stays readable.
      await raceAbort(consumer.acknowledgeCumulativeId(this.#sdkId(positionBefore(id))), call?.signal);
    } catch (e) {
      if (call?.signal?.aborted === true) throw abortReason(call.signal);
      throw toWalError(e, `moving the truncation cursor of topic "${topic}"`);
    }
  }

  close(): Promise<void> {
    return this.#close.run(async () => {
      const cursors = await Promise.allSettled(this.#cursors.values());
      const closing = [...this.#resources].map((r) => r.close());
      for (const c of cursors) if (c.status === 'fulfilled') closing.push(c.value.close());
      await Promise.allSettled(closing);
      await this.#client.close().catch(() => {});
    });
  }

  #openReader(topic: string, start: PulsarReadStart): Promise<SdkReader> {
    return this.#client
      .createReader({ topic, startMessageId: this.#startId(start), receiverQueueSize: 1000 })
      .catch((e: unknown) => {
        throw toWalError(e, `creating a reader of topic "${topic}"`);
      });
  }

  #startId(start: PulsarReadStart): SdkMessageId {
    switch (start.kind) {
      case 'earliest':
        return this.#sdk.MessageId.earliest();
      case 'latest':
        return this.#sdk.MessageId.latest();
      case 'id':
        return this.#sdkId(start.inclusive ? positionBefore(start.id) : start.id);
    }
  }

  #sdkId(id: PulsarMessageId): SdkMessageId {
    return this.#sdk.MessageId.deserialize(Buffer.from(id.serialize()));
  }

  #check(op: string, call: CallOptions | undefined): void {
    if (call?.signal?.aborted === true) throw abortReason(call.signal);
    if (this.#close.started) throw WalError.closed(`${op} on the pulsar client`);
  }

  /** Awaits `pending`; on abort rejects with the reason and disposes of what `pending` still yields. */
  async #untilAbort<T>(
    pending: Promise<T>,
    call: CallOptions | undefined,
    dispose: (value: T) => Promise<unknown>,
  ): Promise<T> {
    try {
      return await raceAbort(pending, call?.signal);
    } catch (e) {
      if (call?.signal?.aborted === true) {
        pending.then((v) => dispose(v)).catch(() => {});
      }
      throw e;
    }
  }
}

/** A reader that waits at the tail in long polls of `waitMs`, so close never waits longer than that. */
class SdkPortReader implements PulsarPortReader {
  #closed = false;
  // A native readNext outlives an aborted call: the next call takes its message, so none is lost.
  #pending: Promise<SdkMessage> | undefined;

  constructor(
    private readonly native: SdkReader,
    private readonly topic: string,
    private readonly waitMs: number,
    private readonly onClose: () => void,
  ) {}

  async readNext(call?: CallOptions): Promise<PulsarPortMessage> {
    const signal = call?.signal;
    // Each turn waits up to waitMs in the SDK (a long poll); the loop ends on a message, close or abort.
    for (;;) {
      if (this.#closed) throw WalError.closed(`readNext on topic "${this.topic}"`);
      if (signal?.aborted === true) throw abortReason(signal);
      const pending = (this.#pending ??= this.native.readNext(this.waitMs));
      try {
        const message = await raceAbort(pending, signal);
        this.#pending = undefined;
        return messageFromSdk(message);
      } catch (e) {
        // Re-read: the signal may have fired while the read was pending.
        if (isAborted(signal)) throw abortReason(signal!);
        this.#pending = undefined;
        // Re-read: close() may have run while the read was pending.
        if (this.#isClosed()) throw WalError.closed(`readNext on topic "${this.topic}"`);
        if (isTimeout(e)) continue;
        throw toWalError(e, `reading topic "${this.topic}"`);
      }
    }
  }

  #isClosed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
    this.#pending?.catch(() => {});
    await this.native.close().catch(() => {});
  }
}

function idFromSdk(id: SdkMessageId): PulsarMessageId {
  try {
    return pulsarMessageIds.fromSerialized(new Uint8Array(id.serialize()));
  } catch (cause) {
    throw new WalError(WalErrorCode.CORRUPT, `the pulsar client returned an unreadable message id ${String(id)}`, {
      cause,
    });
  }
}

function messageFromSdk(message: SdkMessage): PulsarPortMessage {
  return {
    id: idFromSdk(message.getMessageId()),
    payload: new Uint8Array(message.getData()),
    properties: { ...message.getProperties() },
  };
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
