import type { sendUnaryData, ServerDuplexStream, ServerUnaryCall } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { decodeBroadcastMessage, STREAMING_ERROR_NUMBERS } from '@streamsvc/message';
import type { MutableMessage, StreamingErrorCode } from '@streamsvc/message';
import type {
  AllocTimestampRequest,
  AllocTimestampResponse,
  AppendResult,
  AssignmentDiscoverRequest,
  AssignmentDiscoverResponse,
  BroadcastRequest,
  BroadcastResponse,
  FullAssignment,
  ReportAssignmentError,
  StreamingCoordAssignmentServiceServer,
  StreamingCoordBroadcastServiceServer,
  TsoServiceServer,
} from '@streamsvc/proto';
import { streamingErrorMetadata } from '@streamsvc/proto';

/** What the fake coordinator needs from its cluster. */
export interface CoordinatorEnv {
  snapshot(): FullAssignment;
  /** Appends a message directly to its vchannel's log (the broadcaster's per-vchannel append). */
  appendDirect(message: MutableMessage): AppendResult;
  tso(): bigint;
}

/**
 * The coordinator services of the fake: AssignmentDiscover (a full snapshot on open and on every
 * {@link publish}; report_error recorded; close answered), Broadcast (deduplicated by request id) and
 * AllocTimestamp.
 */
export class FakeCoordinator {
  readonly reports: ReportAssignmentError[] = [];
  /** The request id of every Broadcast attempt, in arrival order. */
  readonly broadcastRequestIds: string[] = [];
  /** Per non-empty request id, the answer of its broadcast: a retry gets it again, as from the real broadcaster. */
  readonly #failAfterApplying: StreamingErrorCode[] = [];
  readonly #broadcasts = new Map<string, BroadcastResponse>();
  #lateAnswers: number[] = [];
  readonly #env: CoordinatorEnv;
  readonly #streams = new Set<ServerDuplexStream<AssignmentDiscoverRequest, AssignmentDiscoverResponse>>();
  #nextBroadcastId = 1n;

  constructor(env: CoordinatorEnv) {
    this.#env = env;
  }

  /** Number of discovery streams open. */
  get discoveryStreams(): number {
    return this.#streams.size;
  }

  /** Sends the current snapshot to every discovery stream. */
  publish(): void {
    const full = this.#env.snapshot();
    for (const call of this.#streams) call.write({ response: { $case: 'fullAssignment', fullAssignment: full } });
  }

  assignmentService(): StreamingCoordAssignmentServiceServer {
    return {
      assignmentDiscover: (call) => {
        this.#streams.add(call);
        call.write({ response: { $case: 'fullAssignment', fullAssignment: this.#env.snapshot() } });
        const drop = (): void => {
          this.#streams.delete(call);
        };
        call.on('data', (req: AssignmentDiscoverRequest) => {
          const r = req.request;
          if (r?.$case === 'reportError') this.reports.push(r.reportError);
          if (r?.$case === 'close') {
            drop();
            call.write({ response: { $case: 'close', close: {} } });
            call.end();
          }
        });
        call.on('end', () => {
          drop();
          if (!call.writableEnded) call.end();
        });
        call.on('error', drop);
        call.on('cancelled', drop);
      },
    };
  }

  /**
   * The next broadcast attempt is applied, then answered with the error `code` (as a coordinator whose
   * broadcaster stopped mid-broadcast answers OUTCOME_UNKNOWN).
   */
  failNextBroadcastAfterApplying(code: StreamingErrorCode): void {
    this.#failAfterApplying.push(code);
  }

  /** The next broadcast attempt is applied at once but answered only after `delayMs` (a slow WAL). */
  answerNextBroadcastLate(delayMs: number): void {
    this.#lateAnswers.push(delayMs);
  }

  broadcastService(): StreamingCoordBroadcastServiceServer {
    return {
      broadcast: (call: ServerUnaryCall<BroadcastRequest, BroadcastResponse>, cb: sendUnaryData<BroadcastResponse>) => {
        const { requestId } = call.request;
        this.broadcastRequestIds.push(requestId);
        const delayMs = this.#lateAnswers.shift();
        const failWith = this.#failAfterApplying.shift();
        const answer = (response: BroadcastResponse): void => {
          if (failWith !== undefined) {
            const info = {
              code: STREAMING_ERROR_NUMBERS[failWith],
              message: `[streaming] ${failWith}`,
              retriable: false,
            };
            cb({ code: status.FAILED_PRECONDITION, details: info.message, metadata: streamingErrorMetadata(info) });
          } else if (delayMs === undefined) cb(null, response);
          else setTimeout(() => cb(null, response), delayMs);
        };
        const earlier = this.#broadcasts.get(requestId);
        if (earlier !== undefined) {
          answer(earlier);
          return;
        }
        let messages: MutableMessage[];
        try {
          messages = decodeBroadcastMessage(call.request.message).splitIntoMutableMessages();
        } catch (e) {
          cb({ code: status.INVALID_ARGUMENT, details: String(e) });
          return;
        }
        const results = new Map<string, AppendResult>();
        for (const m of messages) results.set(m.vchannel!, this.#env.appendDirect(m));
        const response: BroadcastResponse = { broadcastId: this.#nextBroadcastId++, results, walName: 'memory' };
        if (requestId !== '') this.#broadcasts.set(requestId, response);
        answer(response);
      },
    };
  }

  tsoService(): TsoServiceServer {
    return {
      allocTimestamp: (
        call: ServerUnaryCall<AllocTimestampRequest, AllocTimestampResponse>,
        cb: sendUnaryData<AllocTimestampResponse>,
      ) => {
        const count = Math.max(1, call.request.count);
        const first = this.#env.tso();
        for (let i = 1; i < count; i++) this.#env.tso();
        cb(null, { first, count });
      },
    };
  }
}
