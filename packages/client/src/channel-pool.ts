import { Channel } from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions, Client, ClientOptions } from '@grpc/grpc-js';
import {
  StreamingCoordAssignmentServiceClient,
  StreamingCoordBroadcastServiceClient,
  StreamingNodeHandlerServiceClient,
  TsoServiceClient,
} from '@streamsvc/proto';

type ClientClass<C extends Client> = new (
  address: string,
  credentials: ChannelCredentials,
  options?: ClientOptions,
) => C;

interface Entry {
  readonly channel: Channel;
  readonly clients: Map<ClientClass<Client>, Client>;
}

/**
 * One gRPC channel (HTTP/2 connection with grpc-js's own reconnect) per address, shared by every
 * service client talking to that address: in standalone mode discovery, producers and consumers all
 * ride on one connection. This is the only place that constructs grpc-js channels and clients.
 */
export class ChannelPool {
  readonly #credentials: ChannelCredentials;
  readonly #options: ChannelOptions;
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(credentials: ChannelCredentials, options: ChannelOptions) {
    this.#credentials = credentials;
    this.#options = options;
  }

  /** The node handler client (Produce, Consume) of `address`. */
  handler(address: string): StreamingNodeHandlerServiceClient {
    return this.#client(address, StreamingNodeHandlerServiceClient);
  }

  /** The topology discovery client of `address`. */
  assignment(address: string): StreamingCoordAssignmentServiceClient {
    return this.#client(address, StreamingCoordAssignmentServiceClient);
  }

  /** The broadcast client of `address`. */
  broadcast(address: string): StreamingCoordBroadcastServiceClient {
    return this.#client(address, StreamingCoordBroadcastServiceClient);
  }

  /** The TSO client of `address`. */
  tso(address: string): TsoServiceClient {
    return this.#client(address, TsoServiceClient);
  }

  /** Closes every channel (their calls fail with CANCELLED/UNAVAILABLE). Idempotent. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) entry.channel.close();
    this.#entries.clear();
  }

  #client<C extends Client>(address: string, type: ClientClass<C>): C {
    if (this.#closed) throw new Error('channel pool is closed');
    let entry = this.#entries.get(address);
    if (entry === undefined) {
      entry = { channel: new Channel(address, this.#credentials, this.#options), clients: new Map() };
      this.#entries.set(address, entry);
    }
    let client = entry.clients.get(type as ClientClass<Client>);
    if (client === undefined) {
      client = new type(address, this.#credentials, { ...this.#options, channelOverride: entry.channel });
      entry.clients.set(type as ClientClass<Client>, client);
    }
    return client as C;
  }
}
