import { resolveClientOptions } from './client-options.js';

describe('resolveClientOptions', () => {
  it('fills in defaults', () => {
    const o = resolveClientOptions({ endpoint: '127.0.0.1:19540' });
    expect(o.retryBackoff).toEqual({ initialMs: 100, maxMs: 2_000 });
    expect(o.discoveryBackoff).toEqual({ initialMs: 50, maxMs: 1_000 });
    expect(o.idCodecs.walNames).toEqual(['kafka', 'memory', 'woodpecker']);
    expect(o.channelOptions['grpc.max_receive_message_length']).toBe(64 * 1024 * 1024);
    expect(o.maxBatchMessages).toBe(256);
    expect(o.defaultTimeoutMs).toBe(120_000);
  });

  it('takes defaultTimeoutMs as given', () => {
    expect(resolveClientOptions({ endpoint: 'h:1', defaultTimeoutMs: 1 }).defaultTimeoutMs).toBe(1);
    expect(resolveClientOptions({ endpoint: 'h:1', defaultTimeoutMs: 2 ** 31 - 1 }).defaultTimeoutMs).toBe(2 ** 31 - 1);
  });

  it.each([
    [0, 'defaultTimeoutMs must be a positive integer, got 0'],
    [-5, 'defaultTimeoutMs must be a positive integer, got -5'],
    [1.5, 'defaultTimeoutMs must be a positive integer, got 1.5'],
    [Number.NaN, 'defaultTimeoutMs must be a positive integer, got NaN'],
    [Number.POSITIVE_INFINITY, 'defaultTimeoutMs must be a positive integer, got Infinity'],
    [2 ** 31, 'defaultTimeoutMs must be at most 2147483647 ms, got 2147483648'],
  ])('rejects defaultTimeoutMs %p with INVALID_ARGUMENT saying why', (defaultTimeoutMs, problem) => {
    expect(() => resolveClientOptions({ endpoint: 'h:1', defaultTimeoutMs })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: `[streaming] StreamingClient options: ${problem}` }),
    );
  });

  it('lets channel options override the defaults', () => {
    const o = resolveClientOptions({
      endpoint: 'node-1:1',
      channelOptions: { 'grpc.initial_reconnect_backoff_ms': 7 },
    });
    expect(o.channelOptions['grpc.initial_reconnect_backoff_ms']).toBe(7);
  });

  it.each([
    [{ endpoint: 'localhost' }, 'endpoint'],
    [{ endpoint: 'h:0' }, 'endpoint'],
    [{ endpoint: 'h:70000' }, 'endpoint'],
    [{ endpoint: 'h:1', maxBatchBytes: 0 }, 'maxBatchBytes'],
    [{ endpoint: 'h:1', createTimeoutMs: 1.5 }, 'createTimeoutMs'],
    [{ endpoint: 'h:1', retryBackoff: { initialMs: 10, maxMs: 5 } }, 'retryBackoff'],
  ])('rejects %j naming %s', (options, name) => {
    expect(() => resolveClientOptions(options)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(name) }),
    );
  });

  it('accepts bracketed IPv6 endpoints', () => {
    expect(resolveClientOptions({ endpoint: '[::1]:19540' }).endpoints).toEqual(['[::1]:19540']);
  });

  it('takes a single endpoint as a list of one', () => {
    expect(resolveClientOptions({ endpoint: '127.0.0.1:19540' }).endpoints).toEqual(['127.0.0.1:19540']);
  });

  it('splits a comma-separated endpoint string, trimming entries and dropping duplicates in order', () => {
    expect(resolveClientOptions({ endpoint: ' a:1, b:2 ,a:1,[::1]:3' }).endpoints).toEqual(['a:1', 'b:2', '[::1]:3']);
  });

  it('takes a list of endpoints, dropping duplicates in order', () => {
    expect(resolveClientOptions({ endpoint: ['b:2', 'a:1', 'b:2'] }).endpoints).toEqual(['b:2', 'a:1']);
  });

  it.each([
    [['a:1', 'nope'], '"nope"'],
    ['a:1,b:0', '"b:0"'],
    ['a:1,,b:2', '""'],
    ['a:1,', '""'],
    ['', '""'],
  ])('rejects the endpoint list %j naming the bad entry %s', (endpoint, entry) => {
    expect(() => resolveClientOptions({ endpoint })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`endpoint ${entry}`) }),
    );
  });

  it('rejects an empty endpoint list', () => {
    expect(() => resolveClientOptions({ endpoint: [] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('at least one host:port') }),
    );
  });
});
