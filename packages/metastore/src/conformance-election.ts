/**
 * Conformance scenarios for leader election.
 */
import assert from 'node:assert/strict';

import type { Scenario } from './conformance-helpers.js';
import { sleep, text, within } from './conformance-helpers.js';
import type { Leadership } from './election.js';
import { Election, observeLeader } from './election.js';
import type { MetaKv } from './meta-kv.js';
import { Session } from './session.js';

interface Candidate {
  readonly name: string;
  readonly session: Session;
  readonly election: Election;
  readonly leadership: Promise<Leadership>;
}

/** Starts `count` candidates, each with its own session; records who leads when. */
async function candidates(kv: MetaKv, ttlMs: number, count: number, log: string[]): Promise<Candidate[]> {
  const all: Candidate[] = [];
  for (let i = 0; i < count; i++) {
    const name = `c${i}`;
    const session = await Session.register(kv, { key: `cand/${name}`, value: name, ttlMs });
    const election = new Election(kv, { prefix: 'leader', lease: session.lease });
    const leadership = election.campaign(name).then((l) => {
      log.push(`+${name}`);
      void l.lost.then(() => log.push(`-${name}`));
      return l;
    });
    leadership.catch(() => {});
    all.push({ name, session, election, leadership });
    await sleep(20); // a stable order of candidacy
  }
  return all;
}

/** No two leaders at once: in the log every `+x` is followed by `-x` before the next `+`. */
function assertOneAtATime(log: readonly string[]): void {
  let current: string | undefined;
  for (const entry of log) {
    if (entry.startsWith('+')) {
      assert.equal(current, undefined, `two leaders at once: ${log.join(' ')}`);
      current = entry.slice(1);
    } else if (entry.slice(1) === current) {
      current = undefined;
    }
  }
}

const settled = async (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    sleep(ms).then(() => false),
  ]);

export const electionScenarios: readonly Scenario[] = [
  {
    name: 'exactly one of three candidates leads at a time, and leadership passes in order on resign',
    async run({ kv, leaseTtlMs }) {
      const log: string[] = [];
      const [c0, c1, c2] = await candidates(kv, leaseTtlMs, 3, log);
      const l0 = await within(5000, 'c0 to lead', c0!.leadership);
      assert.equal(await settled(c1!.leadership, 300), false, 'c1 must wait');
      assert.equal(await settled(c2!.leadership, 10), false, 'c2 must wait');
      assert.equal(text((await c2!.election.leader())!.value), 'c0');
      await l0.resign();
      assert.deepEqual(await l0.lost, { reason: 'resigned' });
      const l1 = await within(5000, 'c1 to lead', c1!.leadership);
      assert.equal(await settled(c2!.leadership, 300), false, 'c2 must still wait');
      await l1.resign();
      const l2 = await within(5000, 'c2 to lead', c2!.leadership);
      assert.equal(l2.key, c2!.election.key);
      await l2.resign();
      await sleep(50);
      assert.deepEqual(log, ['+c0', '-c0', '+c1', '-c1', '+c2', '-c2']);
      assertOneAtATime(log);
      assert.equal(await c0!.election.leader(), undefined);
      for (const c of [c0, c1, c2]) await c!.session.close();
    },
  },
  {
    name: 'when the leader loses its lease it learns so, and the next candidate takes over',
    async run({ kv, leaseTtlMs }) {
      const log: string[] = [];
      const [c0, c1, c2] = await candidates(kv, leaseTtlMs, 3, log);
      const l0 = await within(5000, 'c0 to lead', c0!.leadership);
      await kv.revokeLease(c0!.session.leaseId); // as if c0 froze past its TTL
      const lost = await within(c0!.session.lease.ttlMs + 3000, 'c0 to learn it lost', l0.lost);
      assert.ok(lost.reason === 'lease-lost' || lost.reason === 'key-deleted', lost.reason);
      const l1 = await within(5000, 'c1 to lead', c1!.leadership);
      assert.equal(text((await c2!.election.leader())!.value), 'c1');
      await l1.resign();
      await (await within(5000, 'c2 to lead', c2!.leadership)).resign();
      await sleep(50);
      assertOneAtATime(log);
      for (const c of [c0, c1, c2]) await c!.session.close();
    },
  },
  {
    name: 'a leader whose key is deleted by someone else learns it and the next candidate leads',
    async run({ kv, leaseTtlMs }) {
      const log: string[] = [];
      const [c0, c1] = await candidates(kv, leaseTtlMs, 2, log);
      const l0 = await within(5000, 'c0 to lead', c0!.leadership);
      await kv.delete(l0.key);
      assert.equal((await within(3000, 'c0 to learn', l0.lost)).reason, 'key-deleted');
      await (await within(5000, 'c1 to lead', c1!.leadership)).resign();
      for (const c of [c0, c1]) await c!.session.close();
    },
  },
  {
    name: 'an aborted campaign withdraws its candidacy and rejects with the abort reason',
    async run({ kv, leaseTtlMs }) {
      const s0 = await Session.register(kv, { key: 'a/0', value: '0', ttlMs: leaseTtlMs });
      const s1 = await Session.register(kv, { key: 'a/1', value: '1', ttlMs: leaseTtlMs });
      const e0 = new Election(kv, { prefix: 'abort', lease: s0.lease });
      const e1 = new Election(kv, { prefix: 'abort', lease: s1.lease });
      const l0 = await e0.campaign('zero');
      const ac = new AbortController();
      const waiting = e1.campaign('one', { signal: ac.signal });
      await sleep(100);
      assert.ok(await kv.get(e1.key), 'the candidate key exists while waiting');
      ac.abort(new Error('no longer interested'));
      await assert.rejects(waiting, /no longer interested/);
      assert.equal(await kv.get(e1.key), undefined);
      await l0.resign();
      await s0.close();
      await s1.close();
    },
  },
  {
    name: 'observeLeader yields the leader now and after every change of leader',
    async run({ kv, leaseTtlMs }) {
      const ac = new AbortController();
      const seen: (string | undefined)[] = [];
      const observer = (async () => {
        for await (const leader of observeLeader(kv, 'obs', { signal: ac.signal })) {
          seen.push(leader ? text(leader.value) : undefined);
        }
      })();
      const s0 = await Session.register(kv, { key: 'o/0', value: '0', ttlMs: leaseTtlMs });
      const s1 = await Session.register(kv, { key: 'o/1', value: '1', ttlMs: leaseTtlMs });
      const l0 = await new Election(kv, { prefix: 'obs', lease: s0.lease }).campaign('first');
      const waiting = new Election(kv, { prefix: 'obs', lease: s1.lease }).campaign('second');
      await sleep(100);
      await l0.proclaim('first-again');
      await sleep(100);
      await l0.resign();
      const l1 = await within(5000, 'the second to lead', waiting);
      await sleep(100);
      await l1.resign();
      await sleep(200);
      ac.abort();
      await within(3000, 'the observer to end', observer);
      assert.deepEqual(seen, [undefined, 'first', 'first-again', 'second', undefined]);
      await s0.close();
      await s1.close();
    },
  },
];
