import { resolveSettings, woodpeckerWalConfigSchema } from './config.js';

describe('configuration', () => {
  it('defaults to local mode with group commit (no timer), unlimited blocks per segment and preallocation', () => {
    const s = resolveSettings(woodpeckerWalConfigSchema.parse({ rootDir: '/data' }));
    expect(s).toMatchObject({
      mode: 'local',
      flushIntervalMs: 0,
      parallelWrites: 1,
      maxBlockBytes: 2 * 1024 * 1024,
      maxBlockEntries: 10_000,
      segmentMaxBlocks: Number.POSITIVE_INFINITY,
      maxInFlightBytes: 64 * 1024 * 1024,
      preallocateBytes: 64 * 1024 * 1024,
      pollInitialMs: 20,
      pollMaxMs: 1000,
    });
  });

  it('in object mode flushes every 50 ms by default, uploads 4 blocks at once and rolls at 1000 blocks', () => {
    const s = resolveSettings(woodpeckerWalConfigSchema.parse({ mode: 'object' }));
    expect(s).toMatchObject({
      mode: 'object',
      flushIntervalMs: 50,
      parallelWrites: 4,
      segmentMaxBlocks: 1000,
      preallocateBytes: 0,
      prefix: 'woodpecker',
    });
  });

  it.each([
    [{ mode: 'local' }, 'rootDir'],
    [{ mode: 'object', flushIntervalMs: 5 }, 'flushIntervalMs'],
    [{ mode: 'object', flushIntervalMs: 201 }, 'flushIntervalMs'],
    [{ mode: 'object', prefix: '/abs' }, 'prefix'],
    [{ mode: 'object', pollInitialMs: 100, pollMaxMs: 50 }, 'pollMaxMs'],
    [{ mode: 'object', nope: 1 }, ''],
  ])('rejects %j naming %s', (input, path) => {
    const parsed = woodpeckerWalConfigSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('describes every field (README tables are generated from the descriptions)', () => {
    const shape =
      (woodpeckerWalConfigSchema as unknown as { shape?: Record<string, { description?: string }> }).shape ??
      (woodpeckerWalConfigSchema as unknown as { def: { in: { shape: Record<string, { description?: string }> } } }).def
        .in.shape;
    expect(Object.keys(shape).length).toBeGreaterThan(15);
    for (const [name, field] of Object.entries(shape))
      expect([name, typeof field.description]).toEqual([name, 'string']);
  });
});
