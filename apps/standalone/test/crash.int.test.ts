import path from 'node:path';

import { StreamingClient } from '@streamsvc/client';
import type { Subscription } from '@streamsvc/client';
import { DataType, MessageBuilder, MessageType, vchannelName } from '@streamsvc/message';
import type { AnyImmutableMessage } from '@streamsvc/message';
import { SERVER_NODE_OPTIONS } from '@streamsvc/app-kit';
import { freePort, spawnTsChild, tempDir } from '@streamsvc/testkit';
import type { ManagedProcess, TempDir } from '@streamsvc/testkit';

const MAIN = path.join(__dirname, '..', 'src', 'main.ts');
const TRIALS = 10;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The standalone server as a real child process, killed with SIGKILL and restarted on the same data. */
class Server {
  proc: ManagedProcess | undefined;
  restarts = 0;
  constructor(
    readonly dir: TempDir,
    readonly grpcPort: number,
    readonly httpPort: number,
  ) {}

  async start(): Promise<void> {
    this.proc = await spawnTsChild(MAIN, {
      nodeArgs: SERVER_NODE_OPTIONS,
      args: [
        '--data-dir',
        path.join(this.dir.path, 'data'),
        '--listen',
        `127.0.0.1:${this.grpcPort}`,
        '--http',
        `127.0.0.1:${this.httpPort}`,
        '--pchannels',
        '2',
        '--log-level',
        'warn',
      ],
      logFile: path.join(this.dir.path, `server-${this.restarts++}.log`),
    });
    await this.proc.waitReady(
      async () => (await fetch(`http://127.0.0.1:${this.httpPort}/healthz`, { signal: AbortSignal.timeout(500) })).ok,
      30_000,
      100,
    );
  }

  async kill9(): Promise<void> {
    this.proc?.signal('SIGKILL');
    await this.proc?.exited;
  }
}

interface Ledger {
  /** payload → id of every acknowledged autocommit append. */
  readonly acked: Map<string, string>;
  /** Every payload an append was attempted with (a retried append may land twice, never a new payload). */
  readonly attempted: Set<string>;
  /** Committed txns: the payloads of their bodies. */
  readonly committed: string[][];
}

/** Appends and txns on `vchannels` until `stop`; records what was acknowledged. */
async function load(
  client: StreamingClient,
  vchannels: string[],
  ledger: Ledger,
  stop: AbortSignal,
  writer: number,
): Promise<void> {
  for (let i = 0; !stop.aborted && i < 100_000; i++) {
    const vchannel = vchannels[i % vchannels.length]!;
    const tag = `w${writer}-${i}`;
    try {
      if (i % 4 === 3) {
        const txn = await client.txn({ vchannel, keepaliveMs: 30_000 });
        const body = [0, 1, 2].map((k) => `${tag}-t${k}`);
        for (const p of body) {
          ledger.attempted.add(p);
          await txn.append(MessageBuilder.data(encoder.encode(p)).vchannel(vchannel).build());
        }
        await txn.commit();
        ledger.committed.push(body);
      } else {
        ledger.attempted.add(tag);
        const r = await client.append(MessageBuilder.data(encoder.encode(tag)).vchannel(vchannel).build(), {
          signal: stop,
        });
        ledger.acked.set(tag, r.id.toString());
      }
    } catch {
      // A txn broken by the crash (its session died with the server) or an aborted append: not acknowledged.
    }
  }
}

async function collect(subscription: Subscription, into: AnyImmutableMessage[], errors: unknown[] = []): Promise<void> {
  try {
    for await (const m of subscription) into.push(m);
  } catch (e) {
    errors.push(e); // closed at the end of the test, or a real failure (checked)
  }
}

function flatten(messages: readonly AnyImmutableMessage[]): { key: string; payloads: string[]; tt: bigint }[] {
  return messages.map((m) =>
    m.type === MessageType.Txn
      ? { key: m.id.toString(), payloads: m.body.map((b) => decoder.decode(b.payload)), tt: m.timeTick }
      : {
          key: m.id.toString(),
          payloads: m.type === MessageType.Data ? [decoder.decode(m.payload)] : [],
          tt: m.timeTick,
        },
  );
}

describe('standalone server under kill -9', () => {
  it(`loses no acknowledged message and keeps delivery exact and ordered across ${TRIALS} crashes`, async () => {
    await using dir = await tempDir('standalone-crash-');
    const server = new Server(dir, await freePort(), await freePort());
    await server.start();
    await using client = await StreamingClient.connect({ endpoint: `127.0.0.1:${server.grpcPort}` });
    const topology = await client.waitReady({ signal: AbortSignal.timeout(20_000) });
    const collectionId = await client.allocateTimestamp();
    const vchannels = topology.pchannels.map((p, i) => vchannelName(p, collectionId, i));
    await client.broadcast(
      MessageBuilder.createCollection()
        .header({ collectionId, partitionIds: [1n] })
        .body({
          collectionName: 'crash',
          schema: {
            name: 'crash',
            fields: [{ fieldId: 100n, name: 'id', dataType: DataType.Int64, isPrimaryKey: true }],
          },
        })
        .broadcast(vchannels)
        .build(),
    );
    // Followers subscribed before the first crash must ride through every restart.
    const followed = vchannels.map(() => [] as AnyImmutableMessage[]);
    const followers = vchannels.map((vchannel) => client.subscribe({ vchannel, from: 'earliest' }));
    const followerErrors: unknown[] = [];
    const following = followers.map((s, i) => collect(s, followed[i]!, followerErrors));

    const ledger: Ledger = { acked: new Map(), attempted: new Set(), committed: [] };
    const stopLoad = new AbortController();
    const writers = Array.from({ length: 6 }, (_, w) => load(client, vchannels, ledger, stopLoad.signal, w));
    for (let trial = 0; trial < TRIALS; trial++) {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      await server.kill9();
      await server.start();
    }
    await new Promise((r) => setTimeout(r, 500));
    stopLoad.abort();
    await Promise.all(writers);

    // A fresh reader from the earliest position after all the crashes.
    for (const [i, vchannel] of vchannels.entries()) {
      const fresh: AnyImmutableMessage[] = [];
      const sub = client.subscribe({ vchannel, from: 'earliest' });
      const reading = collect(sub, fresh);
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const seen = new Set(flatten(fresh).flatMap((m) => m.payloads));
        const missing = [...ledger.acked.keys()].filter(
          (p) => !seen.has(p) && vchannelOfTag(p, vchannels) === vchannel,
        );
        if (missing.length === 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await sub.close();
      await reading;
      const items = flatten(fresh);
      // Strict time-tick order, every message once.
      expect(items.every((m, k) => k === 0 || m.tt > items[k - 1]!.tt)).toBe(true);
      expect(new Set(items.map((m) => m.key)).size).toBe(items.length);
      // Every acknowledged append of this vchannel is there, under the id it was acknowledged with.
      const idsByPayload = new Map<string, Set<string>>();
      for (const m of items)
        for (const p of m.payloads) idsByPayload.set(p, (idsByPayload.get(p) ?? new Set()).add(m.key));
      for (const [payload, id] of ledger.acked) {
        if (vchannelOfTag(payload, vchannels) !== vchannel) continue;
        // A retried append may have landed twice (at-least-once produce); the acknowledged copy is there.
        expect({ payload, present: idsByPayload.get(payload)?.has(id) ?? false }).toEqual({ payload, present: true });
      }
      // Nothing that was never attempted; txns whole (3 bodies) or absent; committed ones present.
      for (const m of items) for (const p of m.payloads) expect(ledger.attempted.has(p)).toBe(true);
      for (const m of items) if (m.payloads.length > 1) expect(m.payloads).toHaveLength(3);
      const delivered = new Set(items.flatMap((m) => m.payloads));
      for (const body of ledger.committed)
        if (vchannelOfTag(body[0]!, vchannels) === vchannel) expect(body.every((p) => delivered.has(p))).toBe(true);
      // The follower, subscribed before the first crash, saw exactly the same sequence: no gap, no duplicate.
      const followDeadline = Date.now() + 20_000;
      while (followed[i]!.length < items.length && Date.now() < followDeadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(followerErrors).toEqual([]);
      const followedItems = flatten(followed[i]!);
      expect(followedItems.map((m) => m.key)).toEqual(items.map((m) => m.key));
      expect(ledger.acked.size).toBeGreaterThan(TRIALS * 10);
    }
    await Promise.all(followers.map((s) => s.close()));
    await Promise.all(following);
    await server.proc?.stop();
  }, 240_000);
});

/** The vchannel a tag was appended to: writers alternate vchannels by their counter. */
function vchannelOfTag(tag: string, vchannels: readonly string[]): string {
  const i = Number(/^w\d+-(\d+)/.exec(tag)![1]);
  return vchannels[i % vchannels.length]!;
}
