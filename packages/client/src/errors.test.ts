import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { MessageError, STREAMING_ERROR_NUMBERS, StreamingError } from '@streamsvc/message';
import { StreamingErrorInfo } from '@streamsvc/proto';

import {
  clientClosedError,
  errorFromGrpc,
  errorFromWire,
  isAbortReason,
  isEndpointFailure,
  STREAMING_ERROR_METADATA_KEY,
  toStreamingError,
} from './errors.js';

const grpcError = (code: number, details = 'boom', metadata = new Metadata()): ServiceError =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata });

describe('error translation', () => {
  it.each([
    ['CHANNEL_FENCED', true],
    ['UNMATCHED_CHANNEL_TERM', true],
    ['ON_SHUTDOWN', true],
    ['INNER', true],
    ['VCHANNEL_DROPPED', false],
    ['INVALID_ARGUMENT', false],
    ['TRANSACTION_EXPIRED', false],
  ] as const)(
    'rebuilds %s from the wire with retriable=%s and the text without a doubled prefix',
    (code, retriable) => {
      const e = errorFromWire(
        { code: STREAMING_ERROR_NUMBERS[code], message: `[streaming] what happened`, retriable: !retriable },
        'append',
      );
      expect(e).toMatchObject({ code, retriable, message: '[streaming] what happened' });
    },
  );

  it('maps an unknown wire number to UNKNOWN, keeping the server retriable flag', () => {
    expect(errorFromWire({ code: 4242, message: 'new', retriable: true }, 'x')).toMatchObject({
      code: 'UNKNOWN',
      retriable: true,
    });
    expect(errorFromWire(undefined, 'append')).toMatchObject({ code: 'UNKNOWN', retriable: false });
  });

  it.each([
    [status.UNAVAILABLE, 'INNER', true],
    [status.CANCELLED, 'INNER', true],
    [status.INTERNAL, 'INNER', true],
    [status.DEADLINE_EXCEEDED, 'INNER', true],
    [status.INVALID_ARGUMENT, 'INVALID_ARGUMENT', false],
    [status.RESOURCE_EXHAUSTED, 'INVALID_ARGUMENT', false],
    [status.UNIMPLEMENTED, 'UNKNOWN', false],
    [status.PERMISSION_DENIED, 'UNKNOWN', false],
    [status.DATA_LOSS, 'UNRECOVERABLE', false],
  ])('maps gRPC status %s to %s (retriable %s)', (grpcCode, code, retriable) => {
    const e = errorFromGrpc(grpcError(grpcCode), 'broadcast');
    expect(e).toMatchObject({ code, retriable });
    expect(e.message).toContain('broadcast: gRPC');
  });

  it('prefers a StreamingErrorInfo attached to the status metadata', () => {
    const metadata = new Metadata();
    const info = { code: STREAMING_ERROR_NUMBERS.RESOURCE_ACQUIRED, message: 'lock held', retriable: true };
    metadata.set(STREAMING_ERROR_METADATA_KEY, Buffer.from(StreamingErrorInfo.encode(info).finish()));
    expect(errorFromGrpc(grpcError(status.FAILED_PRECONDITION, 'x', metadata), 'broadcast')).toMatchObject({
      code: 'RESOURCE_ACQUIRED',
      retriable: true,
      message: '[streaming] lock held',
    });
  });

  it('turns anything into a StreamingError exactly once', () => {
    const s = new StreamingError('INNER', 'x');
    expect(toStreamingError(s, 'c')).toBe(s);
    expect(toStreamingError(new MessageError('INVALID_MESSAGE', 'bad'), 'append')).toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(toStreamingError(new TypeError('oops'), 'c')).toMatchObject({ code: 'UNKNOWN', retriable: false });
    expect(toStreamingError(grpcError(status.UNAVAILABLE), 'c')).toMatchObject({ code: 'INNER', retriable: true });
  });

  const notActive = (): Metadata => {
    const metadata = new Metadata();
    const info = { code: STREAMING_ERROR_NUMBERS.COORDINATOR_NOT_ACTIVE, message: 'standby', retriable: true };
    metadata.set(STREAMING_ERROR_METADATA_KEY, Buffer.from(StreamingErrorInfo.encode(info).finish()));
    return metadata;
  };

  it.each([
    ['a standby (COORDINATOR_NOT_ACTIVE details)', grpcError(status.FAILED_PRECONDITION, 'x', notActive()), true],
    ['gRPC UNAVAILABLE (connection refused)', grpcError(status.UNAVAILABLE), true],
    ['gRPC DEADLINE_EXCEEDED', grpcError(status.DEADLINE_EXCEEDED), true],
    ['a coordinator shutting down', new StreamingError('ON_SHUTDOWN', 'bye'), true],
    ['the client being closed', clientClosedError(), false],
    ['gRPC CANCELLED', grpcError(status.CANCELLED), false],
    ['gRPC INVALID_ARGUMENT', grpcError(status.INVALID_ARGUMENT), false],
    ['RESOURCE_ACQUIRED', new StreamingError('RESOURCE_ACQUIRED', 'lock held'), false],
    ['FAILED_PRECONDITION without details', grpcError(status.FAILED_PRECONDITION), false],
  ])('counts %s as an endpoint failure: %s', (_what, e, expected) => {
    expect(isEndpointFailure(toStreamingError(e, 'broadcast'))).toBe(expected);
  });

  it('recognises an abort reason only when the signal aborted', () => {
    const reason = new Error('r');
    const controller = new AbortController();
    expect(isAbortReason(reason, controller.signal)).toBe(false);
    controller.abort(reason);
    expect(isAbortReason(reason, controller.signal)).toBe(true);
    expect(isAbortReason(new Error('other'), controller.signal)).toBe(false);
    expect(isAbortReason(reason, undefined)).toBe(false);
  });
});
