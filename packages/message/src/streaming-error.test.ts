import {
  STREAMING_ERROR_NUMBERS,
  StreamingError,
  StreamingErrorCode,
  stripStreamingPrefix,
} from './streaming-error.js';

describe('StreamingError', () => {
  it('marks topology and transient codes retriable and client mistakes not', () => {
    expect(new StreamingError('CHANNEL_FENCED', 'x').retriable).toBe(true);
    expect(new StreamingError('UNMATCHED_CHANNEL_TERM', 'x').retriable).toBe(true);
    expect(new StreamingError('ON_SHUTDOWN', 'x').retriable).toBe(true);
    expect(new StreamingError('INVALID_ARGUMENT', 'x').retriable).toBe(false);
    expect(new StreamingError('VCHANNEL_DROPPED', 'x').retriable).toBe(false);
    expect(new StreamingError('TRANSACTION_EXPIRED', 'x').retriable).toBe(false);
  });

  it('tells a client when the node it talked to is not the owner', () => {
    expect(StreamingError.isWrongNode(new StreamingError('CHANNEL_NOT_EXIST', 'x'))).toBe(true);
    expect(StreamingError.isWrongNode(new StreamingError('INNER', 'x'))).toBe(false);
    expect(StreamingError.isWrongNode(new Error('x'))).toBe(false);
  });

  it('gives every code a distinct wire number and maps numbers back', () => {
    const numbers = Object.values(STREAMING_ERROR_NUMBERS);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const code of Object.values(StreamingErrorCode)) {
      expect(StreamingError.codeOfNumber(STREAMING_ERROR_NUMBERS[code])).toBe(code);
    }
    expect(StreamingError.codeOfNumber(12345)).toBe('UNKNOWN');
  });

  it('is recognised by code and prefixes its message', () => {
    const e = new StreamingError('VCHANNEL_DROPPED', 'collection 7 was dropped');
    expect(StreamingError.is(e, 'VCHANNEL_DROPPED')).toBe(true);
    expect(StreamingError.is(e, 'INNER')).toBe(false);
    expect(e.message).toBe('[streaming] collection 7 was dropped');
  });

  it('rebuilds an error from its message without doubling the prefix', () => {
    const sent = new StreamingError('COORDINATOR_NOT_ACTIVE', 'this coordinator is a standby');
    const rebuilt = new StreamingError(sent.code, stripStreamingPrefix(sent.message));
    expect(rebuilt.message).toBe(sent.message);
    expect(stripStreamingPrefix('from an older peer')).toBe('from an older peer');
    expect(stripStreamingPrefix('[streaming]')).toBe('[streaming]');
    expect(stripStreamingPrefix('[streaming] [streaming] twice')).toBe('[streaming] twice');
  });
});
