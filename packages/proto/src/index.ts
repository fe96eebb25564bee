/**
 * @streamsvc/proto — the streaming protocol: generated TypeScript (ts-proto, grpc-js) for the node
 * services (Produce, Consume, Manager), the coordinator services (AssignmentDiscover, Broadcast, TSO),
 * the shared types, and the standard gRPC health protocol. Sources: `proto/`; regenerate with
 * `pnpm run codegen` (CI fails when `src/gen` is stale).
 *
 * Messages travel as the bytes of `streamsvc.message.v1.Message` / `ImmutableMessage` encoded by
 * @streamsvc/message; this package does not depend on it.
 */
export { STREAMING_ERROR_METADATA_KEY, streamingErrorMetadata, readStreamingErrorMetadata } from './error-metadata.js';
export {
  AppendOutcome,
  AppendResult,
  AssignRequest,
  AssignResponse,
  CloseConsumerRequest,
  CloseConsumerResponse,
  CloseProducerRequest,
  CloseProducerResponse,
  CollectStatusRequest,
  CollectStatusResponse,
  ConsumeRequest,
  ConsumeResponse,
  ConsumedMessage,
  ConsumedMessages,
  CreateConsumerRequest,
  CreateConsumerResponse,
  CreateProducerRequest,
  CreateProducerResponse,
  DeliverFilter,
  DeliverPolicy,
  MessageTypeFilter,
  ProduceMessageRequest,
  ProduceMessageResponse,
  ProduceRequest,
  ProduceResponse,
  RemoveRequest,
  RemoveResponse,
  StreamingNodeManagerServiceClient,
  StreamingNodeManagerServiceService,
  TxnContextInfo,
  TxnParts,
  WalStatus,
} from './gen/streamsvc/streaming/v1/node.js';
export { ConsumeBatch } from './consume-batch.js';
export { EncodedProduceRequest } from './encoded-produce-request.js';
export type { ConsumeBatchItem, StoredMessageEncoder } from './consume-batch.js';
export {
  decodeConsumeResponse,
  decodeProduceRequest,
  StreamingNodeHandlerServiceClient,
  StreamingNodeHandlerServiceService,
} from './node-handler-service.js';
export {
  AllocTimestampRequest,
  AllocTimestampResponse,
  AssignmentDiscoverRequest,
  AssignmentDiscoverResponse,
  BroadcastRequest,
  BroadcastResponse,
  BroadcastResponse_ResultsEntry,
  CloseAssignmentDiscover,
  FullAssignment,
  GetBalanceStatusRequest,
  GetBalanceStatusResponse,
  MovePChannelRequest,
  MovePChannelResponse,
  NodeAssignment,
  PChannelAssignmentStatus,
  ReportAssignmentError,
  StreamingCoordAssignmentServiceClient,
  StreamingCoordAssignmentServiceService,
  StreamingCoordBroadcastServiceClient,
  StreamingCoordBroadcastServiceService,
  StreamingCoordBalancerServiceClient,
  StreamingCoordBalancerServiceService,
  StreamingNodeStatus,
  TsoServiceClient,
  TsoServiceService,
} from './gen/streamsvc/streaming/v1/coord.js';
export { Empty, NodeInfo, PChannelInfo, StreamingErrorInfo, VersionPair } from './gen/streamsvc/streaming/v1/common.js';
export {
  HealthCheckRequest,
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthClient,
  HealthService,
} from './gen/grpc/health/v1/health.js';

export type {
  MessageFns,
  StreamingNodeHandlerServiceServer,
  StreamingNodeManagerServiceServer,
} from './gen/streamsvc/streaming/v1/node.js';
export type {
  StreamingCoordAssignmentServiceServer,
  StreamingCoordBroadcastServiceServer,
  StreamingCoordBalancerServiceServer,
  TsoServiceServer,
} from './gen/streamsvc/streaming/v1/coord.js';
export type { HealthServer } from './gen/grpc/health/v1/health.js';
