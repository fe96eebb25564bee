import { noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder, vchannelName } from '@streamsvc/message';
import { startKafka } from '@streamsvc/testkit';
import type { KafkaService } from '@streamsvc/testkit';
import { tsAtMs } from '@streamsvc/tso';
import { Wal } from '@streamsvc/wal-core';
import type { BackendWal, WalOpener } from '@streamsvc/wal-core';
import { createKafkajsPort, createKafkaWal } from '@streamsvc/wal-kafka';
import type { KafkaPort, KafkaWalConfig } from '@streamsvc/wal-kafka';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { Producer } from 'kafkajs';

import type { Scenario } from '../scenario.js';
import { benchCollection, wallClockTso } from './bench-support.js';

const PAYLOAD = new Uint8Array(1024).map((_, i) => (i * 7919) & 0xff);
const RAW_VALUE = Buffer.from(PAYLOAD);
const IN_FLIGHT = 64;
// The settings the wal-kafka integration tests use against the mock (test/support/kafka-fixture.ts).
const MOCK_SETTINGS = { fetchMaxWaitMs: 50, retries: 2, retryInitialMs: 50 } as const;

/** Records and produce requests per topic: raw producers' (`countSends`) and the backend's (`countingPort`). */
const sent = new Map<string, { requests: number; records: number }>();

function countSent(topic: string, records: number): void {
  const s = sent.get(topic) ?? { requests: 0, records: 0 };
  s.requests++;
  s.records += records;
  sent.set(topic, s);
}

/** The backend's kafkajs adapter, counting what its writers send (one `send` is one produce request). */
function countingPort(port: KafkaPort): KafkaPort {
  return {
    ensureTopic: (topic) => port.ensureTopic(topic),
    offsets: (topic) => port.offsets(topic),
    openFetcher: (topic, options) => port.openFetcher(topic, options),
    close: () => port.close(),
    openWriter: async (topic, options) => {
      const writer = await port.openWriter(topic, options);
      return {
        send: (values) => {
          countSent(topic, values.length);
          return writer.send(values);
        },
        close: () => writer.close(),
      };
    },
  };
}

/** Wraps `send` of every kafkajs producer made from here on to count records per produce request, per topic. */
function countSends(): () => void {
  const original = Kafka.prototype.producer;
  Kafka.prototype.producer = function (this: Kafka, ...args: Parameters<Kafka['producer']>): Producer {
    const producer = original.apply(this, args);
    const send = producer.send.bind(producer);
    producer.send = (record) => {
      countSent(record.topic, record.messages.length);
      return send(record);
    };
    return producer;
  };
  return () => {
    Kafka.prototype.producer = original;
  };
}

function recordsPerRequest<T>(topic: string, body: () => Promise<T>): Promise<[T, number]> {
  const before = { ...(sent.get(topic) ?? { requests: 0, records: 0 }) };
  return body().then((r) => {
    const after = sent.get(topic) ?? { requests: 0, records: 0 };
    return [r, (after.records - before.records) / (after.requests - before.requests)];
  });
}

interface Context {
  readonly kafka: KafkaService;
  readonly config: KafkaWalConfig;
  readonly opener: WalOpener;
  readonly wal: Wal;
  readonly vchannel: string;
  /** A backend handle of a pchannel of its own, appended to without wal-core (informational). */
  readonly backend: BackendWal;
  readonly client: Kafka;
  readonly producer: Producer;
  readonly rawTopic: string;
  readonly walTopic: string;
  readonly restore: () => void;
}

/** Keeps `inFlight` operations running for `durationMs`; returns completed operations per second. */
async function closedLoop(
  durationMs: number,
  inFlight: number,
  op: () => Promise<unknown>,
): Promise<{ rate: number; count: number; latencies: number[] }> {
  let count = 0;
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await op();
        latencies.push(performance.now() - t0);
        count++;
      }
    }),
  );
  return { rate: count / ((performance.now() - start) / 1000), count, latencies };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * The raw-producer baseline's group commit, the same algorithm as wal-kafka's AppendBatcher with
 * lingerMs 0: records queue, one `producer.send` at a time carries up to `maxBatchRecords` /
 * `maxBatchBytes` of them to partition 0 (acks=all), and what queued during a request goes right after.
 */
class RawGroupCommit {
  #queue: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #inFlight = false;
  #scheduled = false;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly maxBatchRecords: number,
    private readonly maxBatchBytes: number,
  ) {}

  send(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ resolve, reject });
      if (this.#scheduled || this.#inFlight) return;
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        if (!this.#inFlight) this.#flush();
      });
    });
  }

  #flush(): void {
    const limit = Math.max(1, Math.min(this.maxBatchRecords, Math.floor(this.maxBatchBytes / RAW_VALUE.byteLength)));
    const batch = this.#queue.splice(0, limit);
    if (batch.length === 0) return;
    this.#inFlight = true;
    void this.producer
      .send({
        topic: this.topic,
        acks: -1,
        messages: batch.map(() => ({ partition: 0, value: RAW_VALUE })),
      })
      .then(
        () => batch.forEach((p) => p.resolve()),
        (e: unknown) => batch.forEach((p) => p.reject(e)),
      )
      .finally(() => {
        this.#inFlight = false;
        if (this.#queue.length > 0) this.#flush();
      });
  }
}

/**
 * WAL append throughput over the Kafka backend against the librdkafka mock broker (testkit, its own
 * process on 127.0.0.1), 1 KiB Data messages, 64 appends in flight (closed loop), in process.
 * Baseline, same run: a raw kafkajs producer with the settings of the backend's produce path
 * (idempotent false, maxInFlightRequests 1, same retry, acks -1, no compression; the backend encodes
 * its Produce requests itself and sends them through kafkajs's connections) on a topic of its own, 64
 * records in flight through the same group commit as the backend's (one send in flight, up to
 * maxBatchRecords per send). Informational: the backend handle alone (no wal-core) with the same
 * load, and the raw producer with full maxBatchRecords batches back to back.
 */
export const kafkaScenario: Scenario<Context> = {
  description: 'WAL append throughput on the Kafka backend vs a raw kafkajs producer with the same batching',
  async setup() {
    const kafka = await startKafka();
    const restore = countSends();
    try {
      const backend = createKafkaWal(async (c, logger) => countingPort(await createKafkajsPort(c, logger)));
      const config = backend.configSchema.parse({ brokers: [...kafka.brokers], ...MOCK_SETTINGS });
      const opener = await backend.createOpener(config, { logger: noopLogger, clock: systemClock });
      const pchannel = 'bench-kafka-dml_0';
      const vchannel = vchannelName(pchannel, 1n, 0);
      const wal = await Wal.open({
        opener,
        pchannel,
        term: 1n,
        tso: wallClockTso(),
        config: { timeTickIntervalMs: 200 },
      });
      await wal.append(benchCollection('bench', 1n).vchannel(vchannel).build());
      const handle = await opener.open({ pchannel: 'bench-kafka-backend_0', term: 1n, mode: 'rw' });
      // The settings of the backend's produce path (packages/wal-kafka/src/kafkajs-port.ts).
      const retry = { retries: config.retries, initialRetryTime: config.retryInitialMs, maxRetryTime: 5_000 };
      const client = new Kafka({
        brokers: [...config.brokers],
        clientId: 'bench-raw',
        connectionTimeout: config.connectionTimeoutMs,
        requestTimeout: config.requestTimeoutMs,
        enforceRequestTimeout: true,
        retry,
        logLevel: logLevel.NOTHING,
      });
      const producer = client.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: config.allowAutoTopicCreation,
        retry,
        idempotent: false,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      const rawTopic = 'bench-kafka-raw';
      // First send creates the topic (auto-create) and warms the connection, as the WAL's open did.
      await producer.send({ topic: rawTopic, acks: -1, messages: [{ partition: 0, value: RAW_VALUE }] });
      return {
        kafka,
        config,
        opener,
        wal,
        vchannel,
        backend: handle,
        client,
        producer,
        rawTopic,
        walTopic: pchannel,
        restore,
      };
    } catch (e) {
      restore();
      await kafka.stop();
      throw e;
    }
  },
  async repeat(ctx, { durationMs }) {
    const group = new RawGroupCommit(ctx.producer, ctx.rawTopic, ctx.config.maxBatchRecords, ctx.config.maxBatchBytes);
    let cpu = process.cpuUsage();
    const [rawRun, rawPerRequest] = await recordsPerRequest(ctx.rawTopic, () =>
      closedLoop(durationMs, IN_FLIGHT, () => group.send()),
    );
    const rawCpu = process.cpuUsage(cpu);

    cpu = process.cpuUsage();
    const [walRun, walPerRequest] = await recordsPerRequest(ctx.walTopic, () =>
      closedLoop(durationMs, IN_FLIGHT, () =>
        ctx.wal.append(MessageBuilder.data(PAYLOAD).vchannel(ctx.vchannel).build()),
      ),
    );
    const walCpu = process.cpuUsage(cpu);
    const sorted = walRun.latencies.sort((a, b) => a - b);

    // Informational: the backend alone (no wal-core), appending messages stamped here, to split the cost.
    let tt = tsAtMs(Date.now());
    cpu = process.cpuUsage();
    const backendRun = await closedLoop(durationMs, IN_FLIGHT, () =>
      ctx.backend.append(
        MessageBuilder.data(PAYLOAD).vchannel(ctx.vchannel).build().withTimeTick(tt++).withLastConfirmedSelf(),
      ),
    );
    const backendCpu = process.cpuUsage(cpu);

    // Informational: the producer's ceiling with full batches (maxBatchRecords per send, one in flight).
    const full = Math.max(
      1,
      Math.min(ctx.config.maxBatchRecords, Math.floor(ctx.config.maxBatchBytes / RAW_VALUE.byteLength)),
    );
    const messages = Array.from({ length: full }, () => ({ partition: 0, value: RAW_VALUE }));
    const fullRun = await closedLoop(durationMs, 1, () =>
      ctx.producer.send({ topic: ctx.rawTopic, acks: -1, messages }),
    );

    return {
      metrics: {
        walAppendsPerSec: walRun.rate,
        walAppendP50Ms: percentile(sorted, 50),
        walAppendP99Ms: percentile(sorted, 99),
        walCpuUsPerAppend: (walCpu.user + walCpu.system) / walRun.count,
        walRecordsPerRequest: walPerRequest,
        backendAppendsPerSec: backendRun.rate,
        backendCpuUsPerAppend: (backendCpu.user + backendCpu.system) / backendRun.count,
        rawCpuUsPerRecord: (rawCpu.user + rawCpu.system) / rawRun.count,
        rawRecordsPerRequest: rawPerRequest,
        rawFullBatchRecordsPerSec: fullRun.rate * full,
      },
      baseline: { rawProducerRecordsPerSec: rawRun.rate },
      ratio: { walVsRawProducer: walRun.rate / rawRun.rate },
    };
  },
  async teardown(ctx) {
    await Promise.allSettled([ctx.wal.close(), ctx.backend.close(), ctx.producer.disconnect()]);
    await ctx.opener.close();
    ctx.restore();
    await ctx.kafka.stop();
  },
  goals(_metrics, ratio) {
    const r = ratio['walVsRawProducer']?.median ?? NaN;
    return {
      'WAL appends/s vs raw kafkajs producer (issue 8)': { target: '≥ 0.9×', pass: r >= 0.9 },
    };
  },
};
