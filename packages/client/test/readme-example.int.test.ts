import { MessageBuilder, MessageType } from '@streamsvc/message';

import { StreamingClient } from '../src/index.js';
import { FakeCluster } from './support/fake-cluster.js';

describe('the README example', () => {
  it('runs as written against a server', async () => {
    await using cluster = await FakeCluster.start();
    const v = cluster.vchannel(0, 449n);
    const seen: string[] = [];

    const msg = (text: string) => MessageBuilder.data(new TextEncoder().encode(text)).vchannel(v).build();
    await using client = await StreamingClient.connect({ endpoint: cluster.endpoint });
    await client.waitReady({ signal: AbortSignal.timeout(10_000) });
    const { id, timeTick } = await client.append(msg('hello')); // retried across failovers
    await client.appendMany(v, [msg('a'), msg('b')]); // atomic: one transaction
    for await (const m of client.subscribe({ vchannel: v, from: 'earliest' })) {
      seen.push(m.type === MessageType.Txn ? `txn of ${m.body.length}` : m.id.toString());
      if (seen.length === 2) break;
    }

    expect(id.toString()).toBe('v1:0');
    expect(timeTick).toBeGreaterThan(0n);
    expect(seen).toEqual(['v1:0', 'txn of 2']);
  });
});
