import { allMessageIdCodecs } from '@streamsvc/app-kit';
import { StreamingClient } from '@streamsvc/client';
import { noopLogger } from '@streamsvc/common';
import type { VChannelAppender } from '@streamsvc/coordinator';
import { DataType, MessageBuilder, MessageType, vchannelName } from '@streamsvc/message';
import type { AnyImmutableMessage } from '@streamsvc/message';
import { tempDir } from '@streamsvc/testkit';

import { compose } from '../src/compose.js';
import { loadConfig } from '../src/config.js';

jest.setTimeout(30_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The broadcast appends of the first `slowAppends` copies land at once but answer only after `delayMs`. */
function slowFirstAppends(slowAppends: number, delayMs: number): (append: VChannelAppender) => VChannelAppender {
  let left = slowAppends;
  return (append) => async (message, options) => {
    const result = await append(message, options);
    if (left-- > 0) await sleep(delayMs);
    return result;
  };
}

describe('broadcast through the standalone server', () => {
  it('a CreateCollection whose first attempt outlives the client deadline succeeds once, not with "collection already exists"', async () => {
    await using dir = await tempDir('standalone-broadcast-retry-');
    const config = loadConfig(
      [
        '--data-dir',
        dir.path,
        '--wal',
        'memory',
        '--listen',
        '127.0.0.1:0',
        '--http',
        '127.0.0.1:0',
        '--pchannels',
        '2',
      ],
      {},
    );
    await using app = await compose(config, { logger: noopLogger, wrapBroadcastAppend: slowFirstAppends(2, 1_500) });
    await using client = await StreamingClient.connect({
      endpoint: app.grpcAddress,
      idCodecs: allMessageIdCodecs(),
      callTimeoutMs: 500,
      retryBackoff: { initialMs: 50, maxMs: 200 },
    });
    const topology = await client.waitReady({ signal: AbortSignal.timeout(10_000) });
    const collectionId = await client.allocateTimestamp();
    const vchannels = topology.pchannels.map((p, i) => vchannelName(p, collectionId, i));

    const result = await client.broadcast(
      MessageBuilder.createCollection()
        .header({ collectionId, partitionIds: [1n] })
        .body({
          collectionName: 'slow',
          schema: {
            name: 'slow',
            fields: [{ fieldId: 100n, name: 'id', dataType: DataType.Int64, isPrimaryKey: true }],
          },
        })
        .broadcast(vchannels)
        .build(),
      { signal: AbortSignal.timeout(10_000) },
    );

    expect([...result.results.keys()].sort()).toEqual([...vchannels].sort());
    for (const vchannel of vchannels) {
      const seen: AnyImmutableMessage[] = [];
      const sub = client.subscribe({ vchannel, from: 'earliest' });
      for await (const m of sub) {
        seen.push(m);
        if (m.type === MessageType.CreateCollection) break;
      }
      await sub.close();
      const created = seen.filter((m) => m.type === MessageType.CreateCollection);
      expect(created.map((m) => m.broadcastHeader?.broadcastId)).toEqual([result.broadcastId]);
    }
  });
});
