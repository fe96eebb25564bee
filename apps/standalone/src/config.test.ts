import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ConfigError, loadConfig, standaloneConfigLoader, USAGE } from './config.js';

const DEFAULTS = {
  dataDir: './data',
  listen: '127.0.0.1:19540',
  http: '127.0.0.1:9091',
  cluster: 'by-dev',
  pchannels: 4,
  wal: 'woodpecker',
  kafkaTopicPrefix: '',
  writeAheadBufferMiB: 16,
  logLevel: 'info',
  broadcastDedupWindowMs: 600_000,
  broadcastDedupMaxEntries: 10_000,
  shutdownTimeoutMs: 10_000,
  help: false,
};

describe('standalone configuration', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'standalone-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to loopback ports, ./data and 4 woodpecker pchannels', () => {
    expect(loadConfig([], {})).toEqual(DEFAULTS);
  });

  it('takes flags over STREAMSVC_* variables over the --config file', () => {
    const file = path.join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({
        pchannels: 2,
        cluster: 'file',
        wal: 'memory',
        shutdownTimeoutMs: 500,
        broadcastDedupWindowMs: 1,
      }),
    );
    const config = loadConfig(['--config', file, '--pchannels', '8', '--wab-mib', '48'], {
      STREAMSVC_PCHANNELS: '6',
      STREAMSVC_CLUSTER: 'env',
      STREAMSVC_WAB_MIB: '32',
      STREAMSVC_SHUTDOWN_TIMEOUT_MS: '1', // not a variable the server reads
    });
    expect(config).toMatchObject({
      pchannels: 8,
      cluster: 'env',
      wal: 'memory',
      writeAheadBufferMiB: 48,
      shutdownTimeoutMs: 500,
      broadcastDedupWindowMs: 1,
    });
  });

  it('rejects bad values with a ConfigError naming each one and its source, then the usage', () => {
    let error: unknown;
    try {
      loadConfig(['--pchannels', '0', '--bogus'], { STREAMSVC_HTTP: 'nowhere' });
    } catch (e) {
      error = e;
    }
    expect(ConfigError.is(error, 'INVALID_CONFIG')).toBe(true);
    const message = (error as ConfigError).message;
    expect(message).toContain('--bogus: unknown flag');
    expect(message).toContain('http: expected host:port, e.g. 127.0.0.1:19540 (env STREAMSVC_HTTP)');
    expect(message).toContain('pchannels: Too small: expected number to be >=1 (flag --pchannels)');
    expect(message.endsWith(`\n${USAGE}`)).toBe(true);
  });

  it('reports --help', () => {
    expect(loadConfig(['-h'], {}).help).toBe(true);
  });

  it('reads exactly the flags and variables its README documents, with the same defaults', () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Lifecycle'));
    const documented = [
      ...section.matchAll(/^\| `(--[a-z-]+)` +\| `(STREAMSVC_[A-Z_]+)` +\| (?:`([^`]+)`|—) +\|/gm),
    ].map((m) => [m[1], m[2], m[3] ?? '—']);
    const read = standaloneConfigLoader.fields
      .filter((f) => f.flag !== undefined || f.env !== undefined)
      .map((f) => [
        f.flag,
        f.env,
        f.defaultValue === undefined || f.defaultValue === '' ? '—' : String(f.defaultValue),
      ]);
    expect(read).toEqual(documented);
  });
});
