import { deferred } from '@streamsvc/common';

import { beforeProduce, latestLookup, topicKey } from './latest-barrier.js';

describe('the latest barrier', () => {
  it('holds a produce of a topic while a latest lookup of that topic is in flight, and no other topic', async () => {
    const key = topicKey(['b:1', 'a:1'], 't');
    const answer = deferred<number>();
    const lookup = latestLookup(key, () => answer.promise);
    let produced = false;
    const produce = beforeProduce(key).then(() => (produced = true));
    await beforeProduce(topicKey(['a:1', 'b:1'], 'other'));
    await new Promise((r) => setImmediate(r));
    expect(produced).toBe(false);
    answer.resolve(7);
    expect(await lookup).toBe(7);
    await produce;
    expect(produced).toBe(true);
  });

  it('lets produces through when the lookup fails, and forgets finished lookups', async () => {
    const key = topicKey(['a:1'], 't');
    const failed = latestLookup(key, () => Promise.reject(new Error('broker down')));
    await expect(failed).rejects.toThrow('broker down');
    await beforeProduce(key);
  });

  it('keys a topic by its cluster: the same brokers in any order are one cluster', () => {
    expect(topicKey(['b:1', 'a:1'], 't')).toBe(topicKey(['a:1', 'b:1'], 't'));
    expect(topicKey(['a:1'], 't')).not.toBe(topicKey(['c:1'], 't'));
  });
});
