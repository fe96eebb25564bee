import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';

import { CloseOnce } from '@streamsvc/common';

/** What `/healthz` reports: 200 `{status:"ok", ...detail}` when `ok`, else 503 `{status:"unavailable", ...}`. */
export interface HealthReport {
  readonly ok: boolean;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** A Prometheus text exposition, as prom-client's `Registry` produces it. */
export interface MetricsText {
  readonly contentType: string;
  readonly body: string;
}

/** What the operations endpoint serves; see {@link startHttpServer}. */
export interface HttpServerOptions {
  /**
   * `host:port` to bind (port 0 picks a free one). Binds only there: `:9091` or `9091` bind the
   * loopback interface, never every interface, so exposing metrics is always an explicit choice.
   */
  readonly address: string;
  /** `/healthz`. Throwing (or rejecting) answers 503 with the error's message. */
  readonly healthy: () => HealthReport | Promise<HealthReport>;
  /** `/metrics`. Rejecting answers 500. */
  readonly metrics: () => Promise<MetricsText>;
  /** `/status`, served as JSON (bigints as strings) when given; 404 otherwise. */
  readonly status?: () => unknown;
}

/** A running operations endpoint. */
export interface HttpServer extends AsyncDisposable {
  /** `host:port` it listens on, with the actual port when 0 was asked for. */
  readonly address: string;
  /** Drops open connections and stops listening. Idempotent: every call returns the same promise. */
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';

/**
 * Splits `host:port`, `[v6]:port`, `:port` or `port`; an empty host is loopback.
 * @throws {Error} when the port is not an integer in 0..65535.
 */
export function parseListenAddress(address: string): { host: string; port: number } {
  const sep = address.lastIndexOf(':');
  const hostPart = sep < 0 ? '' : address.slice(0, sep);
  const portPart = sep < 0 ? address : address.slice(sep + 1);
  const port = /^\d{1,5}$/.test(portPart) ? Number(portPart) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new Error(`invalid listen address ${JSON.stringify(address)}`);
  const host = hostPart.startsWith('[') && hostPart.endsWith(']') ? hostPart.slice(1, -1) : hostPart;
  return { host: host === '' ? LOOPBACK : host, port };
}

const json = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(json(body));
}

/**
 * Starts the operations endpoint every server app has: `GET /healthz` (200/503 with JSON detail),
 * `GET /metrics` (Prometheus text) and, when `status` is given, `GET /status` (JSON). Other paths
 * answer 404, other methods 405.
 * @throws {Error} when the address is malformed or cannot be bound (e.g. `EADDRINUSE`).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { host, port } = parseListenAddress(options.address);
  const paths = options.status ? '/healthz, /metrics or /status' : '/healthz or /metrics';
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/healthz') {
      Promise.resolve()
        .then(options.healthy)
        .then(
          (h) => sendJson(res, h.ok ? 200 : 503, { status: h.ok ? 'ok' : 'unavailable', ...h.detail }),
          (e: unknown) => sendJson(res, 503, { status: 'unavailable', error: errorMessage(e) }),
        );
    } else if (path === '/metrics') {
      options.metrics().then(
        (m) => res.writeHead(200, { 'content-type': m.contentType }).end(m.body),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    } else if (path === '/status' && options.status) {
      Promise.resolve()
        .then(options.status)
        .then(
          (s) => sendJson(res, 200, s),
          (e: unknown) => sendJson(res, 500, { error: errorMessage(e) }),
        );
    } else {
      res.writeHead(404).end(`not found: try ${paths}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const actualPort = typeof bound === 'object' && bound ? bound.port : port;
  const closing = new CloseOnce();
  const http: HttpServer = {
    address: `${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    close: () =>
      closing.run(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    [Symbol.asyncDispose]: () => http.close(),
  };
  return http;
}
