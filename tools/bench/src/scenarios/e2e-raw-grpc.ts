/**
 * Child process of `npm run bench -- e2e`: the raw grpc-js baseline server. One client-streaming method
 * that counts the messages it receives (bytes in, a count out), no parsing: what grpc-js itself costs
 * for the same payload. Prints "port=<n>" when listening; exits when stdin closes.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';

export const RAW_SERVICE = {
  push: {
    path: '/bench.Raw/Push',
    requestStream: true,
    responseStream: false,
    requestSerialize: (b: Buffer): Buffer => b,
    requestDeserialize: (b: Buffer): Buffer => b,
    responseSerialize: (b: Buffer): Buffer => b,
    responseDeserialize: (b: Buffer): Buffer => b,
  },
} as const;

if (process.argv[1]?.endsWith('e2e-raw-grpc.ts')) {
  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService(RAW_SERVICE, {
    push: (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      let count = 0;
      call.on('data', () => count++);
      call.on('end', () => callback(null, Buffer.from(String(count))));
    },
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, port) => {
    if (e) throw e;
    process.stdout.write(`port=${port}\n`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => server.forceShutdown());
}
