import fc from 'fast-check';

import { evenSpreadPolicy } from './balance-policy.js';
import type { BalanceView } from './balance-policy.js';

const view = (owners: (number | undefined)[], nodes: number[], draining: number[] = []): BalanceView => ({
  pchannels: owners.map((o, i) => ({
    name: `p${String(i).padStart(2, '0')}`,
    owner: o === undefined ? undefined : BigInt(o),
  })),
  nodes: nodes.map((n) => ({ serverId: BigInt(n), draining: draining.includes(n) })),
});

const counts = (result: ReadonlyMap<string, bigint>): Map<bigint, number> => {
  const c = new Map<bigint, number>();
  for (const id of result.values()) c.set(id, (c.get(id) ?? 0) + 1);
  return c;
};

describe('evenSpreadPolicy', () => {
  it('spreads unassigned pchannels evenly over the nodes', () => {
    const r = evenSpreadPolicy.balance(view(Array(8).fill(undefined), [1, 2, 3]));
    expect(r.size).toBe(8);
    expect([...counts(r).values()].sort()).toEqual([2, 3, 3]);
  });

  it('moves only the excess when a node joins', () => {
    const owners = [1, 1, 1, 1, 2, 2, 2, 2];
    const r = evenSpreadPolicy.balance(view(owners, [1, 2, 3]));
    const moved = owners.filter((o, i) => r.get(`p0${i}`) !== BigInt(o)).length;
    expect(moved).toBe(2);
    expect([...counts(r).values()].sort()).toEqual([2, 3, 3]);
  });

  it('moves everything off a draining node and nothing else', () => {
    const owners = [1, 1, 2, 2, 3, 3];
    const r = evenSpreadPolicy.balance(view(owners, [1, 2, 3], [3]));
    expect(counts(r).get(3n)).toBeUndefined();
    expect(r.get('p00')).toBe(1n);
    expect(r.get('p02')).toBe(2n);
  });

  it('assigns nothing when no node is usable', () => {
    expect(evenSpreadPolicy.balance(view([1, undefined], [1], [1])).size).toBe(0);
  });

  it('always yields a layout within one pchannel per node, with the fewest moves, deterministically', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }), { minLength: 0, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 3 }),
        (nodeCount, owners, draining) => {
          const nodes = Array.from({ length: nodeCount }, (_, i) => i + 1);
          const v = view(owners, nodes, draining);
          const r = evenSpreadPolicy.balance(v);
          const usable = nodes.filter((n) => !draining.includes(n));
          if (usable.length === 0) return r.size === 0;
          // Every pchannel placed on a usable node, spread within one.
          if (r.size !== owners.length) return false;
          const c = counts(r);
          const loads = usable.map((n) => c.get(BigInt(n)) ?? 0);
          if (Math.max(...loads) - Math.min(...loads) > 1) return false;
          // Fewest moves: a pchannel moves only if its owner is unusable or over its share.
          const floor = Math.floor(owners.length / usable.length);
          const ceilSlots = owners.length % usable.length;
          const current = new Map<number, number>();
          for (const o of owners) if (o !== undefined && usable.includes(o)) current.set(o, (current.get(o) ?? 0) + 1);
          const sorted = [...current.values()].sort((a, b) => b - a);
          let keepable = 0;
          sorted.forEach((load, i) => (keepable += Math.min(load, floor + (i < ceilSlots ? 1 : 0))));
          const kept = v.pchannels.filter((p) => p.owner !== undefined && r.get(p.name) === p.owner).length;
          if (kept !== keepable) return false;
          // Deterministic.
          const again = evenSpreadPolicy.balance(v);
          return [...r].every(([k, id]) => again.get(k) === id);
        },
      ),
    );
  });
});
