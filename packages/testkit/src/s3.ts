import { createRequire } from 'node:module';
import path from 'node:path';

import { TestkitError, TestkitErrorCode } from './errors.js';
import { ManagedProcess } from './managed-process.js';
import { repoRoot, tempDir, which } from './paths.js';
import { freePort, isListening } from './ports.js';

/** Which S3 server to run: moto honours conditional writes (`If-None-Match: *`), s3rver does not. */
export type S3ServerKind = 'moto' | 's3rver';

export interface StartS3Options {
  /** Default: moto when `moto_server` is on PATH, else s3rver. */
  readonly kind?: S3ServerKind;
  /** Default 30 s (moto takes ~0.5 s, s3rver ~0.3 s). */
  readonly readyTimeoutMs?: number;
}

/** A running S3-compatible server on 127.0.0.1. Buckets are created by the client. */
export interface S3Service extends AsyncDisposable {
  readonly kind: S3ServerKind;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
  /** Whether the server rejects `PUT` with `If-None-Match: *` on an existing key (412). */
  readonly conditionalWrites: boolean;
  readonly process: ManagedProcess;
  /** Stops the server and deletes its data. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts an S3 server on a random loopback port: moto (Python, in the machine image) where available,
 * because it honours conditional writes, else s3rver (npm). Asking for moto when it is missing rejects
 * with BINARY_NOT_FOUND.
 */
export async function startS3(options: StartS3Options = {}): Promise<S3Service> {
  const moto = which('moto_server');
  const kind = options.kind ?? (moto ? 'moto' : 's3rver');
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const dir = await tempDir(`streamsvc-${kind}-`);
  const port = await freePort();
  let proc: ManagedProcess;
  let accessKey: string;
  try {
    if (kind === 'moto') {
      if (!moto) {
        throw new TestkitError(
          TestkitErrorCode.BINARY_NOT_FOUND,
          'moto_server not found on PATH. It ships in the machine image (pip package moto[server]); use kind "s3rver" where it is missing.',
        );
      }
      proc = await ManagedProcess.spawn({
        name: 'moto',
        command: moto,
        args: ['-H', '127.0.0.1', '-p', String(port)],
        logFile: path.join(dir.path, 'moto.log'),
      });
      accessKey = 'testing';
    } else {
      const require = createRequire(path.join(repoRoot(), 'packages', 'testkit', 'package.json'));
      const bin = path.join(path.dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
      proc = await ManagedProcess.spawn({
        name: 's3rver',
        command: process.execPath,
        args: [bin, '-d', path.join(dir.path, 'data'), '-a', '127.0.0.1', '-p', String(port), '--silent'],
        // s3rver 3.7 encrypts ListObjectsV2 continuation tokens with DES, which Node >= 17 only has
        // in the legacy provider: without it, listing past 1000 keys answers 500.
        env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
        logFile: path.join(dir.path, 's3rver.log'),
      });
      accessKey = 'S3RVER';
    }
    await proc.waitReady(() => isListening(port), readyTimeoutMs);
  } catch (e) {
    await dir.remove();
    throw e;
  }
  let stopped: Promise<void> | undefined;
  const service: S3Service = {
    kind,
    endpoint: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    accessKey,
    secretKey: accessKey,
    region: 'us-east-1',
    conditionalWrites: kind === 'moto',
    process: proc,
    stop() {
      stopped ??= (async () => {
        await proc.stop();
        await dir.remove();
      })();
      return stopped;
    },
    [Symbol.asyncDispose]() {
      return service.stop();
    },
  };
  return service;
}
