import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import { TestkitError, TestkitErrorCode } from './errors.js';
import { ManagedProcess } from './managed-process.js';
import { cacheDir, repoRoot, requireBinary, tempDir } from './paths.js';

const run = promisify(execFile);

export interface StartKafkaOptions {
  /** Number of brokers in the mock cluster (ids 1..N). Default 1. */
  readonly brokers?: number;
  /** Topics to create up front, as `name:partitions[:replicationFactor]`. */
  readonly topics?: readonly string[];
  /** How long to wait for the bootstrap file. Default 10 s. */
  readonly readyTimeoutMs?: number;
}

/** A running librdkafka mock cluster speaking the Kafka protocol on random loopback ports. */
export interface KafkaService extends AsyncDisposable {
  /** `host:port` of every broker, for a client's bootstrap list. */
  readonly brokers: readonly string[];
  /** The librdkafka version of the mock (`2.0.2` from Debian, ...). */
  readonly librdkafkaVersion: string;
  readonly process: ManagedProcess;
  /**
   * Sends a control command (`topic <name> <parts> <rf>`, `down <id>`, `up <id>`, `leader <t> <p> <id>`,
   * `rtt <id> <ms>`, `error <ApiKey> <errcode> [count]`) and resolves with the mock's answer line.
   * @throws Error when the mock answers `ERR ...`.
   */
  command(line: string): Promise<string>;
  /** Stops the mock (SIGTERM, then SIGKILL). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the Kafka-protocol mock built from `tools/kafka-mock/kafka-mock.c` against the system
 * librdkafka (`apt-get install librdkafka-dev`). The binary is compiled on first use and cached under
 * `.cache/testkit/kafka-mock/`, keyed by the source's hash.
 *
 * Limits of the mock (see docs/testing.md): each partition keeps ~5 MiB / 100k message sets; no admin
 * API (create topics with `topics` or `command('topic ...')`, or rely on auto-create); with librdkafka
 * 2.0.2 no idempotent or transactional producers.
 */
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaService> {
  const binary = await kafkaMockBinary();
  const dir = await tempDir('streamsvc-kafka-');
  const bootstrapFile = path.join(dir.path, 'bootstrap');
  const args = ['-b', String(options.brokers ?? 1), '-f', bootstrapFile, '-s'];
  for (const topic of options.topics ?? []) args.push('-t', topic);
  const proc = await ManagedProcess.spawn({
    name: 'kafka-mock',
    command: binary,
    args,
    logFile: path.join(dir.path, 'kafka-mock.log'),
    // -s: the mock reads commands on stdin and exits at EOF, so it dies with the test process.
    stdinPipe: true,
  });
  const versionLine = proc.nextLine((l) => l.startsWith('LIBRDKAFKA='), options.readyTimeoutMs ?? 10_000);
  versionLine.catch(() => {});
  try {
    await proc.waitReady(async () => (await stat(bootstrapFile)).size > 0, options.readyTimeoutMs ?? 10_000, 10);
  } catch (e) {
    await dir.remove();
    throw e;
  }
  const brokers = (await readFile(bootstrapFile, 'utf8')).trim().split(',');
  const librdkafkaVersion = (await versionLine.catch(() => 'LIBRDKAFKA=unknown')).slice('LIBRDKAFKA='.length);
  let stopped: Promise<void> | undefined;
  let commands = Promise.resolve('');
  const service: KafkaService = {
    brokers,
    librdkafkaVersion,
    process: proc,
    command(line) {
      // One command at a time: answers are matched to commands by order.
      const next = commands.then(async () => {
        const answer = proc.nextLine((l) => l.startsWith('OK') || l.startsWith('ERR'), 5000);
        proc.writeLine(line);
        const text = await answer;
        if (text.startsWith('ERR')) throw new Error(`[testkit] kafka-mock rejected "${line}": ${text}`);
        return text;
      });
      commands = next.catch(() => '');
      return next;
    },
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

/** Compiles the mock if the cached binary for the current source is missing; returns its path. */
async function kafkaMockBinary(): Promise<string> {
  const source = path.join(repoRoot(), 'tools', 'kafka-mock', 'kafka-mock.c');
  const hint = 'Install the build dependencies with `apt-get install gcc pkg-config librdkafka-dev`';
  const gcc = requireBinary('gcc', hint);
  const pkgConfig = requireBinary('pkg-config', hint);
  const code = await readFile(source);
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 12);
  const binary = path.join(await cacheDir('kafka-mock'), `kafka-mock-${hash}`);
  if (existsSync(binary)) return binary;
  let flags: string[];
  try {
    const { stdout } = await run(pkgConfig, ['--cflags', '--libs', 'rdkafka']);
    flags = stdout.trim().split(/\s+/).filter(Boolean);
  } catch (e) {
    throw new TestkitError(TestkitErrorCode.BINARY_NOT_FOUND, `librdkafka development files not found. ${hint}.`, {
      cause: e,
    });
  }
  // Build to a unique name and rename: parallel test workers may build at the same time.
  const partial = `${binary}.${process.pid}.tmp`;
  try {
    await run(gcc, ['-O2', '-o', partial, source, ...flags]);
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr ?? '';
    throw new TestkitError(TestkitErrorCode.BUILD_FAILED, `cannot compile ${source}:\n${stderr}`, { cause: e });
  }
  await rename(partial, binary);
  return binary;
}
