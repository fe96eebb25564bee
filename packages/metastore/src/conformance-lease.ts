/**
 * Conformance scenarios for leases and sessions.
 */
import assert from 'node:assert/strict';

import type { Scenario } from './conformance-helpers.js';
import { eventually, nextValue, rejectsWith, sleep, text, within } from './conformance-helpers.js';
import { MetaKvErrorCode } from './errors.js';
import { Session, listSessions, watchSessions } from './session.js';

export const leaseScenarios: readonly Scenario[] = [
  {
    name: 'lease TTLs are whole seconds, at least one, never below what was asked',
    async run({ kv }) {
      const a = await kv.grantLease(1);
      const b = await kv.grantLease(2500);
      assert.ok(a.ttlMs >= 1000 && a.ttlMs % 1000 === 0, `ttl ${a.ttlMs}`);
      assert.ok(b.ttlMs >= 3000 && b.ttlMs % 1000 === 0, `ttl ${b.ttlMs}`);
      assert.notEqual(a.id, b.id);
      assert.match(a.id, /^[1-9][0-9]*$/);
      await a.revoke();
      await b.revoke();
    },
  },
  {
    name: "revoking a lease deletes its keys at once and settles lost with 'revoked'",
    async run({ kv, leaseTtlMs }) {
      const lease = await kv.grantLease(leaseTtlMs);
      await kv.put('l/a', '1', { lease: lease.id });
      await kv.put('l/b', '2', { lease: lease.id });
      await kv.put('l/c', '3');
      assert.equal((await kv.get('l/a'))?.lease, lease.id);
      assert.equal(lease.isLost, false);
      await lease.revoke();
      assert.deepEqual(await within(1000, 'lost', lease.lost), { reason: 'revoked' });
      assert.equal(lease.isLost, true);
      assert.deepEqual(
        (await kv.list('l/')).kvs.map((x) => x.key),
        ['l/c'],
      );
      await lease.revoke(); // idempotent
      await rejectsWith(kv.put('l/d', '4', { lease: lease.id }), MetaKvErrorCode.LEASE_NOT_FOUND);
    },
  },
  {
    name: "a lease that is not kept alive expires after its TTL: its keys vanish and lost settles with 'expired'",
    slow: true,
    async run({ kv, leaseTtlMs }) {
      const lease = await kv.grantLease(leaseTtlMs, { keepAlive: false });
      const granted = Date.now();
      await kv.put('e/a', '1', { lease: lease.id });
      const lost = await within(lease.ttlMs + 3000, 'the lease to expire', lease.lost);
      assert.equal(lost.reason, 'expired');
      assert.ok(Date.now() - granted >= lease.ttlMs - 100, 'not before its TTL');
      await eventually(2000, 'the leased key to vanish', async () => (await kv.get('e/a')) === undefined);
    },
  },
  {
    name: 'a kept-alive lease outlives its TTL',
    slow: true,
    async run({ kv, leaseTtlMs }) {
      const lease = await kv.grantLease(leaseTtlMs);
      await kv.put('k/a', '1', { lease: lease.id });
      await sleep(lease.ttlMs * 1.5);
      assert.equal(lease.isLost, false);
      assert.equal(text((await kv.get('k/a'))!.value), '1');
      await lease.revoke();
    },
  },
  {
    name: "revoking a lease by id deletes its keys and tells its owner ('expired'); a missing lease reports false",
    async run({ kv, leaseTtlMs }) {
      const lease = await kv.grantLease(leaseTtlMs);
      await kv.put('r/a', '1', { lease: lease.id });
      assert.equal(await kv.revokeLease(lease.id), true);
      assert.equal((await within(lease.ttlMs + 2000, 'the owner to learn', lease.lost)).reason, 'expired');
      assert.equal(await kv.get('r/a'), undefined);
      assert.equal(await kv.revokeLease(lease.id), false);
      await lease.revoke(); // a lost lease is not revoked again
    },
  },
  {
    name: 'a put attached to an unknown lease fails with LEASE_NOT_FOUND and writes nothing',
    async run({ kv }) {
      await rejectsWith(kv.put('x', 'y', { lease: '123456789' }), MetaKvErrorCode.LEASE_NOT_FOUND);
      assert.equal(await kv.get('x'), undefined);
    },
  },
  {
    name: 'a put without a lease detaches the key from its lease, so revoking the lease keeps it',
    async run({ kv, leaseTtlMs }) {
      const lease = await kv.grantLease(leaseTtlMs);
      await kv.put('d', '1', { lease: lease.id });
      await kv.put('d', '2');
      await lease.revoke();
      assert.equal(text((await kv.get('d'))!.value), '2');
    },
  },
  {
    name: 'a session key exists while the session lives and is deleted when it closes',
    async run({ kv, leaseTtlMs }) {
      const session = await Session.register(kv, { key: 'nodes/1', value: 'addr-1', ttlMs: leaseTtlMs });
      const got = await kv.get('nodes/1');
      assert.equal(text(got!.value), 'addr-1');
      assert.equal(got!.lease, session.leaseId);
      await session.update('addr-1b');
      assert.equal(text((await kv.get('nodes/1'))!.value), 'addr-1b');
      await session.close();
      await session.close();
      assert.equal(await kv.get('nodes/1'), undefined);
      assert.equal((await session.lost).reason, 'revoked');
    },
  },
  {
    name: 'a session whose lease is lost settles lost and refuses further use with SESSION_LOST',
    async run({ kv, leaseTtlMs }) {
      const session = await Session.register(kv, { key: 'nodes/2', value: 'addr-2', ttlMs: leaseTtlMs });
      session.assertAlive();
      await kv.revokeLease(session.leaseId); // e.g. an operator, or the lease expired while we were frozen
      const lost = await within(session.lease.ttlMs + 2000, 'the session to be lost', session.lost);
      assert.equal(lost.reason, 'expired');
      assert.equal(session.isLost, true);
      assert.throws(
        () => session.assertAlive(),
        (e: unknown) => (e as { code?: string }).code === MetaKvErrorCode.SESSION_LOST,
      );
      await rejectsWith(session.update('x'), MetaKvErrorCode.SESSION_LOST);
      assert.equal(await kv.get('nodes/2'), undefined);
      await session.close();
    },
  },
  {
    name: 'listSessions and watchSessions show sessions as they come and go',
    async run({ kv, leaseTtlMs }) {
      const a = await Session.register(kv, { key: 'n/a', value: 'A', ttlMs: leaseTtlMs });
      assert.deepEqual(
        (await listSessions(kv, 'n/')).sessions.map((s) => s.key),
        ['n/a'],
      );
      const ac = new AbortController();
      const it = watchSessions(kv, 'n/', { signal: ac.signal });
      const first = await nextValue(it, 'the first snapshot');
      assert.deepEqual(
        first.sessions.map((s) => s.key),
        ['n/a'],
      );
      const b = await Session.register(kv, { key: 'n/b', value: 'B', ttlMs: leaseTtlMs });
      const second = await nextValue(it, 'the second snapshot');
      assert.deepEqual(
        second.sessions.map((s) => `${s.key}=${text(s.value)}`),
        ['n/a=A', 'n/b=B'],
      );
      await a.close();
      const third = await nextValue(it, 'the third snapshot');
      assert.deepEqual(
        third.sessions.map((s) => s.key),
        ['n/b'],
      );
      assert.equal(third.change?.type, 'delete');
      ac.abort();
      assert.equal((await within(3000, 'the end', it.next())).done, true);
      await b.close();
    },
  },
];
