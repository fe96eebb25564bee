import { parseListObjectsV2 } from './s3-list-xml.js';

const contents = (key: string, size = 1): string =>
  `<Contents><Key>${key}</Key><LastModified>2026-11-25T15:56:43.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>${size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;

describe('parseListObjectsV2', () => {
  it('decodes keys when the server says it URL-encoded them (moto, AWS)', () => {
    const xml = `<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated>${contents('p/sp%20ace')}${contents('p/a%2Bb')}${contents('p/100%25')}${contents('p/also+space')}${contents('p/%F0%9F%98%80')}<EncodingType>url</EncodingType></ListBucketResult>`;
    const page = parseListObjectsV2(xml);
    expect(page.objects.map((o) => o.key)).toEqual(['p/sp ace', 'p/a+b', 'p/100%', 'p/also space', 'p/😀']);
    expect(page.truncated).toBe(true);
  });

  it('keeps keys raw when the server ignored encoding-type (s3rver)', () => {
    const xml = `<ListBucketResult><IsTruncated>false</IsTruncated>${contents('p/a+b')}${contents('p/100%')}${contents('p/x&amp;y&lt;z&gt;')}${contents('p/q&#x27;&#39;&quot;')}${contents('p/&amp;amp;&amp;#39;')}</ListBucketResult>`;
    const page = parseListObjectsV2(xml);
    expect(page.objects.map((o) => o.key)).toEqual(['p/a+b', 'p/100%', 'p/x&y<z>', `p/q''"`, 'p/&amp;&#39;']);
    expect(page.truncated).toBe(false);
  });

  it('keeps numeric-looking keys as written (minio 8.0.7 turns 0001 into 1)', () => {
    const xml = `<ListBucketResult>${contents('0001')}${contents('12.50')}${contents('0x1f')}${contents('true')}</ListBucketResult>`;
    expect(parseListObjectsV2(xml).objects.map((o) => o.key)).toEqual(['0001', '12.50', '0x1f', 'true']);
  });

  it('reads size, etag without quotes and last-modified time', () => {
    const [o] = parseListObjectsV2(`<ListBucketResult>${contents('k', 1234)}</ListBucketResult>`).objects;
    expect(o).toEqual({ key: 'k', size: 1234, etag: 'abc', lastModifiedMs: Date.parse('2026-11-25T15:56:43.000Z') });
  });

  it('reads an empty listing and rejects a body that is not a listing', () => {
    expect(parseListObjectsV2('<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>')).toEqual({
      objects: [],
      truncated: false,
    });
    expect(() => parseListObjectsV2('<Error><Code>NoSuchBucket</Code></Error>')).toThrow(/not a ListBucketResult/);
  });
});
