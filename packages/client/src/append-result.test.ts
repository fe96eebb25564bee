import { counterMessageIdCodec, segmentEntryMessageIdCodec, StreamingError } from '@streamsvc/message';

import { appendResultFromWire } from './append-result.js';

const woodpecker = segmentEntryMessageIdCodec('woodpecker');
const memory = counterMessageIdCodec('memory');
const wire = (messageId: string, lastConfirmed: string) => ({ messageId, timeTick: 9n, lastConfirmed, txn: undefined });

describe('appendResultFromWire', () => {
  it('parses the id and the last-confirmed id with the codec, one result after another', () => {
    const results = [
      appendResultFromWire(wire('v1:1:5', 'v1:1:2'), woodpecker),
      appendResultFromWire(wire('v1:1:6', 'v1:1:2'), woodpecker),
      appendResultFromWire(wire('v1:1:7', 'v1:1:6'), woodpecker),
      appendResultFromWire(wire('v1:3', 'v1:2'), memory),
    ];
    expect(results.map((r) => [r.id.toString(), r.lastConfirmed.toString(), r.lastConfirmed.walName])).toEqual([
      ['v1:1:5', 'v1:1:2', 'woodpecker'],
      ['v1:1:6', 'v1:1:2', 'woodpecker'],
      ['v1:1:7', 'v1:1:6', 'woodpecker'],
      ['v1:3', 'v1:2', 'memory'],
    ]);
    expect(results[0]?.txnContext).toBeUndefined();
  });

  it('carries the txn a BeginTxn opened', () => {
    const r = appendResultFromWire({ ...wire('v1:1', 'v1:1'), txn: { txnId: 4n, keepaliveMs: 500 } }, memory);
    expect(r.txnContext).toEqual({ txnId: 4n, keepaliveMs: 500 });
  });

  it('fails with UNKNOWN on an id the codec cannot parse', () => {
    expect(() => appendResultFromWire(wire('v1:1', 'nope'), memory)).toThrow(StreamingError);
    expect(() => appendResultFromWire(wire('v1:1:2', 'v1:1'), memory)).toThrow(/unparsable append result/);
  });
});
