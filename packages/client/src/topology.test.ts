import type { FullAssignment } from '@streamsvc/proto';

import { compareVersions, describeTopology, EMPTY_TOPOLOGY, isTopologyReady, snapshotFromWire } from './topology.js';

const full = (over: Partial<FullAssignment> = {}): FullAssignment => ({
  version: { global: 1n, local: 4n },
  assignments: [
    { node: { serverId: 7n, address: 'a:1' }, pchannels: [{ name: 'c-dml_0', term: 3n }] },
    { node: { serverId: 8n, address: 'b:1' }, pchannels: [{ name: 'c-dml_1', term: 1n }] },
  ],
  pchannels: ['c-dml_1', 'c-dml_0', 'c-dml_2'],
  ...over,
});

describe('topology snapshots', () => {
  it('map every assigned pchannel to its node and term, and list every pchannel sorted', () => {
    const t = snapshotFromWire(full());
    expect(t.version).toEqual({ global: 1n, local: 4n });
    expect(t.pchannels).toEqual(['c-dml_0', 'c-dml_1', 'c-dml_2']);
    expect(t.assignments.get('c-dml_0')).toEqual({
      pchannel: 'c-dml_0',
      term: 3n,
      node: { serverId: 7n, address: 'a:1' },
    });
    expect(t.assignments.has('c-dml_2')).toBe(false);
    expect(describeTopology(t)).toBe('v1.4 c-dml_0→a:1@t3, c-dml_1→b:1@t1, c-dml_2→(unassigned)');
  });

  it('are ready only when every pchannel is assigned', () => {
    expect(isTopologyReady(EMPTY_TOPOLOGY)).toBe(false);
    expect(isTopologyReady(snapshotFromWire(full()))).toBe(false);
    expect(isTopologyReady(snapshotFromWire(full({ pchannels: ['c-dml_0', 'c-dml_1'] })))).toBe(true);
    expect(isTopologyReady(snapshotFromWire(full({ pchannels: [], assignments: [] })))).toBe(true);
  });

  it('keep the higher term when two nodes claim one pchannel, and add assigned pchannels missing from the list', () => {
    const t = snapshotFromWire(
      full({
        assignments: [
          { node: { serverId: 1n, address: 'old:1' }, pchannels: [{ name: 'c-dml_0', term: 2n }] },
          { node: { serverId: 2n, address: 'new:1' }, pchannels: [{ name: 'c-dml_0', term: 3n }] },
          { node: undefined, pchannels: [{ name: 'c-dml_5', term: 1n }] },
        ],
        pchannels: [],
      }),
    );
    expect(t.assignments.get('c-dml_0')?.node.address).toBe('new:1');
    expect(t.pchannels).toEqual(['c-dml_0']);
  });

  it('order versions by global, then local', () => {
    expect(compareVersions({ global: 1n, local: 9n }, { global: 2n, local: 0n })).toBe(-1);
    expect(compareVersions({ global: 2n, local: 1n }, { global: 2n, local: 0n })).toBe(1);
    expect(compareVersions({ global: 2n, local: 1n }, { global: 2n, local: 1n })).toBe(0);
    expect(compareVersions(snapshotFromWire(full({ version: undefined })).version, EMPTY_TOPOLOGY.version)).toBe(1);
  });
});
