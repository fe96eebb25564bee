import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus } from '@streamsvc/proto';
import type { HealthCheckRequest, HealthCheckResponse, HealthServer } from '@streamsvc/proto';

/** The standard gRPC health service: SERVING while `serving()` says so. Watch answers once and holds. */
export function healthService(serving: () => boolean): HealthServer {
  const status = (): HealthCheckResponse => ({
    status: serving() ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING,
  });
  return {
    check(
      _call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
      callback: sendUnaryData<HealthCheckResponse>,
    ) {
      callback(null, status());
    },
    watch(call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) {
      call.write(status());
    },
  };
}
