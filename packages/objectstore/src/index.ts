/**
 * @streamsvc/objectstore — the ObjectStore port (put / putIfAbsent / get / getRange / head / list /
 * delete) and its two adapters: the local filesystem and S3 (minio client).
 *
 * ```ts
 * import { LocalObjectStore, ObjectStoreError } from '@streamsvc/objectstore';
 * await using store = await LocalObjectStore.open({ root: './data/objects' });
 * await store.putIfAbsent('wal/log-1/seg-0/block-0', bytes); // ALREADY_EXISTS if another writer won
 * ```
 */
export { ObjectStoreError, ObjectStoreErrorCode } from './errors.js';
export { LocalObjectStore } from './local-object-store.js';
export { S3ObjectStore } from './s3-object-store.js';
export {
  objectStoreConfigSchema,
  localObjectStoreConfigSchema,
  s3ObjectStoreConfigSchema,
  openObjectStore,
} from './config.js';
export {
  checkKey,
  isValidKey,
  compareKeys,
  MAX_KEY_BYTES,
  MAX_SEGMENT_BYTES,
  RESERVED_SEGMENT_PREFIX,
} from './keys.js';

export type {
  ObjectStore,
  ObjectStoreCapabilities,
  PutObjectOptions,
  ByteRange,
  ListObjectsOptions,
  ObjectPage,
  ObjectInfo,
} from './object-store.js';
export type { LocalObjectStoreOptions } from './local-object-store.js';
export type { S3ObjectStoreOptions } from './s3-settings.js';
export type { S3Api, S3PutOptions, S3Range, S3ObjectStat, S3ListedObject, S3ListPage } from './s3-api.js';
export type { ObjectStoreConfig, LocalObjectStoreConfig, S3ObjectStoreConfig, ObjectStoreDeps } from './config.js';
