import { ConfigError, helpText, loadConfig } from './config.js';

describe('streaming node configuration', () => {
  it('defaults to local etcd, loopback ports and a local Woodpecker directory', () => {
    expect(loadConfig([], {})).toMatchObject({
      etcd: 'http://127.0.0.1:2379',
      root: 'streamsvc',
      listen: '127.0.0.1:19541',
      http: '127.0.0.1:9191',
      storage: 'local',
      walDir: './data/wal',
      sessionTtlMs: 10_000,
      help: false,
    });
  });

  it('reads flags over STREAMSVC_* variables, S3 credentials from the environment', () => {
    const config = loadConfig(
      ['--storage', 's3', '--s3-endpoint', 'http://127.0.0.1:9000', '--s3-bucket', 'wal', '--session-ttl-ms', '3000'],
      { STREAMSVC_SESSION_TTL_MS: '9000', STREAMSVC_S3_ACCESS_KEY: 'ak', STREAMSVC_S3_SECRET_KEY: 'sk' },
    );
    expect(config).toMatchObject({ storage: 's3', s3Bucket: 'wal', s3AccessKey: 'ak', sessionTtlMs: 3000 });
  });

  it('names every bad value and its source at once', () => {
    let error: unknown;
    try {
      loadConfig(['--etcd', '127.0.0.1:2379', '--storage', 's3', '--session-ttl-ms', '10'], {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/etcd: expected http:\/\/host:port.*\(flag --etcd\)/);
    expect(message).toMatch(/sessionTtlMs: .*>=1000 \(flag --session-ttl-ms\)/);
    expect(message).toMatch(/s3Bucket: required \(set --s3-bucket or STREAMSVC_S3_BUCKET\)/);
    expect(message).toMatch(/s3SecretKey: required \(set STREAMSVC_S3_SECRET_KEY\)/);
  });

  it('--help lists every setting with its flag, variable and default', () => {
    expect(loadConfig(['--help'], {}).help).toBe(true);
    const help = helpText();
    expect(help).toMatch(/^usage: streamsvc-node/);
    expect(help).toMatch(/sessionTtlMs\s+--session-ttl-ms MS\s+STREAMSVC_SESSION_TTL_MS\s+10000/);
    expect(help).toMatch(/s3SecretKey\s+STREAMSVC_S3_SECRET_KEY/);
  });
});
