import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';

import { TestkitError, TestkitErrorCode } from './errors.js';
import { ManagedProcess } from './managed-process.js';
import { requireBinary, tempDir } from './paths.js';
import { freePort } from './ports.js';

export interface StartEtcdOptions {
  /** How long to wait for `/health` to report healthy. Default 20 s. */
  readonly readyTimeoutMs?: number;
}

/** A running single-member etcd on 127.0.0.1 with a throw-away data directory. */
export interface EtcdService extends AsyncDisposable {
  /** Client URLs, e.g. `['http://127.0.0.1:41234']`. */
  readonly endpoints: readonly string[];
  readonly clientPort: number;
  readonly dataDir: string;
  /** The current process (changes after `restart`). */
  readonly process: ManagedProcess;
  /** Stops etcd gracefully and starts it again on the same ports and data. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Sends a signal to etcd (`SIGSTOP` freezes it, `SIGCONT` resumes, `SIGKILL` crashes it). */
  signal(signal: NodeJS.Signals): void;
  /** Stops etcd (SIGTERM, then SIGKILL) and deletes its data. Idempotent. */
  stop(): Promise<void>;
}

const ATTEMPTS = 3;

/**
 * Starts etcd (Debian `etcd-server`, 3.4) on random loopback ports. Rejects with BINARY_NOT_FOUND
 * when etcd is not installed, START_FAILED / START_TIMEOUT otherwise; a port taken between choosing
 * and binding it is retried with new ports.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdService> {
  const binary = requireBinary('etcd', 'Install it with `apt-get install etcd-server`');
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const dir = await tempDir('streamsvc-etcd-');
  const dataDir = path.join(dir.path, 'data');
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const clientPort = await freePort();
    const peerPort = await freePort();
    try {
      let proc = await launch(binary, dataDir, dir.path, clientPort, peerPort, readyTimeoutMs);
      const endpoint = `http://127.0.0.1:${clientPort}`;
      let stopped: Promise<void> | undefined;
      const service: EtcdService = {
        endpoints: [endpoint],
        clientPort,
        dataDir,
        get process() {
          return proc;
        },
        async restart(restartOptions = {}) {
          await proc.stop();
          if (restartOptions.downMs) await new Promise((r) => setTimeout(r, restartOptions.downMs));
          proc = await launch(binary, dataDir, dir.path, clientPort, peerPort, readyTimeoutMs);
        },
        signal: (signal) => proc.signal(signal),
        stop() {
          stopped ??= (async () => {
            await proc.stop();
            await dir.remove();
          })();
          return stopped;
        },
        [Symbol.asyncDispose]() {
          return this.stop();
        },
      };
      return service;
    } catch (e) {
      lastError = e;
      const portClash = TestkitError.is(e, TestkitErrorCode.START_FAILED) && /address already in use/i.test(e.message);
      if (!portClash) break;
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  await dir.remove();
  throw lastError;
}

async function launch(
  binary: string,
  dataDir: string,
  workDir: string,
  clientPort: number,
  peerPort: number,
  readyTimeoutMs: number,
): Promise<ManagedProcess> {
  await mkdir(dataDir, { recursive: true });
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = await ManagedProcess.spawn({
    name: 'etcd',
    command: binary,
    args: [
      '--name=testkit',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=testkit=${peer}`,
      '--initial-cluster-state=new',
      // Tests create and drop many leases; keep history long enough for watch-from-revision tests.
      '--auto-compaction-mode=revision',
      '--auto-compaction-retention=100000',
    ],
    logFile: path.join(workDir, 'etcd.log'),
  });
  await proc.waitReady(async () => {
    const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return res.ok && body.health === 'true';
  }, readyTimeoutMs);
  return proc;
}
