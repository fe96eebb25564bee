import { pulsarMessageIds } from '../../src/pulsar-message-id.js';
import type { PulsarMessageId } from '../../src/pulsar-message-id.js';
import type {
  PulsarSdk,
  SdkClient,
  SdkClientConfig,
  SdkConsumer,
  SdkConsumerConfig,
  SdkMessage,
  SdkMessageId,
  SdkProducer,
  SdkProducerConfig,
  SdkReader,
  SdkReaderConfig,
} from '../../src/pulsar-sdk.js';

/**
 * A fake of the `pulsar-client` module with the documented shape (index.d.ts of pulsar-client-node),
 * backed by one in-process "broker" shared by every client made from it. It behaves like the SDK where
 * the adapter depends on it: errors are plain `Error`s whose message names the native result
 * ("Failed to send message: ProducerFenced"); `ExclusiveWithFencing` fences the previous producer;
 * readers start *after* `startMessageId` (the Node SDK has no inclusive option); `readNext(timeout)`
 * rejects with `TimeOut`; `close()` makes a pending `readNext` reject with `AlreadyClosed`. It records
 * every call, for assertions.
 */
export class FakePulsarBroker {
  readonly topics = new Map<string, FakeTopic>();
  readonly calls: { method: string; config: unknown }[] = [];
  /** Native results to fail the next calls of a method with, e.g. `{ send: ['TimeOut'] }`. */
  readonly failures: Record<string, string[]> = {};
  #nextLedger = 1n;

  /** The module object, as `import('pulsar-client')` would return it. */
  readonly sdk: PulsarSdk;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the classes below close over the broker
    const broker = this;
    class Client implements SdkClient {
      #closed = false;
      constructor(readonly config: SdkClientConfig) {
        broker.calls.push({ method: 'Client', config });
      }
      async createProducer(config: SdkProducerConfig): Promise<SdkProducer> {
        broker.#record('createProducer', config, this.#closed);
        const topic = broker.topic(config.topic);
        if (config.accessMode === 'Exclusive' && topic.producer !== undefined)
          throw new Error('Failed to create producer: ProducerBusy');
        topic.producer?.fence();
        const producer = new FakeProducer(broker, topic, broker.#nextLedger++);
        topic.producer = producer;
        return producer;
      }
      async createReader(config: SdkReaderConfig): Promise<SdkReader> {
        broker.#record('createReader', config, this.#closed);
        return new FakeReader(
          broker.topic(config.topic),
          (config.startMessageId as FakeMessageId).position(broker.topic(config.topic)),
        );
      }
      async subscribe(config: SdkConsumerConfig): Promise<SdkConsumer> {
        broker.#record('subscribe', config, this.#closed);
        return new FakeConsumer(broker, broker.topic(config.topic));
      }
      async close(): Promise<null> {
        this.#closed = true;
        broker.calls.push({ method: 'Client.close', config: undefined });
        return null;
      }
    }
    this.sdk = {
      Client,
      MessageId: {
        earliest: () => new FakeMessageId('earliest'),
        latest: () => new FakeMessageId('latest'),
        deserialize: (data: Buffer) => new FakeMessageId(pulsarMessageIds.fromSerialized(new Uint8Array(data))),
      },
      AuthenticationToken: class {
        constructor(readonly params: { token: string }) {}
      },
    };
  }

  topic(name: string): FakeTopic {
    let topic = this.topics.get(name);
    if (topic === undefined) {
      topic = new FakeTopic();
      this.topics.set(name, topic);
    }
    return topic;
  }

  /** Throws the next injected failure of `method`, if any. */
  fail(method: string, what: string): void {
    const result = this.failures[method]?.shift();
    if (result !== undefined) throw new Error(`Failed to ${what}: ${result}`);
  }

  #record(method: string, config: unknown, closed: boolean): void {
    this.calls.push({ method, config });
    if (closed) throw new Error(`Failed to ${method}: AlreadyClosed`);
    this.fail(method, method);
  }
}

interface FakeEntry {
  readonly id: PulsarMessageId;
  readonly data: Buffer;
  readonly properties: Record<string, string>;
}

class FakeTopic {
  readonly entries: FakeEntry[] = [];
  producer: FakeProducer | undefined;
  acknowledgedUpTo: PulsarMessageId | undefined;
  readonly waiters = new Set<() => void>();

  publish(entry: FakeEntry): void {
    this.entries.push(entry);
    for (const wake of [...this.waiters]) wake();
    this.waiters.clear();
  }

  /** Index of the first entry after `after` (all entries when undefined). */
  indexAfter(after: PulsarMessageId | undefined): number {
    if (after === undefined) return 0;
    const i = this.entries.findIndex((e) => e.id.compare(after) > 0);
    return i < 0 ? this.entries.length : i;
  }
}

class FakeMessageId implements SdkMessageId {
  constructor(readonly value: PulsarMessageId | 'earliest' | 'latest') {}
  serialize(): Buffer {
    if (typeof this.value === 'string') throw new Error(`cannot serialize ${this.value} in this fake`);
    return Buffer.from(this.value.serialize());
  }
  toString(): string {
    return typeof this.value === 'string' ? this.value : `(${this.value.ledgerId},${this.value.entryId},-1,-1)`;
  }
  position(topic: FakeTopic): number {
    if (this.value === 'earliest') return 0;
    if (this.value === 'latest') return topic.entries.length;
    return topic.indexAfter(this.value);
  }
}

class FakeProducer implements SdkProducer {
  #fenced = false;
  #closed = false;
  #entry = 0n;

  constructor(
    private readonly broker: FakePulsarBroker,
    private readonly topic: FakeTopic,
    private readonly ledger: bigint,
  ) {}

  fence(): void {
    this.#fenced = true;
  }

  async send(message: { data: Buffer; properties?: Record<string, string> }): Promise<SdkMessageId> {
    this.broker.calls.push({ method: 'send', config: message });
    if (this.#closed) throw new Error('Failed to send message: AlreadyClosed');
    if (this.#fenced) throw new Error('Failed to send message: ProducerFenced');
    this.broker.fail('send', 'send message');
    const id = pulsarMessageIds.of(this.ledger, this.#entry++);
    this.topic.publish({ id, data: Buffer.from(message.data), properties: { ...message.properties } });
    return new FakeMessageId(id);
  }

  async close(): Promise<null> {
    this.#closed = true;
    if (this.topic.producer === this) this.topic.producer = undefined;
    return null;
  }
}

class FakeReader implements SdkReader {
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(
    private readonly topic: FakeTopic,
    private position: number,
  ) {}

  async readNext(timeoutMs?: number): Promise<SdkMessage> {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (;;) {
      if (this.#closed) throw new Error('Failed to read next message: AlreadyClosed');
      const entry = this.topic.entries[this.position];
      if (entry !== undefined) {
        this.position++;
        return message(entry);
      }
      if (deadline !== undefined && Date.now() >= deadline) throw new Error('Failed to read next message: TimeOut');
      await new Promise<void>((resolve) => {
        const timer = deadline === undefined ? undefined : setTimeout(wake, Math.max(0, deadline - Date.now()));
        function wake(): void {
          if (timer !== undefined) clearTimeout(timer);
          resolve();
        }
        this.#wake = wake;
        this.topic.waiters.add(wake);
      });
      if (this.#wake !== undefined) this.topic.waiters.delete(this.#wake);
    }
  }

  hasNext(): boolean {
    return this.position < this.topic.entries.length;
  }

  async close(): Promise<null> {
    this.#closed = true;
    this.#wake?.();
    return null;
  }
}

class FakeConsumer implements SdkConsumer {
  constructor(
    private readonly broker: FakePulsarBroker,
    private readonly topic: FakeTopic,
  ) {}

  async acknowledgeCumulativeId(messageId: SdkMessageId): Promise<null> {
    this.broker.calls.push({ method: 'acknowledgeCumulativeId', config: messageId });
    const id = (messageId as FakeMessageId).value;
    if (
      typeof id !== 'string' &&
      (this.topic.acknowledgedUpTo === undefined || id.compare(this.topic.acknowledgedUpTo) > 0)
    ) {
      this.topic.acknowledgedUpTo = id;
    }
    return null;
  }

  async close(): Promise<null> {
    return null;
  }
}

function message(entry: FakeEntry): SdkMessage {
  return {
    getMessageId: () => new FakeMessageId(entry.id),
    getData: () => Buffer.from(entry.data),
    getProperties: () => ({ ...entry.properties }),
  };
}
