import { ConsumeResponse, ProduceRequest, ProduceResponse, StreamingNodeHandlerServiceService } from './index.js';

describe('generated protocol', () => {
  it('round-trips a produce request carrying several encoded messages', () => {
    const request: ProduceRequest = {
      request: { $case: 'produce', produce: { requestId: 7n, messages: [Buffer.from([1, 2]), Buffer.from([3])] } },
    };
    expect(ProduceRequest.decode(ProduceRequest.encode(request).finish())).toEqual(request);
  });

  it('round-trips results and errors in completion order', () => {
    const response: ProduceResponse = {
      response: {
        $case: 'produce',
        produce: {
          requestId: 9n,
          outcomes: [
            { outcome: { $case: 'ok', ok: { messageId: 'v1:3', timeTick: 1n << 60n, lastConfirmed: 'v1:1' } } },
            { outcome: { $case: 'error', error: { code: 101, message: 'dropped', retriable: false } } },
          ],
        },
      },
    };
    expect(ProduceResponse.decode(ProduceResponse.encode(response).finish())).toEqual(response);
  });

  it('carries a transaction as its parts', () => {
    const response: ConsumeResponse = {
      response: {
        $case: 'messages',
        messages: {
          messages: [
            {
              message: {
                $case: 'txn',
                txn: { begin: Buffer.from([1]), body: [Buffer.from([2])], commit: Buffer.from([3]) },
              },
            },
          ],
        },
      },
    };
    expect(ConsumeResponse.decode(ConsumeResponse.encode(response).finish())).toEqual(response);
  });

  it('describes Produce and Consume as bidirectional streams for grpc-js', () => {
    expect(StreamingNodeHandlerServiceService.produce.requestStream).toBe(true);
    expect(StreamingNodeHandlerServiceService.produce.responseStream).toBe(true);
    expect(StreamingNodeHandlerServiceService.consume.path).toBe(
      '/streamsvc.streaming.v1.StreamingNodeHandlerService/Consume',
    );
  });
});
