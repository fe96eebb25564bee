import { decodeMessage, encodeMessage } from './encoding.js';
import { MessageBuilder } from './message-builder.js';
import { PayloadArena } from './payload-arena.js';

const VCHANNEL = 'by-dev-dml_0_449v0';
const encoded = (fill: number, length: number): Uint8Array =>
  encodeMessage(MessageBuilder.data(new Uint8Array(length).fill(fill)).vchannel(VCHANNEL).build());

describe('PayloadArena', () => {
  it('holds the payloads of the messages it was made for in one buffer, copied out of the input', () => {
    const inputs = [encoded(1, 3000), encoded(2, 10), encoded(3, 3000)];
    const request = Buffer.concat(inputs);
    let at = 0;
    const views = inputs.map((m) => request.subarray(at, (at += m.byteLength)));
    const arena = PayloadArena.forInputs(views);
    const messages = views.map((v) => decodeMessage(v, { arena }));
    expect(messages.map((m) => [m.payload.byteLength, m.payload[0]])).toEqual([
      [3000, 1],
      [10, 2],
      [3000, 3],
    ]);
    expect(new Set(messages.map((m) => m.payload.buffer)).size).toBe(1);
    expect(messages[0]?.payload.buffer).not.toBe(request.buffer);
    request.fill(0);
    expect(messages.every((m, i) => m.payload.every((b) => b === [1, 2, 3][i]))).toBe(true);
  });

  it('copies a payload that no longer fits into a buffer of its own', () => {
    const small = encoded(1, 10);
    const arena = PayloadArena.forInputs([small]);
    const first = decodeMessage(small, { arena });
    const second = decodeMessage(encoded(2, 5000), { arena });
    expect([first.payload[0], second.payload.byteLength, second.payload[4999]]).toEqual([1, 5000, 2]);
    expect(second.payload.buffer).not.toBe(first.payload.buffer);
  });

  it('copies a payload over 16 KiB alone and leaves the room to the small ones', () => {
    const inputs = [encoded(1, 20_000), encoded(2, 100)];
    const arena = PayloadArena.forInputs(inputs);
    const [large, small] = inputs.map((m) => decodeMessage(m, { arena }));
    expect(large?.payload.buffer).not.toBe(small?.payload.buffer);
    expect(small?.payload.buffer.byteLength).toBeLessThan(20_000); // the arena did not count the large one
  });

  it('copies exactly the given range', () => {
    const arena = PayloadArena.forInputs([new Uint8Array(8)]);
    const copy = arena.copy(Uint8Array.from([9, 8, 7, 6, 5]), 1, 4);
    expect([...copy]).toEqual([8, 7, 6]);
  });
});
