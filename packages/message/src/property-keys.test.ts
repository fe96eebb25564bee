import { expectMessageError } from '../test/support/fixtures.js';
import { checkUserProperties, isReservedPropertyKey, MESSAGE_VERSION, PropertyKey } from './property-keys.js';

describe('property keys', () => {
  it('uses the Milvus system keys, all starting with "_"', () => {
    expect(Object.values(PropertyKey).sort()).toEqual([
      '_bh',
      '_btt',
      '_h',
      '_lc',
      '_lcs',
      '_np',
      '_t',
      '_tt',
      '_tx',
      '_v',
      '_vc',
      '_wt',
    ]);
    for (const key of Object.values(PropertyKey)) expect(isReservedPropertyKey(key)).toBe(true);
    expect(MESSAGE_VERSION).toBe(1);
  });

  it('accepts user properties as an object or a map, keeping their order', () => {
    expect(checkUserProperties({ b: '1', a: '2' })).toEqual([
      ['b', '1'],
      ['a', '2'],
    ]);
    expect(checkUserProperties(new Map([['k', 'v']]))).toEqual([['k', 'v']]);
    expect(isReservedPropertyKey('user_key')).toBe(false);
  });

  it('rejects user keys starting with "_" with RESERVED_PROPERTY naming the key', () => {
    expect(expectMessageError(() => checkUserProperties({ _tt: '1' }), 'RESERVED_PROPERTY')).toContain('"_tt"');
    expectMessageError(() => checkUserProperties(new Map([['_mine', 'x']])), 'RESERVED_PROPERTY');
  });

  it('rejects empty keys and non-string values with INVALID_MESSAGE', () => {
    expectMessageError(() => checkUserProperties({ '': 'x' }), 'INVALID_MESSAGE');
    expect(expectMessageError(() => checkUserProperties({ n: 1 as unknown as string }), 'INVALID_MESSAGE')).toContain(
      '"n"',
    );
  });
});
