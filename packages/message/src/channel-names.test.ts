import fc from 'fast-check';
import { expectMessageError } from '../test/support/fixtures.js';
import {
  isPChannelName,
  isVChannelName,
  parsePChannel,
  parseVChannel,
  pchannelName,
  toPChannel,
  vchannelName,
} from './channel-names.js';

const cluster = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.-]{0,20}$/);
const index = fc.integer({ min: 0, max: 999_999_999 });
const collectionId = fc.bigInt({ min: 0n, max: (1n << 63n) - 1n });

describe('pchannel names', () => {
  it('are "<cluster>-dml_<index>"', () => {
    expect(pchannelName('by-dev', 0)).toBe('by-dev-dml_0');
    expect(parsePChannel('by-dev-dml_15')).toEqual({ cluster: 'by-dev', index: 15 });
  });

  it('parse back to the parts they were built from', () => {
    fc.assert(
      fc.property(cluster, index, (c, i) => {
        const name = pchannelName(c, i);
        expect(parsePChannel(name)).toEqual({ cluster: c, index: i });
        expect(isPChannelName(name)).toBe(true);
      }),
    );
  });

  it('allow a cluster that itself ends in "-dml"', () => {
    expect(parsePChannel(pchannelName('a-dml', 2))).toEqual({ cluster: 'a-dml', index: 2 });
  });

  it('reject bad clusters and indexes with INVALID_CHANNEL_NAME naming the input', () => {
    expect(expectMessageError(() => pchannelName('by_dev', 0), 'INVALID_CHANNEL_NAME')).toContain('"by_dev"');
    expectMessageError(() => pchannelName('', 0), 'INVALID_CHANNEL_NAME');
    expectMessageError(() => pchannelName('-x', 0), 'INVALID_CHANNEL_NAME');
    expectMessageError(() => pchannelName('by-dev', -1), 'INVALID_CHANNEL_NAME');
    expectMessageError(() => pchannelName('by-dev', 1.5), 'INVALID_CHANNEL_NAME');
    expectMessageError(() => pchannelName('by-dev', 1_000_000_000), 'INVALID_CHANNEL_NAME');
  });

  it('reject names that are not pchannels with INVALID_CHANNEL_NAME naming the input', () => {
    for (const bad of [
      '',
      'by-dev',
      'by-dev-dml_',
      'by-dev-dml_01',
      'by-dev-dml_-1',
      'by-dev_dml_0',
      'by-dev-dml_0_449v0',
      'dml_0',
    ]) {
      expect(expectMessageError(() => parsePChannel(bad), 'INVALID_CHANNEL_NAME')).toContain(JSON.stringify(bad));
      expect(isPChannelName(bad)).toBe(false);
    }
  });
});

describe('vchannel names', () => {
  it('are "<pchannel>_<collectionId>v<shard>"', () => {
    expect(vchannelName('by-dev-dml_0', 449n, 0)).toBe('by-dev-dml_0_449v0');
    expect(parseVChannel('by-dev-dml_3_449v1')).toEqual({ pchannel: 'by-dev-dml_3', collectionId: 449n, shard: 1 });
    expect(toPChannel('by-dev-dml_3_449v1')).toBe('by-dev-dml_3');
  });

  it('parse back to the parts they were built from', () => {
    fc.assert(
      fc.property(cluster, index, collectionId, index, (c, i, id, shard) => {
        const pchannel = pchannelName(c, i);
        const name = vchannelName(pchannel, id, shard);
        expect(parseVChannel(name)).toEqual({ pchannel, collectionId: id, shard });
        expect(toPChannel(name)).toBe(pchannel);
        expect(isVChannelName(name)).toBe(true);
        expect(isPChannelName(name)).toBe(false);
      }),
    );
  });

  it('keep collection ids above 2^53 exact', () => {
    const id = (1n << 62n) + 1n;
    expect(parseVChannel(vchannelName('c-dml_0', id, 0)).collectionId).toBe(id);
  });

  it('reject bad parts with INVALID_CHANNEL_NAME', () => {
    expectMessageError(() => vchannelName('not a pchannel', 1n, 0), 'INVALID_CHANNEL_NAME');
    expectMessageError(() => vchannelName('c-dml_0', -1n, 0), 'INVALID_CHANNEL_NAME');
    expectMessageError(() => vchannelName('c-dml_0', 1n << 63n, 0), 'INVALID_CHANNEL_NAME');
    expectMessageError(() => vchannelName('c-dml_0', 1 as unknown as bigint, 0), 'INVALID_CHANNEL_NAME');
    expectMessageError(() => vchannelName('c-dml_0', 1n, -1), 'INVALID_CHANNEL_NAME');
  });

  it('reject names that are not vchannels with INVALID_CHANNEL_NAME naming the input', () => {
    for (const bad of [
      '',
      'v1',
      'by-dev-dml_0',
      'by-dev-dml_0_449',
      'by-dev-dml_0_449v',
      'by-dev-dml_0_v0',
      'by-dev-dml_0_0449v0',
      'by-dev-dml_0_449v01',
      'by-dev-dml_0_9223372036854775808v0',
      'by-dev_0_449v0',
      'by-dev-dml_0_vcchan',
    ]) {
      expect(expectMessageError(() => parseVChannel(bad), 'INVALID_CHANNEL_NAME')).toContain(JSON.stringify(bad));
      expectMessageError(() => toPChannel(bad), 'INVALID_CHANNEL_NAME');
      expect(isVChannelName(bad)).toBe(false);
    }
  });
});
