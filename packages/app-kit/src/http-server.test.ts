import { request } from 'node:http';

import { parseListenAddress, startHttpServer } from './http-server.js';
import type { HealthReport, HttpServer } from './http-server.js';

interface Reply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

/** One request to the server under test (loopback only). */
function call(server: HttpServer, path: string, method = 'GET'): Promise<Reply> {
  const { host, port } = parseListenAddress(server.address);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startHttpServer', () => {
  let health: HealthReport | Error = { ok: true };
  const servers: HttpServer[] = [];
  const start = async (status?: () => unknown): Promise<HttpServer> => {
    const server = await startHttpServer({
      address: '127.0.0.1:0',
      healthy: () => {
        if (health instanceof Error) throw health;
        return health;
      },
      metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'streamsvc_up 1\n' }),
      ...(status ? { status } : {}),
    });
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('binds loopback on the port it was given (0 = a free one) and reports the actual port', async () => {
    const server = await start();
    expect(server.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  });

  it('answers /healthz with 200 and the detail while healthy, 503 when not or when the check throws', async () => {
    const server = await start();
    health = { ok: true, detail: { walsOpen: 2, pchannels: 2 } };
    expect(await call(server, '/healthz')).toEqual({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ status: 'ok', walsOpen: 2, pchannels: 2 }),
    });
    health = { ok: false, detail: { walsOpen: 1, pchannels: 2 } };
    const down = await call(server, '/healthz?verbose=1');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toEqual({ status: 'unavailable', walsOpen: 1, pchannels: 2 });
    health = new Error('metastore gone');
    expect(JSON.parse((await call(server, '/healthz')).body)).toEqual({
      status: 'unavailable',
      error: 'metastore gone',
    });
  });

  it('serves the Prometheus text with its content type at /metrics', async () => {
    const server = await start();
    expect(await call(server, '/metrics')).toEqual({
      status: 200,
      contentType: 'text/plain; version=0.0.4',
      body: 'streamsvc_up 1\n',
    });
  });

  it('serves /status as JSON (bigints as strings) only when the app gives one', async () => {
    const without = await start();
    expect(await call(without, '/status')).toMatchObject({
      status: 404,
      body: 'not found: try /healthz or /metrics\n',
    });
    const withStatus = await start(() => ({ term: 3n, nodes: ['a'] }));
    expect(await call(withStatus, '/status')).toEqual({
      status: 200,
      contentType: 'application/json',
      body: '{"term":"3","nodes":["a"]}',
    });
    expect((await call(withStatus, '/nope')).body).toBe('not found: try /healthz, /metrics or /status\n');
  });

  it('refuses other methods with 405', async () => {
    const server = await start();
    expect((await call(server, '/healthz', 'POST')).status).toBe(405);
  });

  it('closes idempotently and then refuses connections', async () => {
    const server = await startHttpServer({
      address: '127.0.0.1:0',
      healthy: () => ({ ok: true }),
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
    });
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
    await expect(call(server, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('fails to start when the address is taken', async () => {
    const server = await start();
    await expect(
      startHttpServer({
        address: server.address,
        healthy: () => ({ ok: true }),
        metrics: async () => ({ contentType: 'text/plain', body: '' }),
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('parseListenAddress', () => {
  it('defaults an empty host to loopback and accepts bracketed IPv6', () => {
    expect(parseListenAddress('0.0.0.0:9091')).toEqual({ host: '0.0.0.0', port: 9091 });
    expect(parseListenAddress(':9091')).toEqual({ host: '127.0.0.1', port: 9091 });
    expect(parseListenAddress('9091')).toEqual({ host: '127.0.0.1', port: 9091 });
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
  });

  it('rejects a port that is not 0..65535', () => {
    for (const bad of ['host:', 'host:65536', 'host:x', ''])
      expect(() => parseListenAddress(bad)).toThrow(/invalid listen address/);
  });
});
