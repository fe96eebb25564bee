import { allMessageIdCodecs } from '@streamsvc/app-kit';
import { StreamingClient } from '@streamsvc/client';
import { noopLogger } from '@streamsvc/common';
import { DataType, MessageBuilder, MessageType, vchannelName } from '@streamsvc/message';
import type { AnyImmutableMessage } from '@streamsvc/message';
import { startKafka, tempDir } from '@streamsvc/testkit';
import type { KafkaService, TempDir } from '@streamsvc/testkit';

import { compose } from '../src/compose.js';
import type { StandaloneApp } from '../src/compose.js';
import { loadConfig } from '../src/config.js';

jest.setTimeout(90_000);

const decoder = new TextDecoder();

function start(dir: TempDir, extra: string[]): Promise<StandaloneApp> {
  const config = loadConfig(
    ['--data-dir', dir.path, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--pchannels', '2', ...extra],
    {},
  );
  return compose(config, { logger: noopLogger });
}

/** Reads `vchannel` from the start until `count` Data messages arrived. */
async function readData(client: StreamingClient, vchannel: string, count: number): Promise<string[]> {
  const got: AnyImmutableMessage[] = [];
  const sub = client.subscribe({ vchannel, from: 'earliest' });
  for await (const m of sub) {
    if (m.type === MessageType.Data) got.push(m);
    if (got.length >= count) break;
  }
  await sub.close();
  return got.map((m) => (m.type === MessageType.Data ? decoder.decode(m.payload) : ''));
}

describe('the standalone server on the broker backends', () => {
  let kafka: KafkaService;
  beforeAll(async () => {
    kafka = await startKafka();
  }, 60_000);
  afterAll(async () => {
    await kafka?.stop();
  });

  it('--wal kafka: appends, reads back in order, and keeps both data and collections across a restart', async () => {
    await using dir = await tempDir('standalone-kafka-');
    const flags = ['--wal', 'kafka', '--kafka-brokers', kafka.brokers.join(','), '--kafka-topic-prefix', 'sa-'];
    let app = await start(dir, flags);
    let client = await StreamingClient.connect({ endpoint: app.grpcAddress, idCodecs: allMessageIdCodecs() });
    const topology = await client.waitReady({ signal: AbortSignal.timeout(30_000) });
    const collectionId = await client.allocateTimestamp();
    const vchannels = topology.pchannels.map((p, i) => vchannelName(p, collectionId, i));
    await client.broadcast(
      MessageBuilder.createCollection()
        .header({ collectionId, partitionIds: [1n] })
        .body({
          collectionName: 'k',
          schema: { name: 'k', fields: [{ fieldId: 100n, name: 'id', dataType: DataType.Int64, isPrimaryKey: true }] },
        })
        .broadcast(vchannels)
        .build(),
    );
    const sent = vchannels.map(() => [] as string[]);
    for (let i = 0; i < 40; i++) {
      const v = i % vchannels.length;
      const payload = `m${i}`;
      const r = await client.append(MessageBuilder.data(Buffer.from(payload)).vchannel(vchannels[v]!).build());
      expect(r.id.walName).toBe('kafka');
      sent[v]!.push(payload);
    }
    for (const [v, vchannel] of vchannels.entries()) {
      expect(await readData(client, vchannel, sent[v]!.length)).toEqual(sent[v]);
    }
    await client.close();
    await app.close();

    // A restart replays the Kafka log: the collections exist, everything acknowledged is there.
    app = await start(dir, flags);
    client = await StreamingClient.connect({ endpoint: app.grpcAddress, idCodecs: allMessageIdCodecs() });
    await client.waitReady({ signal: AbortSignal.timeout(30_000) });
    await client.append(MessageBuilder.data(Buffer.from('after')).vchannel(vchannels[0]!).build());
    expect(await readData(client, vchannels[0]!, sent[0]!.length + 1)).toEqual([...sent[0]!, 'after']);
    await client.close();
    await app.close();
  });

  it('--wal pulsar without the optional pulsar-client package: startup fails with an error that says what to install', async () => {
    await using dir = await tempDir('standalone-pulsar-');
    const started = start(dir, ['--wal', 'pulsar', '--pulsar-url', 'pulsar://127.0.0.1:6650']);
    await expect(started).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(started).rejects.toThrow(/npm install pulsar-client/);
  });

  it('refuses --wal kafka without --kafka-brokers, naming the setting', () => {
    expect(() => loadConfig(['--wal', 'kafka'], {})).toThrow(
      /kafkaBrokers: required \(set --kafka-brokers or STREAMSVC_KAFKA_BROKERS\)/,
    );
  });
});
