import { createServer } from 'node:http';
import type { Server } from 'node:http';

export interface HttpServerOptions {
  readonly address: string;
  /** `/healthz`: 200 with `{status:"ok"}` when true, 503 otherwise. */
  readonly healthy: () => { ok: boolean; detail: Record<string, unknown> };
  /** `/metrics` body (Prometheus text format). */
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
}

/** The operations endpoint: `/healthz` and `/metrics`. */
export async function startHttpServer(
  options: HttpServerOptions,
): Promise<{ address: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/healthz') {
      const h = options.healthy();
      res
        .writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: h.ok ? 'ok' : 'unavailable', ...h.detail }));
    } else if (path === '/metrics') {
      options.metrics().then(
        (m) => res.writeHead(200, { 'content-type': m.contentType }).end(m.body),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    } else {
      res.writeHead(404).end('not found: try /healthz or /metrics\n');
    }
  });
  const sep = options.address.lastIndexOf(':');
  const host = options.address.slice(0, sep);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(options.address.slice(sep + 1)), host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    address: `${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
