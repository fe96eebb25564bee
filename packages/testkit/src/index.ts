/**
 * @streamsvc/testkit — real services for integration tests, on random loopback ports, stopped by PID.
 *
 * ```ts
 * import { startEtcd } from '@streamsvc/testkit';
 * await using etcd = await startEtcd();
 * const kv = await EtcdMetaKv.connect({ endpoints: etcd.endpoints });
 * ```
 *
 * A service that cannot start rejects with a {@link TestkitError} whose message says what to install
 * or carries the tail of the service's log; tests never skip silently.
 */
export { startEtcd } from './etcd.js';
export { startKafka } from './kafka.js';
export { startS3 } from './s3.js';
export { spawnTsChild } from './ts-child.js';
export { writeLineSync } from './child-output.js';
export { ManagedProcess } from './managed-process.js';
export { TestkitError, TestkitErrorCode } from './errors.js';
export { freePort, isListening } from './ports.js';
export { repoRoot, tempDir, which } from './paths.js';

export type { EtcdService, StartEtcdOptions } from './etcd.js';
export type { KafkaService, StartKafkaOptions } from './kafka.js';
export type { S3Service, S3ServerKind, StartS3Options } from './s3.js';
export type { SpawnTsChildOptions } from './ts-child.js';
export type { ManagedProcessOptions, ProcessExit } from './managed-process.js';
export type { TempDir } from './paths.js';
