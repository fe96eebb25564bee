import { expectMessageError } from '../test/support/fixtures.js';
import { counterMessageIdCodec } from './counter-message-id.js';
import { MessageIdCodecs } from './message-id-codecs.js';
import { segmentEntryMessageIdCodec } from './segment-entry-message-id.js';

const codecs = MessageIdCodecs.of([
  counterMessageIdCodec('memory'),
  segmentEntryMessageIdCodec('woodpecker'),
  counterMessageIdCodec('kafka'),
]);

describe('MessageIdCodecs', () => {
  it('finds the codec of each wal name and parses its ids', () => {
    expect(codecs.walNames).toEqual(['kafka', 'memory', 'woodpecker']);
    expect(codecs.has('kafka')).toBe(true);
    expect(codecs.has('pulsar')).toBe(false);
    expect(codecs.get('woodpecker').walName).toBe('woodpecker');
    const id = codecs.parse('woodpecker', 'v1:2:5');
    expect(id.walName).toBe('woodpecker');
    expect(id.toString()).toBe('v1:2:5');
  });

  it('reports an unknown wal with UNKNOWN_WAL_NAME listing the known names', () => {
    const text = expectMessageError(() => codecs.get('pulsar'), 'UNKNOWN_WAL_NAME');
    expect(text).toContain('"pulsar"');
    expect(text).toContain('kafka, memory, woodpecker');
    expect(expectMessageError(() => MessageIdCodecs.of([]).parse('x', 'v1:1'), 'UNKNOWN_WAL_NAME')).toContain('(none)');
  });

  it('rejects two codecs for one wal name with DUPLICATE_WAL_NAME', () => {
    expect(
      expectMessageError(
        () => MessageIdCodecs.of([counterMessageIdCodec('memory'), counterMessageIdCodec('memory')]),
        'DUPLICATE_WAL_NAME',
      ),
    ).toContain('"memory"');
  });

  it('passes parse errors of the codec through', () => {
    expectMessageError(() => codecs.parse('memory', 'v1:x'), 'INVALID_MESSAGE_ID');
  });

  it('is not changed by later changes to the list it was built from', () => {
    const list = [counterMessageIdCodec('memory')];
    const built = MessageIdCodecs.of(list);
    list.push(counterMessageIdCodec('kafka'));
    expect(built.walNames).toEqual(['memory']);
  });
});
