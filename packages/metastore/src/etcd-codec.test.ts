import { KeySpace, fromWireKv, toWireCompare, toWireOp, wireKeyAfter } from './etcd-codec.js';

describe('etcd codec', () => {
  it('prefixes keys with the namespace and strips it from keys read back', () => {
    const space = new KeySpace('ns/');
    expect(space.key('a').toString()).toBe('ns/a');
    expect(space.unkey(Buffer.from('ns/a/b'))).toBe('a/b');
    expect(wireKeyAfter(space, 'a').toString()).toBe('ns/a\0');
  });

  it('maps a prefix to the byte range etcd expects, including "every key"', () => {
    const range = new KeySpace('ns/').prefixRange('p/');
    expect([range.key.toString(), range.range_end.toString()]).toEqual(['ns/p/', 'ns/p0']);
    const all = new KeySpace('').prefixRange('');
    expect([[...all.key], [...all.range_end]]).toEqual([[0], [0]]);
    const inNamespace = new KeySpace('ns/').prefixRange('');
    expect([inNamespace.key.toString(), inNamespace.range_end.toString()]).toEqual(['ns/', 'ns0']);
    const from = new KeySpace('ns/').prefixRange('p/', Buffer.from('ns/p/m'));
    expect(from.key.toString()).toBe('ns/p/m');
  });

  it('maps compares and ops to etcd messages', () => {
    const space = new KeySpace('');
    expect(toWireCompare(space, { key: 'k', target: 'modRevision', op: '<', value: 7n })).toEqual({
      key: Buffer.from('k'),
      result: 'Less',
      target: 'Mod',
      mod_revision: '7',
    });
    expect(toWireOp(space, { type: 'put', key: 'k', value: 'v', lease: '9' })).toEqual({
      request_put: { key: Buffer.from('k'), value: Buffer.from('v'), lease: '9' },
    });
    expect(toWireOp(space, { type: 'deletePrefix', prefix: 'a' })).toEqual({
      request_delete_range: { key: Buffer.from('a'), range_end: Buffer.from('b') },
    });
  });

  it('reads etcd key-values with bigint revisions and no lease for lease 0', () => {
    const kv = fromWireKv(new KeySpace('ns/'), {
      key: Buffer.from('ns/k'),
      value: Buffer.from('v'),
      create_revision: '9007199254740993',
      mod_revision: '9007199254740995',
      version: '3',
      lease: '0',
    });
    expect(kv).toEqual({
      key: 'k',
      value: new Uint8Array(Buffer.from('v')),
      createRevision: 9007199254740993n,
      modRevision: 9007199254740995n,
      version: 3n,
      lease: undefined,
    });
  });
});
