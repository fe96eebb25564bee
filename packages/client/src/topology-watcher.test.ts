import { ManualClock } from '@streamsvc/common';

import { snapshotFromWire } from './topology.js';
import type { TopologySnapshot } from './topology.js';
import { TopologyWatcher } from './topology-watcher.js';

const snapshot = (local: bigint, term?: bigint): TopologySnapshot =>
  snapshotFromWire({
    version: { global: 1n, local },
    assignments:
      term === undefined ? [] : [{ node: { serverId: 1n, address: 'n:1' }, pchannels: [{ name: 'c-dml_0', term }] }],
    pchannels: ['c-dml_0'],
  });

const termOf = (t: TopologySnapshot): bigint | undefined => t.assignments.get('c-dml_0')?.term;

describe('TopologyWatcher', () => {
  it('accepts only strictly newer versions', () => {
    const w = new TopologyWatcher(new ManualClock());
    expect(w.update(snapshot(2n, 1n))).toBe(true);
    expect(w.update(snapshot(2n, 5n))).toBe(false);
    expect(w.update(snapshot(1n, 5n))).toBe(false);
    expect(termOf(w.current)).toBe(1n);
    expect(w.update(snapshot(3n, 2n))).toBe(true);
    expect(termOf(w.current)).toBe(2n);
  });

  it('resolves a wait as soon as the condition holds, now or after an update', async () => {
    const w = new TopologyWatcher(new ManualClock());
    w.update(snapshot(1n));
    const waiting = w.wait((t) => (termOf(t) !== undefined && termOf(t)! > 1n ? termOf(t) : undefined));
    w.update(snapshot(2n, 1n));
    w.update(snapshot(3n, 2n));
    await expect(waiting).resolves.toBe(2n);
    await expect(w.wait(termOf)).resolves.toBe(2n);
  });

  it('resolves undefined after the timeout, on the injected clock', async () => {
    const clock = new ManualClock();
    const w = new TopologyWatcher(clock);
    let settled: unknown = 'pending';
    void w.wait(termOf, { timeoutMs: 100 }).then((v) => (settled = v));
    clock.advance(99);
    await Promise.resolve();
    expect(settled).toBe('pending');
    clock.advance(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBeUndefined();
    expect(clock.pendingSleeps).toBe(0);
  });

  it('cancels the timer when the condition holds first', async () => {
    const clock = new ManualClock();
    const w = new TopologyWatcher(clock);
    const waiting = w.wait(termOf, { timeoutMs: 1_000 });
    expect(clock.pendingSleeps).toBe(1);
    w.update(snapshot(1n, 4n));
    await expect(waiting).resolves.toBe(4n);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('rejects waits with the abort reason, and every wait with the close error once closed', async () => {
    const w = new TopologyWatcher(new ManualClock());
    const controller = new AbortController();
    const aborted = w.wait(termOf, { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    const pending = w.wait(termOf);
    w.close(new Error('closed'));
    await expect(pending).rejects.toThrow('closed');
    await expect(w.wait(termOf)).rejects.toThrow('closed');
    expect(w.update(snapshot(9n, 1n))).toBe(false);
  });
});
