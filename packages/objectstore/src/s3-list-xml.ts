import { XMLParser } from 'fast-xml-parser';

import type { S3ListedObject, S3ListPage } from './s3-api.js';

// Every value stays a string: minio 8.0.7's own ListObjectsV2 parser converts numeric-looking keys
// to numbers, so `0001` comes back as `1` (and `12.50` as `12.5`).
// Numeric character references (`&#x27;`, which s3rver writes for `'`) are decoded only with
// htmlEntities; `&amp;` is still decoded last, so escaped text is never decoded twice.
const parser = new XMLParser({
  parseTagValue: false,
  htmlEntities: true,
  ignoreAttributes: true,
  isArray: (_name, jPath) => jPath === 'ListBucketResult.Contents',
});

interface RawContents {
  readonly Key?: unknown;
  readonly Size?: unknown;
  readonly ETag?: unknown;
  readonly LastModified?: unknown;
}

interface RawResult {
  readonly ListBucketResult?: {
    readonly IsTruncated?: unknown;
    readonly EncodingType?: unknown;
    readonly Contents?: readonly RawContents[];
  };
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Parses a ListObjectsV2 response body. Keys are URL-decoded only when the server says it encoded
 * them (`<EncodingType>url</EncodingType>`): moto and AWS honour `encoding-type=url`, s3rver ignores it
 * and sends raw keys, on which decoding would turn `a+b` into `a b` or fail on `100%`.
 * @throws {Error} on a body that is not a ListBucketResult or a key that does not decode.
 */
export function parseListObjectsV2(xml: string): S3ListPage {
  const doc = parser.parse(xml) as RawResult;
  const result = doc.ListBucketResult;
  if (result === undefined) throw new Error(`not a ListBucketResult: ${xml.slice(0, 200)}`);
  const urlEncoded = text(result.EncodingType).toLowerCase() === 'url';
  const objects: S3ListedObject[] = (result.Contents ?? []).map((c) => {
    const raw = text(c.Key);
    // AWS encodes a space as `+` and a plus as `%2B`, so `+` → space first is exact.
    const key = urlEncoded ? decodeURIComponent(raw.replace(/\+/g, ' ')) : raw;
    return {
      key,
      size: Number(text(c.Size)),
      etag: text(c.ETag).replace(/"/g, ''),
      lastModifiedMs: Date.parse(text(c.LastModified)),
    };
  });
  return { objects, truncated: text(result.IsTruncated).toLowerCase() === 'true' };
}
