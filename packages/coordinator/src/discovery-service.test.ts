import { EventEmitter } from 'node:events';

import type { ServerDuplexStream } from '@grpc/grpc-js';
import { STREAMING_ERROR_NUMBERS, StreamingError } from '@streamsvc/message';
import type { AssignmentDiscoverRequest, AssignmentDiscoverResponse, PChannelInfo } from '@streamsvc/proto';

import { discoveryService } from './discovery-service.js';
import { TopologyHub } from './topology.js';

type DiscoverCall = ServerDuplexStream<AssignmentDiscoverRequest, AssignmentDiscoverResponse>;

/** A discovery stream as grpc-js hands it to the handler: requests arrive as 'data', answers are recorded. */
function fakeCall(): { call: DiscoverCall; written: AssignmentDiscoverResponse[] } {
  const written: AssignmentDiscoverResponse[] = [];
  const call = Object.assign(new EventEmitter(), {
    write: (response: AssignmentDiscoverResponse) => written.push(response),
    end: () => undefined,
  }) as unknown as DiscoverCall;
  return { call, written };
}

/** Opens a stream on a discovery service that records every reported error. */
function openStream() {
  const reported: { pchannel: PChannelInfo; error: StreamingError }[] = [];
  const hub = new TopologyHub(1n, ['by-dev-dml_0']);
  const service = discoveryService({ hub, onReportedError: (pchannel, error) => reported.push({ pchannel, error }) });
  const { call, written } = fakeCall();
  service.assignmentDiscover(call);
  const send = (request: AssignmentDiscoverRequest): void => void call.emit('data', request);
  // Ends the stream so that the loop waiting for a newer topology returns.
  const close = (): void => void call.emit('cancelled');
  return { reported, written, send, close };
}

const PCHANNEL: PChannelInfo = { name: 'by-dev-dml_0', term: 3n };

describe('discoveryService', () => {
  it('sends the current topology when a stream opens', () => {
    const stream = openStream();
    expect(stream.written).toHaveLength(1);
    expect(stream.written[0]?.response?.$case).toBe('fullAssignment');
    stream.close();
  });

  describe('on reportError', () => {
    // Regression: clients send `error.message`, which already starts with "[streaming] ", and rebuilding
    // the error from it read "[streaming] [streaming] node is gone".
    it('passes the pchannel and the reported error, its message prefixed once, to onReportedError', () => {
      const stream = openStream();
      // What a client sends (packages/client/src/discovery.ts): the message of its StreamingError.
      const seen = new StreamingError('CHANNEL_FENCED', 'node is gone');
      stream.send({
        request: {
          $case: 'reportError',
          reportError: {
            pchannel: PCHANNEL,
            error: { code: STREAMING_ERROR_NUMBERS[seen.code], message: seen.message, retriable: seen.retriable },
          },
        },
      });

      expect(stream.reported).toHaveLength(1);
      const { pchannel, error } = stream.reported[0]!;
      expect(pchannel).toEqual(PCHANNEL);
      expect(StreamingError.is(error, 'CHANNEL_FENCED')).toBe(true);
      expect(error.message).toBe('[streaming] node is gone');
      stream.close();
    });

    it('keeps a reported message that has no prefix, adding it once', () => {
      const stream = openStream();
      stream.send({
        request: {
          $case: 'reportError',
          reportError: {
            pchannel: PCHANNEL,
            error: { code: STREAMING_ERROR_NUMBERS.CHANNEL_NOT_EXIST, message: 'not here', retriable: true },
          },
        },
      });

      expect(stream.reported.map((r) => [r.error.code, r.error.message])).toEqual([
        ['CHANNEL_NOT_EXIST', '[streaming] not here'],
      ]);
      stream.close();
    });

    it('reports UNKNOWN "reported by a client" when the report carries no error', () => {
      const stream = openStream();
      stream.send({ request: { $case: 'reportError', reportError: { pchannel: PCHANNEL } } });

      expect(stream.reported).toHaveLength(1);
      expect(stream.reported[0]!.pchannel).toEqual(PCHANNEL);
      expect(StreamingError.is(stream.reported[0]!.error, 'UNKNOWN')).toBe(true);
      expect(stream.reported[0]!.error.message).toBe('[streaming] reported by a client');
      stream.close();
    });

    it('ignores a report that names no pchannel, and the stream goes on', () => {
      const stream = openStream();
      stream.send({
        request: {
          $case: 'reportError',
          reportError: { error: { code: STREAMING_ERROR_NUMBERS.CHANNEL_FENCED, message: 'x', retriable: true } },
        },
      });

      expect(stream.reported).toEqual([]);
      expect(stream.written).toHaveLength(1);
      stream.send({ request: { $case: 'close', close: {} } });
      expect(stream.written.map((w) => w.response?.$case)).toEqual(['fullAssignment', 'close']);
    });
  });
});
