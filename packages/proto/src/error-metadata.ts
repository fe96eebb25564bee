import { Metadata } from '@grpc/grpc-js';

import { StreamingErrorInfo } from './gen/streamsvc/streaming/v1/common.js';

/**
 * Unary calls cannot carry a StreamingErrorInfo in their response, so servers attach it to the gRPC
 * status as binary trailing metadata under this key; clients read it back with
 * {@link readStreamingErrorMetadata}. (`-bin` keys are base64'd by gRPC on the wire.)
 */
export const STREAMING_ERROR_METADATA_KEY = 'streaming-error-bin';

/** Trailing metadata carrying `info`. */
export function streamingErrorMetadata(info: StreamingErrorInfo): Metadata {
  const metadata = new Metadata();
  metadata.set(STREAMING_ERROR_METADATA_KEY, Buffer.from(StreamingErrorInfo.encode(info).finish()));
  return metadata;
}

/** The StreamingErrorInfo attached to a failed call, if any (undecodable bytes count as none). */
export function readStreamingErrorMetadata(metadata: Metadata | undefined): StreamingErrorInfo | undefined {
  const value = metadata?.get(STREAMING_ERROR_METADATA_KEY)[0];
  if (!Buffer.isBuffer(value)) return undefined;
  try {
    return StreamingErrorInfo.decode(value);
  } catch {
    return undefined;
  }
}
