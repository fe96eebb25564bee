import { ConfigError, loadConfig } from './config.js';

describe('coordinator configuration', () => {
  it('defaults to local etcd, loopback ports and 16 pchannels', () => {
    expect(loadConfig([], {})).toMatchObject({
      etcd: 'http://127.0.0.1:2379',
      root: 'streamsvc',
      cluster: 'by-dev',
      pchannels: 16,
      listen: '127.0.0.1:19530',
      http: '127.0.0.1:9190',
      sessionTtlMs: 10_000,
      broadcastDedupWindowMs: 600_000,
      broadcastDedupMaxEntries: 10_000,
      help: false,
    });
  });

  it('takes several etcd endpoints and flags over STREAMSVC_* variables', () => {
    const config = loadConfig(['--etcd', 'http://10.0.0.1:2379,http://10.0.0.2:2379', '--pchannels', '8'], {
      STREAMSVC_PCHANNELS: '4',
      STREAMSVC_ROOT: 'prod/a',
    });
    expect(config).toMatchObject({ etcd: 'http://10.0.0.1:2379,http://10.0.0.2:2379', pchannels: 8, root: 'prod/a' });
  });

  it('refuses bad values with every problem named', () => {
    expect(() => loadConfig(['--pchannels', '0', '--listen', 'nowhere'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--pchannels', '0', '--listen', 'nowhere'], {})).toThrow(/pchannels[\s\S]*listen/);
    expect(() => loadConfig(['--no-such-flag'], {})).toThrow(/no-such-flag/);
  });
});
