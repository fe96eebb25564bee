import type { CallOptions, Clock, Logger } from '@streamsvc/common';
import { z } from 'zod';

import { LocalObjectStore } from './local-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';

/** Configuration of a local-filesystem store, as an app parses it. */
export const localObjectStoreConfigSchema = z
  .object({
    kind: z.literal('local').describe('Selects the local-filesystem adapter.'),
    root: z.string().min(1).describe('Directory holding the objects (one file per key); created when missing.'),
    maxObjectBytes: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32)
      .optional()
      .describe('Largest object put accepts, in bytes. Default 64 MiB.'),
    staleTempMs: z
      .number()
      .int()
      .min(1000)
      .optional()
      .describe('On open, temp files older than this (ms; left by killed writers) are deleted. Default 15 min.'),
  })
  .strict();

/** Configuration of an S3 store, as an app parses it. */
export const s3ObjectStoreConfigSchema = z
  .object({
    kind: z.literal('s3').describe('Selects the S3 adapter (minio client).'),
    endpoint: z.url({ protocol: /^https?$/ }).describe('http(s)://host[:port] of the S3 service.'),
    accessKey: z.string().min(1).describe('Access key id.'),
    secretKey: z.string().min(1).describe('Secret access key.'),
    region: z.string().min(1).optional().describe('Region. Default us-east-1.'),
    bucket: z.string().min(3).max(63).describe('Bucket holding the objects.'),
    prefix: z.string().optional().describe("Prepended to every key: '' or a valid key followed by '/'. Default ''."),
    createBucket: z.boolean().optional().describe('Create the bucket when missing. Default false.'),
    requireConditionalWrites: z
      .boolean()
      .optional()
      .describe('Refuse servers that ignore If-None-Match (putIfAbsent must fence writers). Default true.'),
    maxObjectBytes: z
      .number()
      .int()
      .min(0)
      .max(5 * 1024 ** 3)
      .optional()
      .describe('Largest object put accepts, sent as one PUT. Default 64 MiB, at most 5 GiB.'),
    requestTimeoutMs: z.number().int().positive().optional().describe('Timeout of each S3 request. Default 30000.'),
    pathStyle: z.boolean().optional().describe('Path-style URLs (host/bucket/key). Default true.'),
  })
  .strict();

/** Configuration of an object store: `{ kind: 'local', ... }` or `{ kind: 's3', ... }`. */
export const objectStoreConfigSchema = z.discriminatedUnion('kind', [
  localObjectStoreConfigSchema,
  s3ObjectStoreConfigSchema,
]);

/** A parsed {@link localObjectStoreConfigSchema}. */
export type LocalObjectStoreConfig = z.infer<typeof localObjectStoreConfigSchema>;
/** A parsed {@link s3ObjectStoreConfigSchema}. */
export type S3ObjectStoreConfig = z.infer<typeof s3ObjectStoreConfigSchema>;
/** A parsed {@link objectStoreConfigSchema}: what {@link openObjectStore} takes. */
export type ObjectStoreConfig = z.infer<typeof objectStoreConfigSchema>;

/** What an app injects into the store it opens from configuration. */
export interface ObjectStoreDeps {
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/**
 * Opens the store a parsed {@link ObjectStoreConfig} describes (see `LocalObjectStore.open` and
 * `S3ObjectStore.open` for what each does and throws).
 * @throws {ObjectStoreError} as the chosen adapter's `open`. Abort: rejects with the reason; nothing stays open.
 */
export async function openObjectStore(
  config: ObjectStoreConfig,
  deps: ObjectStoreDeps = {},
  options: CallOptions = {},
): Promise<ObjectStore> {
  switch (config.kind) {
    case 'local':
      return LocalObjectStore.open({ ...config, ...deps }, options);
    case 's3':
      return S3ObjectStore.open({ ...config, ...deps }, options);
  }
}
