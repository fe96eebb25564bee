import { WalError, WalErrorCode } from '@streamsvc/wal-core';

import { toWalError } from './errors.js';

// Shapes of what kafkajs 2.2.4 throws (src/errors.js): a protocol error carries the broker's `type`
// and numeric `code`; client errors are told apart by `name`; KafkaJSNumberOfRetriesExceeded wraps
// the last failure in `cause`.
function protocol(type: string, code: number, retriable = false): Error {
  return Object.assign(new Error(`broker says ${type}`), { name: 'KafkaJSProtocolError', type, code, retriable });
}
function client(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`client says ${name}`), { name, ...extra });
}
function retriesExceeded(cause: Error): Error {
  return Object.assign(new Error(cause.message), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause });
}

const cases: readonly [string, unknown, WalErrorCode, boolean][] = [
  // [what, thrown, expected code, expected retriable]
  ['connection refused', client('KafkaJSConnectionError', { code: 'ECONNREFUSED' }), 'UNAVAILABLE', true],
  ['connection closed', client('KafkaJSConnectionClosedError'), 'UNAVAILABLE', true],
  ['request timeout', client('KafkaJSRequestTimeoutError'), 'UNAVAILABLE', true],
  ['broker not in metadata', client('KafkaJSBrokerNotFound'), 'UNAVAILABLE', true],
  ['no broker available', client('KafkaJSNoBrokerAvailableError'), 'UNAVAILABLE', true],
  ['retries exhausted on a refused connection', retriesExceeded(client('KafkaJSConnectionError')), 'UNAVAILABLE', true],
  [
    'retries exhausted on a leader change',
    retriesExceeded(protocol('NOT_LEADER_FOR_PARTITION', 6, true)),
    'UNAVAILABLE',
    true,
  ],
  ['leader not available', protocol('LEADER_NOT_AVAILABLE', 5, true), 'UNAVAILABLE', true],
  ['not enough replicas', protocol('NOT_ENOUGH_REPLICAS', 19, true), 'UNAVAILABLE', true],
  ['broker request timed out', protocol('REQUEST_TIMED_OUT', 7, true), 'UNAVAILABLE', true],
  ['bare socket reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'UNAVAILABLE', true],
  ['unknown topic', protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true), 'UNAVAILABLE', false],
  [
    'retries exhausted on an unknown topic',
    retriesExceeded(protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true)),
    'UNAVAILABLE',
    false,
  ],
  ['invalid topic name', protocol('INVALID_TOPIC_EXCEPTION', 17), 'INVALID_ARGUMENT', false],
  ['message too large', protocol('MESSAGE_TOO_LARGE', 10), 'INVALID_ARGUMENT', false],
  ['record list too large', protocol('RECORD_LIST_TOO_LARGE', 18), 'INVALID_ARGUMENT', false],
  ['fenced by producer epoch', protocol('INVALID_PRODUCER_EPOCH', 47), 'FENCED', false],
  ['producer fenced (named)', protocol('PRODUCER_FENCED', 90), 'FENCED', false],
  // kafkajs 2.2.4 does not know code 90 and reports it as an unknown server error.
  ['producer fenced (code 90 only)', protocol('KAFKASERVER_UNKNOWN_ERROR', 90), 'FENCED', false],
  [
    'offset out of range',
    client('KafkaJSOffsetOutOfRange', { type: 'OFFSET_OUT_OF_RANGE', code: 1 }),
    'INVALID_MESSAGE_ID',
    false,
  ],
  ['api not supported by the broker', client('KafkaJSServerDoesNotSupportApiKey'), 'UNAVAILABLE', false],
  ['authorization failed', protocol('TOPIC_AUTHORIZATION_FAILED', 29), 'UNAVAILABLE', false],
  ['truncated response', client('KafkaJSPartialMessageError'), 'CORRUPT', false],
  ['unknown protocol error', protocol('SOMETHING_NEW', 999), 'UNAVAILABLE', false],
  ['a plain Error', new Error('boom'), 'UNAVAILABLE', false],
  ['not an error at all', 'a string', 'UNAVAILABLE', false],
];

describe('toWalError', () => {
  it.each(cases)('translates %s', (_what, thrown, code, retriable) => {
    const e = toWalError(thrown, 'append on pchannel "p"');
    expect(WalError.is(e, code)).toBe(true);
    expect((e as WalError).retriable).toBe(retriable);
    expect(e.message).toContain('append on pchannel "p"');
    expect((e as WalError).cause).toBe(thrown);
  });

  it('passes WalErrors through unchanged', () => {
    const e = new WalError(WalErrorCode.CLOSED, 'closed');
    expect(toWalError(e, 'x')).toBe(e);
  });

  it('passes an abort error through unchanged, so callers see their own reason', () => {
    const abort = new DOMException('stop', 'AbortError');
    expect(toWalError(abort, 'x')).toBe(abort);
  });

  it('names the broker error type and gives a hint in the message', () => {
    const e = toWalError(protocol('MESSAGE_TOO_LARGE', 10), 'append');
    expect(e.message).toContain('MESSAGE_TOO_LARGE');
    expect(e.message).toContain('maxMessageBytes');
  });

  it('stops unwrapping a cyclic cause chain', () => {
    const a = client('KafkaJSNumberOfRetriesExceeded');
    const b = client('KafkaJSNonRetriableError', { cause: a });
    Object.assign(a, { cause: b });
    expect(WalError.is(toWalError(a, 'x'), WalErrorCode.UNAVAILABLE)).toBe(true);
  });
});
