import { z } from 'zod';

import { ConfigError } from './config-error.js';
import { createConfigLoader } from './config-loader.js';
import type { ConfigLoaderOptions } from './config-loader.js';

const schema = z
  .object({
    dataDir: z.string().min(1).default('./data').describe('Where data lives.'),
    pchannels: z.number().int().min(1).max(256).default(4).describe('Number of pchannels.'),
    verbose: z.boolean().default(false).describe('Log more.'),
    sessionId: z.bigint().optional().describe('Session to resume.'),
    wal: z.enum(['woodpecker', 'memory']).default('woodpecker').describe('WAL backend.'),
    etcd: z.string().describe('etcd endpoint (required).'),
    timeoutMs: z.number().int().default(10_000).describe('Shutdown timeout.'),
  })
  .strict();

/** A loader over in-memory "files". */
function loaderWith(files: Record<string, string> = {}, extra: Partial<ConfigLoaderOptions<typeof schema>> = {}) {
  return createConfigLoader({
    schema,
    flags: {
      'data-dir': 'dataDir',
      pchannels: { key: 'pchannels', short: 'p' },
      verbose: 'verbose',
      session: 'sessionId',
      wal: 'wal',
      etcd: 'etcd',
    },
    env: { prefix: 'APP_', names: { pchannels: 'APP_PCH', timeoutMs: false } },
    usage: 'usage: app [flags]',
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return text;
    },
    ...extra,
  });
}

/** The ConfigError `fn` throws. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (ConfigError.is(e, 'INVALID_CONFIG')) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('createConfigLoader', () => {
  it('applies schema defaults when nothing else sets a value, and says so in sources', () => {
    const { config, help, sources } = loaderWith().load(['--etcd', 'e:2379'], {});
    expect(config).toEqual({
      dataDir: './data',
      pchannels: 4,
      verbose: false,
      wal: 'woodpecker',
      etcd: 'e:2379',
      timeoutMs: 10_000,
    });
    expect(help).toBe(false);
    expect(sources.get('dataDir')).toEqual({ kind: 'default' });
    expect(sources.get('etcd')).toEqual({ kind: 'flag', name: '--etcd' });
  });

  it('lets flags win over env, env over the file, and the file over defaults', () => {
    const files = { 'c.json': JSON.stringify({ dataDir: '/file', pchannels: 8, wal: 'memory', etcd: 'file:1' }) };
    const { config, sources } = loaderWith(files).load(['--config', 'c.json', '--pchannels', '16'], {
      APP_PCH: '12',
      APP_DATA_DIR: '/env',
    });
    expect(config).toMatchObject({ pchannels: 16, dataDir: '/env', wal: 'memory', etcd: 'file:1' });
    expect(sources.get('pchannels')).toEqual({ kind: 'flag', name: '--pchannels' });
    expect(sources.get('dataDir')).toEqual({ kind: 'env', name: 'APP_DATA_DIR' });
    expect(sources.get('wal')).toEqual({ kind: 'file', name: 'c.json' });
  });

  it('derives variable names from the prefix, honours renames and reads none for a disabled setting', () => {
    const { config } = loaderWith().load([], {
      APP_ETCD: 'env:1',
      APP_PCHANNELS: '99', // renamed to APP_PCH, so ignored
      APP_PCH: '3',
      APP_TIMEOUT_MS: '1', // disabled
      APP_SESSION_ID: '9007199254740993',
    });
    expect(config).toMatchObject({ etcd: 'env:1', pchannels: 3, timeoutMs: 10_000, sessionId: 9007199254740993n });
  });

  it('coerces numeric, bigint and boolean strings from every source', () => {
    const files = { 'c.json': JSON.stringify({ timeoutMs: '2500', etcd: 'x' }) };
    const load = (argv: string[], env: Record<string, string> = {}) =>
      loaderWith(files).load(['--config', 'c.json', ...argv], env).config;
    expect(load(['-p', ' 7 '])).toMatchObject({ pchannels: 7, timeoutMs: 2500 });
    expect(load(['--session', '12'])).toMatchObject({ sessionId: 12n });
    expect(load(['--verbose'])).toMatchObject({ verbose: true });
    expect(load(['--verbose=false'])).toMatchObject({ verbose: false });
    for (const [text, value] of [
      ['yes', true],
      ['0', false],
      ['OFF', false],
      ['true', true],
    ] as const)
      expect(load([], { APP_VERBOSE: text })).toMatchObject({ verbose: value });
  });

  it('lists every problem in one error, each with where its value came from', () => {
    const files = { 'c.json': JSON.stringify({ wal: 'kafka', bogus: 1 }) };
    const e = configErrorOf(() =>
      loaderWith(files).load(['--config', 'c.json', '--pchannels', 'many', '--data-dir='], { APP_VERBOSE: 'maybe' }),
    );
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.retriable).toBe(false);
    expect(e.problems.map((p) => [p.path, p.source])).toEqual([
      ['dataDir', { kind: 'flag', name: '--data-dir' }],
      ['pchannels', { kind: 'flag', name: '--pchannels' }],
      ['verbose', { kind: 'env', name: 'APP_VERBOSE' }],
      ['wal', { kind: 'file', name: 'c.json' }],
      ['etcd', undefined],
      ['bogus', { kind: 'file', name: 'c.json' }],
    ]);
    expect(e.message).toMatch(/^\[config\] invalid configuration:\n {2}dataDir: Too small: .* \(flag --data-dir\)\n/);
    expect(e.message).toContain('bogus: unknown setting (file c.json)');
    expect(e.message).toContain('wal: Invalid option: expected one of "woodpecker"|"memory" (file c.json)');
    expect(e.message).toContain('pchannels: Invalid input: expected number, received string (flag --pchannels)');
    expect(e.message).toContain('verbose: Invalid input: expected boolean, received string (env APP_VERBOSE)');
    expect(e.message).toContain('etcd: required (set --etcd or APP_ETCD)');
    expect(e.message.endsWith('\nusage: app [flags]')).toBe(true);
  });

  it('reports every bad flag and stray argument, not just the first', () => {
    const e = configErrorOf(() =>
      loaderWith().load(['--nope', '--etcd', '--wal', 'memory', '-x', 'stray', '--help=1', '--pchannels'], {}),
    );
    expect(e.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      '--nope: unknown flag',
      '--etcd: needs a value (got --wal; write --etcd=--wal if that is the value)',
      'memory: unexpected argument (settings are given as --name value)',
      '-x: unknown flag',
      'stray: unexpected argument (settings are given as --name value)',
      '--help: takes no value',
      '--pchannels: needs a value',
      'etcd: required (set --etcd or APP_ETCD)',
    ]);
  });

  it('names the config file when it cannot be read, is not JSON or is not an object', () => {
    const files = { 'bad.json': '{ nope', 'list.json': '[1]' };
    const problem = (file: string) =>
      configErrorOf(() => loaderWith(files).load(['--config', file, '--etcd', 'e'], {})).problems;
    expect(problem('missing.json')).toEqual([
      {
        path: '--config missing.json',
        message: "cannot read it: ENOENT: no such file or directory, open 'missing.json'",
      },
    ]);
    expect(problem('bad.json')[0]?.message).toMatch(/^not valid JSON: /);
    expect(problem('list.json')).toEqual([
      { path: '(config)', message: 'expected a JSON object of settings', source: { kind: 'file', name: 'list.json' } },
    ]);
  });

  it('reports --help and still returns a validated configuration', () => {
    expect(loaderWith().load(['-h', '--etcd', 'e'], {}).help).toBe(true);
    expect(loaderWith().load(['--help', '--etcd', 'e'], {}).help).toBe(true);
  });

  it('can do without a config flag', () => {
    const e = configErrorOf(() => loaderWith({}, { configFlag: false }).load(['--config', 'c.json'], {}));
    expect(e.problems[0]).toEqual({ path: '--config', message: 'unknown flag' });
  });

  it('refuses tables that name settings the schema lacks or take a reserved flag', () => {
    expect(() => createConfigLoader({ schema, flags: { x: 'nope' as 'etcd' } })).toThrow(/sets nope/);
    expect(() => createConfigLoader({ schema, flags: { help: 'verbose' } })).toThrow(/--help is reserved/);
    expect(() => createConfigLoader({ schema, flags: {}, env: { names: { nope: 'X' } as object } })).toThrow(
      /env names nope/,
    );
  });

  it('describes every setting with its flag, variable, default and description', () => {
    const fields = loaderWith().fields;
    expect(fields.map((f) => f.key)).toEqual(Object.keys(schema.shape));
    expect(fields.find((f) => f.key === 'pchannels')).toMatchObject({
      flag: '--pchannels',
      short: '-p',
      env: 'APP_PCH',
      kind: 'number',
      hasDefault: true,
      defaultValue: 4,
      required: false,
      description: 'Number of pchannels.',
      valueName: 'N',
    });
    expect(fields.find((f) => f.key === 'wal')).toMatchObject({ choices: ['woodpecker', 'memory'] });
    expect(fields.find((f) => f.key === 'etcd')).toMatchObject({ required: true, hasDefault: false });
    expect(fields.find((f) => f.key === 'timeoutMs')).toMatchObject({ flag: undefined, env: undefined });
  });
});
