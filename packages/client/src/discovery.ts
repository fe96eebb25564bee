import type { ClientDuplexStream, StatusObject } from '@grpc/grpc-js';
import type { Clock, Logger } from '@streamsvc/common';
import { STREAMING_ERROR_NUMBERS } from '@streamsvc/message';
import type { StreamingError } from '@streamsvc/message';
import type { AssignmentDiscoverRequest, AssignmentDiscoverResponse } from '@streamsvc/proto';

import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import type { ChannelPool } from './channel-pool.js';
import type { EndpointRotation } from './endpoint-rotation.js';
import { toStreamingError } from './errors.js';
import { compareVersions, describeTopology, snapshotFromWire } from './topology.js';
import type { TopologyWatcher } from './topology-watcher.js';

type DiscoverCall = ClientDuplexStream<AssignmentDiscoverRequest, AssignmentDiscoverResponse>;

/** What the discovery loop needs. */
export interface DiscoveryOptions {
  /** The coordinator endpoints (one for a standalone server), shared with the unary coordinator calls. */
  readonly endpoints: EndpointRotation;
  readonly pool: ChannelPool;
  readonly watcher: TopologyWatcher;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Pause before the next round once a stream to every endpoint ended in a row (reset once a stream
   * delivered a snapshot).
   */
  readonly backoff: BackoffOptions;
}

/** How long `close` waits for the server to acknowledge `close {}` before cancelling the stream. */
const CLOSE_GRACE_MS = 200;

/**
 * Keeps one `AssignmentDiscover` stream open to the active coordinator, feeding every full snapshot to
 * the watcher (which keeps only strictly newer versions). Whenever the stream ends — a standby refused
 * it (COORDINATOR_NOT_ACTIVE), the endpoint is unreachable, or the coordinator stepped down or shut
 * down (`close {}`) — it opens the next one on the next endpoint, pausing (with backoff) only after a
 * stream to every endpoint ended in a row: a failover, a coordinator restart or a network blip only
 * delays topology updates.
 */
export class Discovery {
  readonly #o: DiscoveryOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #call: DiscoverCall | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: DiscoveryOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'discovery' });
  }

  /** Starts the loop (once). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Tells the coordinator that the owner of `pchannel` under `term` answered as if it did not own it,
   * so it can reassign at once instead of waiting for the node's session to expire. Best effort: dropped
   * when no discovery stream is open (the coordinator finds out on its own, only later).
   */
  reportError(pchannel: string, term: bigint, error: StreamingError): void {
    const call = this.#call;
    if (call === undefined || call.writableEnded || call.destroyed) return;
    this.#log.debug({ pchannel, term: String(term), code: error.code }, 'reporting a wrong-node answer');
    call.write({
      request: {
        $case: 'reportError',
        reportError: {
          pchannel: { name: pchannel, term },
          error: { code: STREAMING_ERROR_NUMBERS[error.code], message: error.message, retriable: error.retriable },
        },
      },
    });
  }

  /** Stops the loop: sends `close {}`, cancels the stream if the server does not end it promptly. */
  async close(): Promise<void> {
    this.#stop.abort();
    const call = this.#call;
    if (call !== undefined && !call.writableEnded && !call.destroyed) {
      call.write({ request: { $case: 'close', close: {} } });
      call.end();
      const timer = setTimeout(() => call.cancel(), CLOSE_GRACE_MS);
      timer.unref();
      await this.#loop;
      clearTimeout(timer);
    } else {
      await this.#loop;
    }
  }

  async #run(): Promise<void> {
    const backoff = new Backoff(this.#o.backoff);
    const round = this.#o.endpoints.round();
    while (!this.#stop.signal.aborted) {
      const endpoint = round.current;
      let delivered = false;
      try {
        delivered = await this.#session(endpoint, () => round.succeeded(endpoint));
      } catch (e) {
        this.#log.warn({ endpoint, err: toStreamingError(e, 'discovery') }, 'discovery stream could not be opened');
      }
      if (this.#stop.signal.aborted) break;
      if (delivered) backoff.reset();
      // Every end moves on, even of a stream that delivered: its coordinator stepped down, shut down or
      // died, and if it comes back as the active one a round later it is tried again.
      if (!round.failed(endpoint)) {
        this.#log.debug({ endpoint, next: round.current }, 'discovery moves to the next endpoint');
        continue;
      }
      try {
        await this.#o.clock.sleep(backoff.next(), { signal: this.#stop.signal });
      } catch {
        break; // stopped
      }
    }
  }

  /**
   * One stream to `endpoint`, from open to end; `onFirstSnapshot` runs when the first snapshot arrives.
   * Resolves true when it delivered at least one snapshot.
   */
  #session(endpoint: string, onFirstSnapshot: () => void): Promise<boolean> {
    const call = this.#o.pool.assignment(endpoint).assignmentDiscover();
    this.#call = call;
    let delivered = false;
    let first = true;
    return new Promise<boolean>((resolve) => {
      call.on('data', (response: AssignmentDiscoverResponse) => {
        const r = response.response;
        if (r?.$case !== 'fullAssignment') return; // `close`: the server ends the stream next
        const snapshot = snapshotFromWire(r.fullAssignment);
        const current = this.#o.watcher.current;
        if (!delivered) onFirstSnapshot();
        delivered = true;
        if (this.#o.watcher.update(snapshot)) {
          this.#log.debug({ topology: describeTopology(snapshot) }, 'topology updated');
        } else if (first && compareVersions(snapshot.version, current.version) < 0) {
          // A coordinator that restarted must start a newer `global` version; an older one is ignored,
          // which keeps a stale topology until a newer snapshot arrives.
          this.#log.warn(
            {
              endpoint,
              received: `${snapshot.version.global}.${snapshot.version.local}`,
              known: describeTopology(current),
            },
            'discovery stream opened with an older topology version than already known; ignored',
          );
        }
        first = false;
      });
      call.on('error', (e: Error) => {
        if (!this.#stop.signal.aborted)
          this.#log.debug({ endpoint, err: toStreamingError(e, 'discovery') }, 'discovery stream failed');
      });
      call.on('status', (_status: StatusObject) => {
        if (this.#call === call) this.#call = undefined;
        resolve(delivered);
      });
    });
  }
}
