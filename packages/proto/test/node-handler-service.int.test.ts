import { credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';

import { StreamingNodeHandlerServiceClient, StreamingNodeHandlerServiceService } from '../src/index.js';
import type { ConsumeRequest, ConsumeResponse, ProduceRequest, ProduceResponse } from '../src/index.js';

// The response serializers hand grpc-js a view of a buffer that the next encode overwrites; that is
// only sound because a grpc-js server copies every serialized response into its frame at once. If a
// grpc-js upgrade ever keeps the bytes instead, the responses written in a row here arrive corrupted.
describe('the node handler service over a real grpc-js server', () => {
  let server: Server;
  let client: StreamingNodeHandlerServiceClient;

  beforeAll(async () => {
    server = new Server();
    server.addService(StreamingNodeHandlerServiceService, {
      produce: (call: ServerDuplexStream<ProduceRequest, ProduceResponse>) => {
        call.on('data', (request: ProduceRequest) => {
          if (request.request?.$case !== 'produce') return;
          const { requestId, messages } = request.request.produce;
          // One response per message, all written in the same tick.
          messages.forEach((m, i) =>
            call.write({
              response: {
                $case: 'produce',
                produce: {
                  requestId: requestId + BigInt(i),
                  outcomes: [
                    { outcome: { $case: 'ok', ok: { messageId: m.toString('hex'), timeTick: 1n, lastConfirmed: '' } } },
                  ],
                },
              },
            }),
          );
          call.end();
        });
      },
      consume: (call: ServerDuplexStream<ConsumeRequest, ConsumeResponse>) => {
        call.on('data', () => {
          for (let i = 0; i < 20; i++) {
            const single = Buffer.alloc(1000 + i * 3000, i);
            call.write({
              response: { $case: 'messages', messages: { messages: [{ message: { $case: 'single', single } }] } },
            });
          }
          call.end();
        });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    client = new StreamingNodeHandlerServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  it('delivers every produce response written in a row intact', async () => {
    const messages = Array.from({ length: 50 }, (_, i) => Buffer.from(`message ${i} `.repeat(i + 1)));
    const call = client.produce();
    const received: ProduceResponse[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (r: ProduceResponse) => received.push(r));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write({ request: { $case: 'produce', produce: { requestId: 100n, messages } } });
    await ended;
    expect(received.map((r) => (r.response?.$case === 'produce' ? r.response.produce : undefined))).toEqual(
      messages.map((m, i) => ({
        requestId: 100n + BigInt(i),
        outcomes: [{ outcome: { $case: 'ok', ok: { messageId: m.toString('hex'), timeTick: 1n, lastConfirmed: '' } } }],
      })),
    );
  });

  it('delivers every consume response written in a row intact, small and large', async () => {
    const call = client.consume();
    const sizes: [number, number][] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (r: ConsumeResponse) => {
        const m = r.response?.$case === 'messages' ? r.response.messages.messages[0]?.message : undefined;
        if (m?.$case === 'single')
          sizes.push([m.single.byteLength, m.single.every((b) => b === m.single[0]) ? m.single[0]! : -1]);
      });
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write({ request: { $case: 'close', close: {} } });
    await ended;
    expect(sizes).toEqual(Array.from({ length: 20 }, (_, i) => [1000 + i * 3000, i]));
  });
});
