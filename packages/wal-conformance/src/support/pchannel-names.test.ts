import { isPChannelName, parsePChannel } from '@streamsvc/message';
import { uniquePChannels } from './pchannel-names.js';

describe('uniquePChannels', () => {
  it('returns valid pchannel names of one cluster with indexes 0..n-1', () => {
    const names = uniquePChannels(3);
    expect(names.every(isPChannelName)).toBe(true);
    expect(names.map((n) => parsePChannel(n).index)).toEqual([0, 1, 2]);
    expect(new Set(names.map((n) => parsePChannel(n).cluster)).size).toBe(1);
    expect(parsePChannel(names[0]!).cluster).toMatch(/^conf[0-9a-f]{10}$/);
  });

  it('never returns the same names twice', () => {
    const all = Array.from({ length: 200 }, () => uniquePChannels(3)).flat();
    expect(new Set(all).size).toBe(all.length);
  });
});
