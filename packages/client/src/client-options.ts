import { credentials as grpcCredentials } from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { noopLogger, systemClock } from '@streamsvc/common';
import type { Clock, Logger } from '@streamsvc/common';
import { counterMessageIdCodec, MessageIdCodecs, segmentEntryMessageIdCodec, StreamingError } from '@streamsvc/message';

import type { BackoffOptions } from './backoff.js';

/** Options of `StreamingClient.connect`. Only `endpoint` is required. */
export interface StreamingClientOptions {
  /**
   * `host:port` of a standalone server (which serves discovery too), or the coordinators of a cluster:
   * a list, or one string of comma-separated `host:port`s (`"10.0.0.1:19540,10.0.0.2:19540"`). The
   * client uses whichever one is active, moving on from a standby (`COORDINATOR_NOT_ACTIVE`) or an
   * unreachable one.
   */
  readonly endpoint: string | readonly string[];
  /** Where the client logs (silent by default). */
  readonly logger?: Logger;
  /** Time source for backoff pauses; default the system clock. */
  readonly clock?: Clock;
  /** Parsers of message ids by WAL name; default {@link defaultIdCodecs} (memory, woodpecker, kafka). */
  readonly idCodecs?: MessageIdCodecs;
  /** gRPC channel credentials; default insecure (plain-text HTTP/2). */
  readonly credentials?: ChannelCredentials;
  /** Extra grpc-js channel options (keepalive, proxies, ...), merged over the client's defaults. */
  readonly channelOptions?: ChannelOptions;
  /** Pause between reconnects of the discovery stream; default 50 ms → 1 s. */
  readonly discoveryBackoff?: BackoffOptions;
  /** Pause between attempts of appends, subscriptions and unary calls; default 100 ms → 2 s. */
  readonly retryBackoff?: BackoffOptions;
  /** Appends issued in the same tick to one pchannel share a produce request up to this size; default 1 MiB. */
  readonly maxBatchBytes?: number;
  /** ... and up to this many messages; default 256. */
  readonly maxBatchMessages?: number;
  /** How long a node may take to accept a producer or consumer stream; default 10 s. */
  readonly createTimeoutMs?: number;
  /** Deadline of one unary call attempt (broadcast, TSO); default 30 s. */
  readonly callTimeoutMs?: number;
  /** Largest response accepted (a consumed transaction travels as one); default 64 MiB. */
  readonly maxReceiveMessageBytes?: number;
  /**
   * How long a call that is given no `signal` may take before it gives up; default 120 s (Kafka's
   * `delivery.timeout.ms`). Without it, a retried call — append, appendMany, a txn and its operations,
   * broadcast, allocateTimestamp, waitReady — would wait forever while, say, no coordinator is
   * reachable. A call that passes a `signal` is bounded by that signal alone (to wait without a bound,
   * pass one that never aborts). Subscriptions are never bounded. A call that runs out of time rejects
   * as if aborted: OUTCOME_UNKNOWN for calls that write (the message may have been written), INNER for
   * waitReady and allocateTimestamp; the message names this option. An append (also a txn's) counts it
   * from its start but arms it only once it has to wait for an owner or a stream, or retry: one sent on
   * an open stream waits for that node's answer or the stream's failure, and costs no timer. At most
   * 2^31-1 (Node's timer limit).
   */
  readonly defaultTimeoutMs?: number;
}

/** The options with every default filled in. */
export interface ResolvedClientOptions {
  /** Every endpoint, trimmed, in the order given, without duplicates; never empty. */
  readonly endpoints: readonly string[];
  readonly logger: Logger;
  readonly clock: Clock;
  readonly idCodecs: MessageIdCodecs;
  readonly credentials: ChannelCredentials;
  readonly channelOptions: ChannelOptions;
  readonly discoveryBackoff: BackoffOptions;
  readonly retryBackoff: BackoffOptions;
  readonly maxBatchBytes: number;
  readonly maxBatchMessages: number;
  readonly createTimeoutMs: number;
  readonly callTimeoutMs: number;
  readonly defaultTimeoutMs: number;
}

/**
 * The message-id codecs of the backends streamsvc ships: `memory` and `kafka` (one offset, `v1:<n>`) and
 * `woodpecker` (segment and entry, `v1:<s>:<e>`).
 */
export function defaultIdCodecs(): MessageIdCodecs {
  return MessageIdCodecs.of([
    counterMessageIdCodec('memory'),
    segmentEntryMessageIdCodec('woodpecker'),
    counterMessageIdCodec('kafka'),
  ]);
}

/** Node's largest timer delay: setTimeout fires after 1 ms, with a warning, for anything longer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

/**
 * Checks the options and fills in defaults.
 * @throws StreamingError INVALID_ARGUMENT naming the bad option.
 */
export function resolveClientOptions(options: StreamingClientOptions): ResolvedClientOptions {
  const endpoints = parseEndpoints(options.endpoint);
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value <= 0) throw invalid(`${name} must be a positive integer, got ${value}`);
    return value;
  };
  const timer = (name: string, value: number | undefined, fallback: number): number => {
    const ms = positive(name, value, fallback);
    if (ms > MAX_TIMER_MS) throw invalid(`${name} must be at most ${MAX_TIMER_MS} ms, got ${value}`);
    return ms;
  };
  const backoff = (name: string, value: BackoffOptions | undefined, fallback: BackoffOptions): BackoffOptions => {
    if (value === undefined) return fallback;
    if (!(value.initialMs >= 0) || !(value.maxMs >= value.initialMs)) {
      throw invalid(`${name} needs 0 <= initialMs <= maxMs, got ${value.initialMs} and ${value.maxMs}`);
    }
    return value;
  };
  const maxReceive = positive('maxReceiveMessageBytes', options.maxReceiveMessageBytes, 64 * 1024 * 1024);
  return {
    endpoints,
    logger: options.logger ?? noopLogger,
    clock: options.clock ?? systemClock,
    idCodecs: options.idCodecs ?? defaultIdCodecs(),
    credentials: options.credentials ?? grpcCredentials.createInsecure(),
    channelOptions: {
      'grpc.max_receive_message_length': maxReceive,
      // grpc-js waits 1 s before the first reconnect of a lost connection; a restarted node is usually
      // back sooner, and every append to it waits for that reconnect.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
      ...options.channelOptions,
    },
    discoveryBackoff: backoff('discoveryBackoff', options.discoveryBackoff, { initialMs: 50, maxMs: 1_000 }),
    retryBackoff: backoff('retryBackoff', options.retryBackoff, { initialMs: 100, maxMs: 2_000 }),
    maxBatchBytes: positive('maxBatchBytes', options.maxBatchBytes, 1024 * 1024),
    maxBatchMessages: positive('maxBatchMessages', options.maxBatchMessages, 256),
    createTimeoutMs: positive('createTimeoutMs', options.createTimeoutMs, 10_000),
    callTimeoutMs: positive('callTimeoutMs', options.callTimeoutMs, 30_000),
    defaultTimeoutMs: timer('defaultTimeoutMs', options.defaultTimeoutMs, 120_000),
  };
}

/**
 * The endpoints of the `endpoint` option: a list, or a string split at commas; entries trimmed,
 * duplicates dropped (the first keeps its place).
 * @throws StreamingError INVALID_ARGUMENT for an empty list, or naming the first entry that is not host:port.
 */
export function parseEndpoints(endpoint: string | readonly string[]): readonly string[] {
  const entries: readonly unknown[] =
    typeof endpoint === 'string' ? endpoint.split(',') : Array.isArray(endpoint) ? endpoint : [endpoint];
  const endpoints: string[] = [];
  for (const entry of entries) {
    const trimmed = typeof entry === 'string' ? entry.trim() : entry;
    const m = typeof trimmed === 'string' ? ENDPOINT.exec(trimmed) : null;
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      const where = entries.length > 1 ? ` (in ${JSON.stringify(endpoint)})` : '';
      throw invalid(`endpoint ${JSON.stringify(trimmed)}${where} is not host:port`);
    }
    if (!endpoints.includes(m[0])) endpoints.push(m[0]);
  }
  if (endpoints.length === 0) throw invalid('endpoint needs at least one host:port');
  return endpoints;
}

function invalid(problem: string): StreamingError {
  return new StreamingError('INVALID_ARGUMENT', `StreamingClient options: ${problem}`);
}
