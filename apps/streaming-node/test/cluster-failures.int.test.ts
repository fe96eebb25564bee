import { randomUUID } from 'node:crypto';

import { credentials } from '@grpc/grpc-js';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { StreamingClient } from '@streamsvc/client';
import { encodeMessage, MessageBuilder, StreamingError, toPChannel } from '@streamsvc/message';
import { StreamingNodeHandlerServiceClient } from '@streamsvc/proto';
import type { ProduceRequest, ProduceResponse } from '@streamsvc/proto';
import { startEtcd, tempDir } from '@streamsvc/testkit';
import type { EtcdService, TempDir } from '@streamsvc/testkit';

import { owners, settled, TestCluster } from './support/cluster.js';
import {
  createCollection,
  deliveryProblems,
  expectExactDelivery,
  Follower,
  Ledger,
  produce,
  readAll,
} from './support/workload.js';

const PCHANNELS = 6;
const TTL_MS = 3000;
const KILL_TRIALS = 5;
const encoder = new TextEncoder();

jest.setTimeout(300_000);

describe('a cluster of real processes under node failures', () => {
  let etcd: EtcdService;
  let dir: TempDir;
  beforeAll(async () => {
    etcd = await startEtcd();
    dir = await tempDir('cluster-failures-');
  });
  afterAll(async () => {
    await etcd?.stop();
    if (process.env.STREAMSVC_KEEP_TEST_DIRS) process.stdout.write(`kept ${dir.path}\n`);
    else await dir?.[Symbol.asyncDispose]();
  });

  const newCluster = (name: string, pchannels = PCHANNELS): TestCluster =>
    new TestCluster({
      etcd,
      dir: dir.path,
      pchannels,
      sessionTtlMs: TTL_MS,
      root: `${name}-${randomUUID().slice(0, 8)}`,
    });

  it(`kill -9 of a node under load, ${KILL_TRIALS} times: its pchannels move, no acknowledged message is lost, consumers resume in order`, async () => {
    await using cluster = newCluster('kill9');
    await cluster.startCoordinator();
    for (let i = 0; i < 3; i++) await cluster.startNode();
    await cluster.waitFor((s) => s.nodes.length === 3 && settled(s, PCHANNELS), 'the cluster to settle');

    await using client = await StreamingClient.connect({ endpoint: cluster.endpoint });
    const vchannels = await createCollection(client, 'kill9');
    const followers = vchannels.map((v) => new Follower(client, v));
    const ledger = new Ledger();
    const stop = new AbortController();
    const writers = Array.from({ length: 4 }, (_, w) => produce(client, vchannels, ledger, stop.signal, w));
    for (let trial = 0; trial < KILL_TRIALS; trial++) {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      const status = (await cluster.status())!;
      const held = new Set(owners(status).values());
      const victim = cluster.nodes.find((n) => !n.proc.hasExited && held.has(n.grpc))!;
      const ackedBefore = ledger.acked.size;
      victim.proc.signal('SIGKILL');
      await victim.proc.exited;
      await cluster.startNode();
      await cluster.waitFor(
        (s) => s.nodes.length === 3 && !s.nodes.some((n) => n.node?.address === victim.grpc) && settled(s, PCHANNELS),
        `trial ${trial}: the killed node's pchannels to move`,
      );
      // Every pchannel takes appends again.
      const progress = Date.now() + 20_000;
      while (ledger.acked.size < ackedBefore + 50 && Date.now() < progress) await new Promise((r) => setTimeout(r, 50));
      expect(ledger.acked.size).toBeGreaterThanOrEqual(ackedBefore + 50);
    }
    stop.abort();
    await Promise.all(writers);

    await expectExactDelivery(client, vchannels, followers, ledger);
  });

  it('split brain: a paused owner whose pchannel moved has its later appends refused, and no reader sees them', async () => {
    await using cluster = newCluster('split', 2);
    await cluster.startCoordinator();
    for (let i = 0; i < 2; i++) await cluster.startNode();
    const before = await cluster.waitFor((s) => s.nodes.length === 2 && settled(s, 2), 'the cluster to settle');
    await using client = await StreamingClient.connect({ endpoint: cluster.endpoint });
    const vchannels = await createCollection(client, 'split');
    const vchannel = vchannels[0]!;
    const pchannel = toPChannel(vchannel);
    const meta = before.pchannels.find((p) => p.name === pchannel)!;
    const owner = cluster.nodes.find((n) => n.grpc === meta.node?.address)!;

    // A producer stream straight to the owner, bound to its term (as a client that has not heard of the move).
    const raw = new RawProducer(owner.grpc, pchannel, meta.term);
    await raw.created;
    const stale = (i: number): string => `stale-${i}|${vchannel}`;
    expect(await raw.append(1n, stale(0))).toMatchObject({ ok: true });

    owner.proc.signal('SIGSTOP');
    const pausedAt = Date.now();
    const pending = [2n, 3n, 4n].map((id) => raw.append(id, stale(Number(id))));
    const moved = await cluster.waitFor(
      (s) =>
        s.pchannels.some(
          (p) => p.name === pchannel && p.term > meta.term && p.state === 'ASSIGNED' && p.node?.address !== owner.grpc,
        ),
      'the paused node to lose its pchannel',
    );
    // A hung owner costs its session TTL and the move, no more (its status check hangs in the background).
    expect(Date.now() - pausedAt).toBeLessThan(TTL_MS + 5000);
    const newTerm = moved.pchannels.find((p) => p.name === pchannel)!.term;
    const ledger = new Ledger();
    ledger.attempted.add(stale(0));
    ledger.acked.set(stale(0), 'ignored');
    const stop = new AbortController();
    const writer = produce(client, [vchannel], ledger, stop.signal, 0);
    await new Promise((r) => setTimeout(r, 500));

    owner.proc.signal('SIGCONT');
    const outcomes = await Promise.all(pending);
    const late = [5n, 6n].map((id) => raw.append(id, stale(Number(id))));
    outcomes.push(...(await Promise.all(late)));
    await new Promise((r) => setTimeout(r, 500));
    stop.abort();
    await writer;
    raw.close();

    // Nothing the paused owner was asked after the move was acknowledged.
    expect(outcomes.filter((o) => o.ok)).toEqual([]);
    expect(
      outcomes
        .map((o) => o.code)
        .every((c) => ['CHANNEL_FENCED', 'UNMATCHED_CHANNEL_TERM', 'ON_SHUTDOWN', 'STREAM_CLOSED'].includes(c!)),
    ).toBe(true);
    expect(outcomes.some((o) => o.code === 'CHANNEL_FENCED')).toBe(true);
    expect(ledger.errors).toEqual([]);

    // Readers see the pre-pause message, the new owner's, and none of the stale ones.
    ledger.acked.delete(stale(0));
    const items = await readAll(client, vchannel, ledger);
    const payloads = items.flatMap((m) => m.payloads);
    expect(payloads).toContain(stale(0));
    expect(payloads.filter((p) => p.startsWith('stale-') && p !== stale(0))).toEqual([]);
    for (let i = 0; i <= 6; i++) ledger.attempted.add(stale(i));
    expect(deliveryProblems(vchannel, items, ledger)).toEqual([]);
    // The old owner came back as a new node (its session had expired) and the term moved on.
    const after = await cluster.waitFor((s) => s.nodes.length === 2 && settled(s, 2), 'the old owner to rejoin');
    expect(after.pchannels.find((p) => p.name === pchannel)!.term).toBeGreaterThanOrEqual(newTerm);
  });
});

/** The code name of a wire error number. */
function codeOf(wire: number | undefined): string {
  return wire === undefined ? 'UNKNOWN' : StreamingError.codeOfNumber(wire);
}

/** One outcome of a raw produce request. */
interface RawOutcome {
  readonly ok: boolean;
  readonly code?: string;
}

/** A Produce stream to one node, without the client's routing and retries. */
class RawProducer {
  readonly #client: StreamingNodeHandlerServiceClient;
  readonly #call: ClientDuplexStream<ProduceRequest, ProduceResponse>;
  readonly #waiting = new Map<bigint, (o: RawOutcome) => void>();
  #closedWith: string | undefined;
  readonly created: Promise<void>;

  constructor(
    address: string,
    readonly pchannel: string,
    term: bigint,
  ) {
    this.#client = new StreamingNodeHandlerServiceClient(address, credentials.createInsecure());
    this.#call = this.#client.produce();
    let created!: () => void;
    this.created = new Promise((r) => (created = r));
    this.#call.on('data', (r: ProduceResponse) => {
      if (r.response?.$case === 'create') created();
      if (r.response?.$case === 'produce') {
        const outcome = r.response.produce.outcomes[0]!;
        const o: RawOutcome =
          outcome.outcome?.$case === 'ok' ? { ok: true } : { ok: false, code: codeOf(outcome.outcome?.error.code) };
        this.#waiting.get(r.response.produce.requestId)?.(o);
        this.#waiting.delete(r.response.produce.requestId);
      }
      if (r.response?.$case === 'close')
        this.#end(r.response.close.error ? codeOf(r.response.close.error.code) : 'STREAM_CLOSED');
    });
    this.#call.on('error', () => this.#end('STREAM_CLOSED'));
    this.#call.on('end', () => this.#end('STREAM_CLOSED'));
    this.#call.write({ request: { $case: 'create', create: { pchannel, term } } });
  }

  append(requestId: bigint, payload: string): Promise<RawOutcome> {
    if (this.#closedWith) return Promise.resolve({ ok: false, code: this.#closedWith });
    const vchannel = payload.slice(payload.indexOf('|') + 1);
    const bytes = Buffer.from(encodeMessage(MessageBuilder.data(encoder.encode(payload)).vchannel(vchannel).build()));
    return new Promise((resolve) => {
      this.#waiting.set(requestId, resolve);
      this.#call.write({ request: { $case: 'produce', produce: { requestId, messages: [bytes] } } });
    });
  }

  #end(code: string): void {
    this.#closedWith ??= code;
    for (const resolve of this.#waiting.values()) resolve({ ok: false, code: this.#closedWith });
    this.#waiting.clear();
  }

  close(): void {
    this.#call.cancel();
    this.#client.close();
  }
}
