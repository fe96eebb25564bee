import { BrokenCircuitError } from 'cockatiel';
import {
  ClientClosedError,
  EtcdError,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCInternalError,
  GRPCInvalidArgumentError,
  GRPCOutOfRangeError,
  GRPCUnavailableError,
  castGrpcError,
} from 'etcd3';

import { MetaKvError } from './errors.js';
import type { MetaKvErrorCode } from './errors.js';
import { loadEtcd3, toMetaKvError } from './etcd-meta-kv.js';

const grpc = (code: number, details: string): Error => Object.assign(new Error(`${code} ${details}`), { code });

describe('toMetaKvError', () => {
  // etcd3 is loaded by the first connect; these errors come from it without one.
  beforeAll(() => loadEtcd3());

  it.each<[string, unknown, MetaKvErrorCode, RegExp]>([
    [
      'a read at a compacted revision',
      new GRPCOutOfRangeError('11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted'),
      'COMPACTED',
      /revision is compacted/,
    ],
    [
      'a read at a future revision',
      new GRPCOutOfRangeError('11 OUT_OF_RANGE: etcdserver: mvcc: required revision is a future revision'),
      'INVALID_ARGUMENT',
      /future revision/,
    ],
    ['a put with an expired lease', new EtcdLeaseInvalidError('5'), 'LEASE_NOT_FOUND', /lease does not exist/],
    [
      'a lease error cast from grpc',
      castGrpcError(grpc(5, 'NOT_FOUND: etcdserver: requested lease not found')),
      'LEASE_NOT_FOUND',
      /lease/,
    ],
    [
      'a duplicate key in a txn',
      new GRPCInvalidArgumentError('3 INVALID_ARGUMENT: etcdserver: duplicate key given in txn request'),
      'INVALID_ARGUMENT',
      /duplicate key/,
    ],
    [
      'too many txn ops',
      castGrpcError(grpc(3, 'INVALID_ARGUMENT: etcdserver: too many operations in txn request')),
      'INVALID_ARGUMENT',
      /too many operations/,
    ],
    [
      'permission denied',
      new EtcdPermissionDeniedError('etcdserver: permission denied'),
      'INVALID_ARGUMENT',
      /permission denied/,
    ],
    [
      'an unreachable etcd',
      new GRPCUnavailableError('14 UNAVAILABLE: No connection established'),
      'UNAVAILABLE',
      /unavailable/,
    ],
    [
      'a request deadline',
      new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'),
      'UNAVAILABLE',
      /unavailable/,
    ],
    ['an internal error', new GRPCInternalError('13 INTERNAL: boom'), 'UNAVAILABLE', /unavailable/],
    ['an open circuit breaker', new BrokenCircuitError(), 'UNAVAILABLE', /unavailable/],
    ['a closed client', new ClientClosedError('KV'), 'CLOSED', /closed store/],
    ['a watch cancelled for no stated reason', new EtcdError('Watcher canceled: '), 'UNAVAILABLE', /Watcher canceled/],
    ['something unknown', new Error('weird'), 'UNAVAILABLE', /weird/],
  ])('translates %s', (_what, error, code, message) => {
    const translated = toMetaKvError(error, 'op');
    expect(MetaKvError.is(translated, code)).toBe(true);
    expect((translated as Error).message).toMatch(message);
    if (code !== 'CLOSED') expect((translated as Error).cause).toBe(error);
    expect((translated as MetaKvError).retriable).toBe(code === 'UNAVAILABLE');
  });

  it('passes MetaKvErrors and abort reasons through unchanged', () => {
    const own = new MetaKvError('SESSION_LOST', 'x');
    expect(toMetaKvError(own, 'op')).toBe(own);
    const abort = new DOMException('stop', 'AbortError');
    expect(toMetaKvError(abort, 'op')).toBe(abort);
  });
});
