/**
 * Child process of `npm run bench -- e2e`: the raw grpc-js baseline server. A client-streaming method
 * that counts the messages it receives (bytes in, a count out) and a bidi one that answers each with a
 * few bytes, no parsing: what grpc-js itself costs for the same payload. Prints "port=<n>" when listening; exits when stdin closes.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerDuplexStream, ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';

export const RAW_SERVICE = {
  /** Client stream: counts what it receives (the closed-loop throughput baseline). */
  push: {
    path: '/bench.Raw/Push',
    requestStream: true,
    responseStream: false,
    requestSerialize: (b: Buffer): Buffer => b,
    requestDeserialize: (b: Buffer): Buffer => b,
    responseSerialize: (b: Buffer): Buffer => b,
    responseDeserialize: (b: Buffer): Buffer => b,
  },
  /** Bidi stream: answers every message with a 24-byte one, as an append's ack (the open-loop baseline). */
  echo: {
    path: '/bench.Raw/Echo',
    requestStream: true,
    responseStream: true,
    requestSerialize: (b: Buffer): Buffer => b,
    requestDeserialize: (b: Buffer): Buffer => b,
    responseSerialize: (b: Buffer): Buffer => b,
    responseDeserialize: (b: Buffer): Buffer => b,
  },
} as const;

/** The bytes every echo answer carries. */
export const ECHO_ACK_BYTES = 24;

if (process.argv[1]?.endsWith('e2e-raw-grpc.ts')) {
  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService(RAW_SERVICE, {
    push: (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      let count = 0;
      call.on('data', () => count++);
      call.on('end', () => callback(null, Buffer.from(String(count))));
    },
    echo: (call: ServerDuplexStream<Buffer, Buffer>) => {
      const ack = Buffer.alloc(ECHO_ACK_BYTES);
      call.on('data', () => call.write(ack));
      call.on('end', () => call.end());
    },
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, port) => {
    if (e) throw e;
    process.stdout.write(`port=${port}\n`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => server.forceShutdown());
}
