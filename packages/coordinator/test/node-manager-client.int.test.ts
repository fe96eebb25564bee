import { Server, ServerCredentials } from '@grpc/grpc-js';
import { StreamingError } from '@streamsvc/message';
import { StreamingNodeManagerServiceService } from '@streamsvc/proto';
import type { StreamingNodeManagerServiceServer } from '@streamsvc/proto';

import { grpcFailure } from '../src/grpc-failure.js';
import { GrpcNodeManager } from '../src/node-manager-client.js';

// An integration test (test/, not src/) because it binds a socket on 127.0.0.1; nothing else is needed.

describe('GrpcNodeManager', () => {
  let server: Server;
  let address: string;
  const nodes = new GrpcNodeManager({ timeoutMs: 5_000 });

  beforeAll(async () => {
    server = new Server();
    const refuse = (_call: unknown, callback: (e: ReturnType<typeof grpcFailure>) => void): void =>
      callback(grpcFailure(new StreamingError('IGNORED_OPERATION', 'a newer term was requested')));
    const service: StreamingNodeManagerServiceServer = { assign: refuse, remove: refuse, collectStatus: refuse };
    server.addService(StreamingNodeManagerServiceService, service);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => {
    nodes.close();
    server.forceShutdown();
  });

  // Regression: the error rebuilt from the node's error metadata read "[streaming] [streaming] …".
  it("rejects with the node's StreamingError code and message, prefixed once", async () => {
    const error = await nodes.assign({ serverId: 1n, address }, 'p-1', 3n, {}).catch((e: unknown) => e);

    expect(StreamingError.is(error, 'IGNORED_OPERATION')).toBe(true);
    expect((error as StreamingError).message).toBe('[streaming] a newer term was requested');
  });
});
