import { counterMessageIdCodec, MessageType } from '@streamsvc/message';

import { deliverRequest, describeFrom } from './deliver.js';

const ids = counterMessageIdCodec('memory');

describe('deliverRequest', () => {
  it.each([
    ['earliest', { $case: 'all', all: {} }],
    ['latest', { $case: 'latest', latest: {} }],
  ] as const)('maps %s to its deliver policy without filters', (from, policy) => {
    expect(deliverRequest(from, undefined, undefined)).toEqual({ deliverPolicy: { policy }, deliverFilters: [] });
  });

  it('maps ids and time ticks', () => {
    expect(deliverRequest({ startAfter: ids.of(4n) }, undefined, undefined).deliverPolicy.policy).toEqual({
      $case: 'startAfter',
      startAfter: 'v1:4',
    });
    expect(deliverRequest({ startFrom: ids.of(4n) }, undefined, undefined).deliverPolicy.policy).toEqual({
      $case: 'startFrom',
      startFrom: 'v1:4',
    });
    expect(deliverRequest({ timeTickAfter: 99n }, undefined, [MessageType.Data])).toEqual({
      deliverPolicy: { policy: { $case: 'all', all: {} } },
      deliverFilters: [
        { filter: { $case: 'timeTickGt', timeTickGt: 99n } },
        { filter: { $case: 'messageTypes', messageTypes: { types: [MessageType.Data] } } },
      ],
    });
  });

  it('resumes from the last confirmed id with tt > last tt, replacing the time filter but keeping the type filter', () => {
    const resume = { lastConfirmed: ids.of(10n), timeTick: 500n };
    expect(deliverRequest({ timeTickAfter: 99n }, resume, [MessageType.Insert])).toEqual({
      deliverPolicy: { policy: { $case: 'startFrom', startFrom: 'v1:10' } },
      deliverFilters: [
        { filter: { $case: 'timeTickGt', timeTickGt: 500n } },
        { filter: { $case: 'messageTypes', messageTypes: { types: [MessageType.Insert] } } },
      ],
    });
    expect(describeFrom('latest', resume)).toBe('resume from v1:10 tt>500');
    expect(describeFrom({ timeTickAfter: 3n }, undefined)).toBe('tt>3');
  });
});
