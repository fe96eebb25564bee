import { credentials, Metadata } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { noopLogger } from '@streamsvc/common';
import { StreamingError } from '@streamsvc/message';
import { readStreamingErrorMetadata, StreamingCoordBalancerServiceClient, TsoServiceClient } from '@streamsvc/proto';
import type { GetBalanceStatusResponse } from '@streamsvc/proto';
import { startEtcd } from '@streamsvc/testkit';
import type { EtcdService } from '@streamsvc/testkit';

import { compose } from '../src/compose.js';
import type { CoordApp } from '../src/compose.js';
import { loadConfig } from '../src/config.js';

jest.setTimeout(60_000);

/** The StreamingError code a failed unary call carried, or undefined when it succeeded. */
async function codeOf(call: (cb: (e: ServiceError | null) => void) => void): Promise<string | undefined> {
  const error = await new Promise<ServiceError | null>((resolve) => call(resolve));
  if (!error) return undefined;
  const info = readStreamingErrorMetadata(error.metadata);
  return info ? StreamingError.codeOfNumber(info.code) : `grpc:${error.code}`;
}

describe('streaming-coord app (in process, real etcd)', () => {
  let etcd: EtcdService;
  const apps: CoordApp[] = [];
  const clients: { close(): void }[] = [];
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const a of apps.reverse()) await a.close();
    await etcd?.stop();
  });

  const start = async (): Promise<CoordApp> => {
    const config = loadConfig(
      [
        '--etcd',
        etcd.endpoints.join(','),
        '--root',
        'coord-app',
        '--listen',
        '127.0.0.1:0',
        '--http',
        '127.0.0.1:0',
        '--pchannels',
        '2',
        '--session-ttl-ms',
        '2000',
      ],
      {},
    );
    const app = await compose(config, { logger: noopLogger });
    apps.push(app);
    return app;
  };
  const balancer = (app: CoordApp): StreamingCoordBalancerServiceClient => {
    const c = new StreamingCoordBalancerServiceClient(app.grpcAddress, credentials.createInsecure());
    clients.push(c);
    return c;
  };
  const metric = async (app: CoordApp, name: string): Promise<number> => {
    const text = await (await fetch(`http://${app.httpAddress}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  };

  it('serves status on the active one, COORDINATOR_NOT_ACTIVE on the standby, and refuses bad moves with INVALID_ARGUMENT while serving on', async () => {
    const active = await start();
    await active.coordinator.whenActive(AbortSignal.timeout(20_000));
    const standby = await start();
    const a = balancer(active);
    const s = balancer(standby);

    const status = await new Promise<GetBalanceStatusResponse>((resolve, reject) =>
      a.getBalanceStatus({}, new Metadata(), (e, r) => (e ? reject(e) : resolve(r))),
    );
    expect(status.coordinator).toBe(active.grpcAddress);
    expect(status.pchannels.map((p) => [p.name, p.state])).toEqual([
      ['by-dev-dml_0', 'UNINITIALIZED'],
      ['by-dev-dml_1', 'UNINITIALIZED'],
    ]);
    expect(await codeOf((cb) => s.getBalanceStatus({}, cb))).toBe('COORDINATOR_NOT_ACTIVE');
    const tso = new TsoServiceClient(standby.grpcAddress, credentials.createInsecure());
    clients.push(tso);
    expect(await codeOf((cb) => tso.allocTimestamp({ count: 1 }, cb))).toBe('COORDINATOR_NOT_ACTIVE');

    // Bad moves: each refused with its code, nothing changes, the coordinator keeps serving.
    expect(await codeOf((cb) => a.movePChannel({ pchannel: '', serverId: 1n }, cb))).toBe('INVALID_ARGUMENT');
    expect(await codeOf((cb) => a.movePChannel({ pchannel: 'nope-dml_9', serverId: 1n }, cb))).toBe('INVALID_ARGUMENT');
    expect(await codeOf((cb) => a.movePChannel({ pchannel: 'by-dev-dml_0', serverId: 42n }, cb))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf((cb) => a.getBalanceStatus({}, cb))).toBeUndefined();

    expect(await metric(active, 'streamsvc_coordinator_active')).toBe(1);
    expect(await metric(standby, 'streamsvc_coordinator_active')).toBe(0);
    expect(await metric(active, 'streamsvc_coordinator_pchannels\\{state="UNINITIALIZED"\\}')).toBe(2);
    const health = (await (await fetch(`http://${standby.httpAddress}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ active: false });

    // SIGTERM-like close of the active one: it resigns and the standby takes over at once.
    const closedAt = Date.now();
    await active.close();
    await standby.coordinator.whenActive(AbortSignal.timeout(10_000));
    expect(Date.now() - closedAt).toBeLessThan(1500);
    expect(await codeOf((cb) => s.getBalanceStatus({}, cb))).toBeUndefined();
  });
});
