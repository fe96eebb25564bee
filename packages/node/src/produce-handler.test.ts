import { decodeMessage, encodeMessage, MessageBuilder, vchannelName } from '@streamsvc/message';
import { decodeProduceRequest, ProduceRequest } from '@streamsvc/proto';

describe('the produce path', () => {
  it('stores messages that do not keep the whole produce request alive', () => {
    // decodeProduceRequest hands out views of the request; the produce handler relies on the message
    // decoder copying the payload out, or the write-ahead buffer would pin every request it saw.
    const vchannel = vchannelName('by-dev-dml_0', 1n, 0);
    const messages = [1, 2].map((n) =>
      Buffer.from(encodeMessage(MessageBuilder.data(new Uint8Array(100).fill(n)).vchannel(vchannel).build())),
    );
    const requestBytes = ProduceRequest.encode({
      request: { $case: 'produce', produce: { requestId: 1n, messages } },
    }).finish();
    const request = decodeProduceRequest(requestBytes).request;
    const views = request?.$case === 'produce' ? request.produce.messages : [];
    expect(views.map((v) => v.buffer === requestBytes.buffer)).toEqual([true, true]);
    const decoded = views.map((v) => decodeMessage(v));
    expect(decoded.map((m) => m.payload[0])).toEqual([1, 2]);
    expect(decoded.some((m) => m.payload.buffer === requestBytes.buffer)).toBe(false);
  });
});
