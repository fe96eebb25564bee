import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

import { Client } from 'minio';

import type { S3Api, S3ListPage, S3ObjectStat, S3PutOptions, S3Range } from './s3-api.js';
import { parseListObjectsV2 } from './s3-list-xml.js';
import { SINGLE_PUT_LIMIT } from './s3-settings.js';

/** Connection settings of {@link MinioS3Api}. */
export interface MinioS3ApiOptions {
  /** `http(s)://host[:port]` */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
  readonly bucket: string;
  /** Path-style URLs (`host/bucket/key`), what S3-compatible servers expect. */
  readonly pathStyle: boolean;
}

// Statuses on which minio 8.0.7's requestWithRetry throws `Retryable HTTP status: NNN` without reading
// the body (even with retries disabled); draining them returns the socket to the pool.
const MINIO_UNREAD_STATUSES = new Set([408, 429, 499, 500, 502, 503, 504, 520]);

// RFC 3986 escaping, as SigV4 wants it (encodeURIComponent leaves !'()* alone).
const uriEscape = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

async function readAll(body: Readable, expected: number | undefined): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
  }
  if (expected !== undefined && size !== expected) {
    throw Object.assign(new Error(`response body has ${size} bytes, Content-Length said ${expected}`), {
      code: 'ECONNRESET',
    });
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

function contentLength(res: http.IncomingMessage): number | undefined {
  const header = res.headers['content-length'];
  return header === undefined ? undefined : Number(header);
}

/**
 * {@link S3Api} over the minio client: the one file that imports minio.
 *
 * - Cancellation: minio takes no AbortSignal, so each call runs inside an AsyncLocalStorage scope
 *   holding its signal, and the transport handed to minio adds that signal to the `http.request` it
 *   makes. An abort destroys the socket; minio rejects with an AbortError.
 * - minio's own retries are off: a retried conditional PUT whose first attempt landed would answer
 *   412 to its own write, and minio logs retries with console.warn. Callers retry UNAVAILABLE.
 * - Listing uses ListObjectsV2 with `start-after`, sent through minio's signed `makeRequestAsync` and
 *   parsed here (see `parseListObjectsV2` for why minio's parser is not used). `start-after` rather
 *   than continuation tokens also spares s3rver its DES-encrypted tokens.
 */
export class MinioS3Api implements S3Api {
  readonly #client: Client;
  readonly #bucket: string;
  readonly #region: string;
  readonly #agent: http.Agent;
  readonly #scope: AsyncLocalStorage<AbortSignal | undefined>;

  private constructor(
    client: Client,
    bucket: string,
    region: string,
    agent: http.Agent,
    scope: AsyncLocalStorage<AbortSignal | undefined>,
  ) {
    this.#client = client;
    this.#bucket = bucket;
    this.#region = region;
    this.#agent = agent;
    this.#scope = scope;
  }

  /**
   * Builds the client; no I/O.
   * @throws {Error} (minio's InvalidEndpointError and friends, or a TypeError from `new URL`) for a bad endpoint.
   */
  static create(options: MinioS3ApiOptions): MinioS3Api {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`endpoint must be an http(s) URL, got ${options.endpoint}`);
    }
    const useSSL = url.protocol === 'https:';
    const lib = useSSL ? https : http;
    const agent = new lib.Agent({ keepAlive: true });
    const scope = new AsyncLocalStorage<AbortSignal | undefined>();
    const request = ((requestOptions: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
      const signal = scope.getStore();
      return lib.request(signal ? { ...requestOptions, signal } : requestOptions, (res) => {
        if (res.statusCode !== undefined && MINIO_UNREAD_STATUSES.has(res.statusCode)) res.resume();
        callback?.(res);
      });
    }) as typeof http.request;
    const client = new Client({
      endPoint: url.hostname,
      port: url.port === '' ? (useSSL ? 443 : 80) : Number(url.port),
      useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: options.region,
      pathStyle: options.pathStyle,
      transport: { request },
      transportAgent: agent,
      retryOptions: { disableRetry: true },
      // minio sends anything up to its part size as one PUT and switches to multipart above it.
      // minio's multipart breaks against both test servers (s3rver lacks ListMultipartUploads, moto's
      // XML root names trip minio's parser), so the part size is S3's single-PUT limit and the store
      // rejects larger objects itself.
      partSize: SINGLE_PUT_LIMIT,
    });
    return new MinioS3Api(client, options.bucket, options.region, agent, scope);
  }

  #run<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return this.#scope.run(signal, fn);
  }

  bucketExists(signal?: AbortSignal): Promise<boolean> {
    return this.#run(signal, () => this.#client.bucketExists(this.#bucket));
  }

  makeBucket(signal?: AbortSignal): Promise<void> {
    return this.#run(signal, () => this.#client.makeBucket(this.#bucket, this.#region));
  }

  putObject(key: string, data: Uint8Array, options: S3PutOptions): Promise<{ readonly etag: string }> {
    // minio passes Content-Type and If-None-Match through as headers (its isSupportedHeader list).
    const headers: Record<string, string> = { 'Content-Type': options.contentType ?? 'application/octet-stream' };
    if (options.ifNoneMatch) headers['If-None-Match'] = '*';
    const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.#run(options.signal, async () => {
      const { etag } = await this.#client.putObject(this.#bucket, key, body, body.length, headers);
      return { etag };
    });
  }

  getObject(key: string, range: S3Range | undefined, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#run(signal, async () => {
      // getPartialObject(offset 0, length 0) means "whole object", like getObject.
      const res = (await this.#client.getPartialObject(
        this.#bucket,
        key,
        range?.offset ?? 0,
        range?.length ?? 0,
      )) as http.IncomingMessage;
      return readAll(res, contentLength(res));
    });
  }

  statObject(key: string, signal?: AbortSignal): Promise<S3ObjectStat> {
    return this.#run(signal, async () => {
      const st = await this.#client.statObject(this.#bucket, key);
      return { size: st.size, etag: st.etag, lastModifiedMs: st.lastModified.getTime() };
    });
  }

  listObjects(
    prefix: string,
    startAfter: string | undefined,
    maxKeys: number,
    signal?: AbortSignal,
  ): Promise<S3ListPage> {
    const query = [
      'encoding-type=url',
      'list-type=2',
      `max-keys=${maxKeys}`,
      `prefix=${uriEscape(prefix)}`,
      ...(startAfter === undefined ? [] : [`start-after=${uriEscape(startAfter)}`]),
    ]
      .sort()
      .join('&');
    return this.#run(signal, async () => {
      const res = await this.#client.makeRequestAsync(
        { method: 'GET', bucketName: this.#bucket, query },
        '',
        [200],
        this.#region,
      );
      const body = await readAll(res, contentLength(res));
      return parseListObjectsV2(Buffer.from(body).toString('utf8'));
    });
  }

  removeObject(key: string, signal?: AbortSignal): Promise<void> {
    return this.#run(signal, () => this.#client.removeObject(this.#bucket, key));
  }

  close(): void {
    this.#agent.destroy();
  }
}
