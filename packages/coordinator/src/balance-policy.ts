/** What a balance policy sees: every pchannel with its healthy owner, and the nodes it may use. */
export interface BalanceView {
  /** Every pchannel; `owner` is its serverId when it is open (or opening) on a live node, else undefined. */
  readonly pchannels: readonly { readonly name: string; readonly owner: bigint | undefined }[];
  /** Live nodes; a draining node keeps nothing and takes nothing. */
  readonly nodes: readonly { readonly serverId: bigint; readonly draining: boolean }[];
}

/**
 * Decides where each pchannel should live. The balancer calls it after every change (node joined, left
 * or started draining, a pchannel became unavailable, a periodic check) and moves whatever differs.
 * It must be a pure function of the view: the balancer may call it again at any time.
 */
export interface BalancePolicy {
  readonly name: string;
  /** The wanted owner of each pchannel; a pchannel left out (or with no usable node) stays unassigned. */
  balance(view: BalanceView): ReadonlyMap<string, bigint>;
}

/**
 * The default policy: every usable node gets ⌊n/k⌋ or ⌈n/k⌉ of the n pchannels, with as few moves as
 * possible — a pchannel stays where it is unless its node is gone, draining, or holds more than its
 * share; unowned pchannels go to the least loaded nodes (ties broken by serverId, so the result is
 * deterministic). A manual move that keeps the spread within one pchannel per node is kept.
 */
export const evenSpreadPolicy: BalancePolicy = {
  name: 'even-spread',
  balance(view: BalanceView): ReadonlyMap<string, bigint> {
    const usable = view.nodes.filter((n) => !n.draining).map((n) => n.serverId);
    usable.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const result = new Map<string, bigint>();
    if (usable.length === 0) return result;
    const n = view.pchannels.length;
    const k = usable.length;
    const floor = Math.floor(n / k);
    const ceilSlots = n % k; // how many nodes may hold floor + 1
    const load = new Map<bigint, string[]>(usable.map((id) => [id, []]));
    for (const p of view.pchannels) {
      if (p.owner !== undefined) load.get(p.owner)?.push(p.name);
    }
    // Nodes keep what they have up to their share: the most loaded nodes get the ⌈n/k⌉ slots, so the
    // fewest pchannels move.
    const byLoad = [...load.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
    const capacity = new Map<bigint, number>();
    byLoad.forEach(([id], i) => capacity.set(id, floor + (i < ceilSlots ? 1 : 0)));
    const homeless: string[] = [];
    for (const [id, names] of load) {
      const cap = capacity.get(id)!;
      const sorted = [...names].sort();
      sorted.slice(0, cap).forEach((name) => result.set(name, id));
      homeless.push(...sorted.slice(cap));
    }
    for (const p of view.pchannels) {
      if (p.owner === undefined || !load.has(p.owner)) homeless.push(p.name);
    }
    homeless.sort();
    for (const name of homeless) {
      let best: bigint | undefined;
      let bestFree = 0;
      for (const id of usable) {
        const free = capacity.get(id)! - countOwned(result, id);
        if (free > bestFree) {
          best = id;
          bestFree = free;
        }
      }
      if (best !== undefined) result.set(name, best);
    }
    return result;
  },
};

function countOwned(result: ReadonlyMap<string, bigint>, id: bigint): number {
  let count = 0;
  for (const owner of result.values()) if (owner === id) count++;
  return count;
}
