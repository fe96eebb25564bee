import { MessageBuilder } from '@streamsvc/message';

import { StreamingClient } from '../src/index.js';
import type { StreamingClientOptions } from '../src/index.js';
import { closedEndpoint, HA_NODE, HaCoordinator } from './support/ha-coordinator.js';
import { eventually, sleep } from './support/helpers.js';

const broadcastMessage = () =>
  MessageBuilder.dropCollection()
    .header({ collectionId: 5n })
    .body({})
    .broadcast(['ha-dml_0_5v0', 'ha-dml_1_5v0'])
    .build();

/** A client with short backoffs (overridable), so retries do not slow the tests down. */
function connect(
  endpoint: StreamingClientOptions['endpoint'],
  options: Partial<StreamingClientOptions> = {},
): Promise<StreamingClient> {
  return StreamingClient.connect({
    endpoint,
    discoveryBackoff: { initialMs: 20, maxMs: 100 },
    retryBackoff: { initialMs: 20, maxMs: 200 },
    callTimeoutMs: 2_000,
    ...options,
  });
}

describe('a client of a cluster with an active and a standby coordinator', () => {
  let active: HaCoordinator;
  let standby: HaCoordinator;
  beforeEach(async () => {
    active = await HaCoordinator.start(1n);
    standby = await HaCoordinator.start();
  });
  afterEach(async () => {
    await active.close();
    await standby.close();
  });

  it('learns the topology from the active coordinator when the standby is listed first', async () => {
    await using client = await connect([standby.endpoint, active.endpoint]);
    const ready = await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    expect(ready.version).toEqual({ global: 1n, local: 0n });
    expect(ready.assignments.get('ha-dml_0')?.node).toEqual(HA_NODE);
    expect(standby.refused.discover.length).toBeGreaterThanOrEqual(1);
    expect(active.discoveryStreams).toBe(1);
  });

  it('sends TSO and broadcast calls straight to the coordinator discovery found active', async () => {
    await using client = await connect(`${standby.endpoint},${active.endpoint}`);
    await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    const ts = await client.allocateTimestamp({ signal: AbortSignal.timeout(5_000) });
    expect(ts).toBe(1n << 40n);
    const result = await client.broadcast(broadcastMessage(), { signal: AbortSignal.timeout(5_000) });
    expect(result.broadcastId).toBe(1n);
    expect(active.served).toMatchObject({ tso: 1, broadcast: 1 });
    expect(standby.refused.tso).toHaveLength(0);
    expect(standby.refused.broadcast).toHaveLength(0);
  });

  it('skips an endpoint that is not listening, for discovery and for calls, without a backoff pause', async () => {
    const [closedA, closedB] = [await closedEndpoint(), await closedEndpoint()];
    await using client = await connect([closedA, active.endpoint, closedB, standby.endpoint], {
      retryBackoff: { initialMs: 10_000, maxMs: 10_000 },
    });
    await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    expect(active.discoveryStreams).toBe(1);
    // Roles change while discovery's stream stays open: the call finds out, and passes the dead endpoint.
    active.stepDown('keep');
    standby.activate(2n);
    const started = Date.now();
    expect(await client.allocateTimestamp({ signal: AbortSignal.timeout(5_000) })).toBe(1n << 40n);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(active.refused.tso).toHaveLength(1);
    expect(standby.served.tso).toBe(1);
  });

  it.each([
    ['ends its discovery stream with close {}', 'close'],
    ['fails its discovery stream with COORDINATOR_NOT_ACTIVE', 'error'],
  ] as const)('follows a role swap within a bounded time when the old active %s', async (_what, how) => {
    await using client = await connect([active.endpoint, standby.endpoint]);
    await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    const swapped = Date.now();
    active.stepDown(how);
    // The election takes a moment: meanwhile both endpoints refuse (the client backs off between rounds).
    await sleep(150);
    standby.activate(2n);
    await eventually(() => client.topology().version.global === 2n, 3_000, 'newer topology from the new active');
    expect(Date.now() - swapped).toBeLessThan(3_000);
    expect(standby.discoveryStreams).toBe(1);
    expect(active.discoveryStreams).toBe(0);
    expect(await client.allocateTimestamp({ signal: AbortSignal.timeout(5_000) })).toBe(1n << 40n);
    expect((await client.broadcast(broadcastMessage(), { signal: AbortSignal.timeout(5_000) })).broadcastId).toBe(1n);
    expect(standby.served).toMatchObject({ tso: 1, broadcast: 1 });
  });

  it('retries a call refused as not active on the next endpoint at once, without a backoff pause', async () => {
    await using client = await connect([active.endpoint, standby.endpoint], {
      retryBackoff: { initialMs: 10_000, maxMs: 10_000 },
    });
    await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    // The discovery stream stays open, so only the call finds out that the roles changed.
    active.stepDown('keep');
    standby.activate(2n);
    const started = Date.now();
    expect(await client.allocateTimestamp({ signal: AbortSignal.timeout(5_000) })).toBe(1n << 40n);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(active.refused.tso).toHaveLength(1);
    expect(standby.served.tso).toBe(1);
    // The next call starts where the last one succeeded.
    await client.allocateTimestamp({ signal: AbortSignal.timeout(5_000) });
    expect(active.refused.tso).toHaveLength(1);
    expect(standby.served.tso).toBe(2);
  });

  it('backs off only after every endpoint refused a call in a row', async () => {
    await using client = await connect([active.endpoint, standby.endpoint], {
      retryBackoff: { initialMs: 400, maxMs: 400, jitter: 0 },
    });
    await client.waitReady({ signal: AbortSignal.timeout(5_000) });
    active.stepDown('keep'); // both refuse now
    const reason = new Error('gave up');
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 600);
    await expect(client.allocateTimestamp({ signal: controller.signal })).rejects.toBe(reason);
    const refusals = [
      ...active.refused.tso.map((t) => ({ t, at: 'a' })),
      ...standby.refused.tso.map((t) => ({ t, at: 's' })),
    ].sort((x, y) => x.t - y.t);
    // Two rounds of two refusals each (a, then s), 400 ms apart; within a round no pause.
    expect(refusals.map((r) => r.at)).toEqual(['a', 's', 'a', 's']);
    expect(refusals[1]!.t - refusals[0]!.t).toBeLessThan(200);
    expect(refusals[2]!.t - refusals[1]!.t).toBeGreaterThanOrEqual(300);
  });

  it('keeps discovery going round the endpoints while none is active, and connects once one is', async () => {
    active.stepDown('error');
    await using client = await connect([active.endpoint, standby.endpoint], {
      discoveryBackoff: { initialMs: 50, maxMs: 50, jitter: 0 },
    });
    await eventually(
      () => active.refused.discover.length >= 2 && standby.refused.discover.length >= 2,
      3_000,
      'rounds',
    );
    expect(client.topology().version.global).toBe(-1n);
    standby.activate(3n);
    const ready = await client.waitReady({ signal: AbortSignal.timeout(3_000) });
    expect(ready.version.global).toBe(3n);
  });
});
