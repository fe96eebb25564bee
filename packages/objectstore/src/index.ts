/**
 * @streamsvc/objectstore — the ObjectStore port and its adapters.
 */
export { ObjectStoreError, ObjectStoreErrorCode } from './errors.js';

export type { ObjectStore, PutObjectOptions, ByteRange, ListObjectsOptions, ObjectPage, ObjectInfo } from './object-store.js';
