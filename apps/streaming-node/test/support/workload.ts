import type { StreamingClient } from '@streamsvc/client';
import type { Subscription } from '@streamsvc/client';
import { DataType, MessageBuilder, MessageType, vchannelName } from '@streamsvc/message';
import type { AnyImmutableMessage } from '@streamsvc/message';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Creates a collection with one vchannel per pchannel (broadcast through the coordinator). */
export async function createCollection(client: StreamingClient, name: string): Promise<string[]> {
  const topology = await client.waitReady({ signal: AbortSignal.timeout(30_000) });
  const collectionId = await client.allocateTimestamp();
  const vchannels = topology.pchannels.map((p, i) => vchannelName(p, collectionId, i));
  await client.broadcast(
    MessageBuilder.createCollection()
      .header({ collectionId, partitionIds: [1n] })
      .body({
        collectionName: name,
        schema: { name, fields: [{ fieldId: 100n, name: 'id', dataType: DataType.Int64, isPrimaryKey: true }] },
      })
      .broadcast(vchannels)
      .build(),
    { signal: AbortSignal.timeout(30_000) },
  );
  return vchannels;
}

/** What producers did. */
export class Ledger {
  /** payload → id of every acknowledged append. */
  readonly acked = new Map<string, string>();
  /** payload → time tick of every acknowledged append. */
  readonly ackedAt = new Map<string, bigint>();
  readonly attempted = new Set<string>();
  /** Errors surfaced to producers (a migration must surface none). */
  readonly errors: unknown[] = [];
  /** Wall-clock time of every ack, for availability gaps. */
  readonly ackTimes: number[] = [];
}

/** Appends Data messages round-robin on `vchannels` until `stop` (at most 100 000 each). */
export async function produce(
  client: StreamingClient,
  vchannels: readonly string[],
  ledger: Ledger,
  stop: AbortSignal,
  writer: number,
  pauseMs = 2,
): Promise<void> {
  for (let i = 0; !stop.aborted && i < 100_000; i++) {
    const vchannel = vchannels[i % vchannels.length]!;
    const payload = `w${writer}-${i}|${vchannel}`;
    ledger.attempted.add(payload);
    try {
      const r = await client.append(MessageBuilder.data(encoder.encode(payload)).vchannel(vchannel).build(), {
        signal: stop,
      });
      ledger.acked.set(payload, r.id.toString());
      ledger.ackedAt.set(payload, r.timeTick);
      ledger.ackTimes.push(Date.now());
    } catch (e) {
      if (!stop.aborted) ledger.errors.push(e);
    }
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/** A consumer that keeps every message it receives until closed. */
export class Follower {
  readonly messages: AnyImmutableMessage[] = [];
  readonly errors: unknown[] = [];
  readonly #sub: Subscription;
  readonly #done: Promise<void>;

  constructor(
    client: StreamingClient,
    readonly vchannel: string,
  ) {
    const sub = client.subscribe({ vchannel, from: 'earliest' });
    this.#sub = sub;
    this.#done = (async () => {
      try {
        for await (const m of sub) this.messages.push(m);
      } catch (e) {
        this.errors.push(e);
      }
    })();
  }

  async close(): Promise<void> {
    await this.#sub.close();
    await this.#done;
  }
}

export interface Delivered {
  readonly key: string;
  readonly payloads: string[];
  readonly tt: bigint;
}

export function flatten(messages: readonly AnyImmutableMessage[]): Delivered[] {
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

/**
 * Reads `vchannel` from the earliest position until every acknowledged payload of it arrived (or
 * `timeoutMs`), and returns what was delivered.
 */
export async function readAll(
  client: StreamingClient,
  vchannel: string,
  ledger: Ledger,
  timeoutMs = 30_000,
): Promise<Delivered[]> {
  const reader = new Follower(client, vchannel);
  const expected = [...ledger.acked.keys()].filter((p) => p.endsWith(`|${vchannel}`));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const seen = new Set(flatten(reader.messages).flatMap((m) => m.payloads));
    if (expected.every((p) => seen.has(p))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await reader.close();
  return flatten(reader.messages);
}

/** Problems with one vchannel's delivery: order, duplicates, acknowledged messages missing or moved, strays. */
export function deliveryProblems(vchannel: string, items: readonly Delivered[], ledger: Ledger): string[] {
  const problems: string[] = [];
  for (let k = 1; k < items.length; k++) {
    if (items[k]!.tt <= items[k - 1]!.tt) problems.push(`${vchannel}: tt not increasing at ${k}`);
  }
  if (new Set(items.map((m) => m.key)).size !== items.length) problems.push(`${vchannel}: an id delivered twice`);
  const idsByPayload = new Map<string, Set<string>>();
  for (const m of items) for (const p of m.payloads) idsByPayload.set(p, (idsByPayload.get(p) ?? new Set()).add(m.key));
  for (const [payload, id] of ledger.acked) {
    if (!payload.endsWith(`|${vchannel}`)) continue;
    if (!idsByPayload.get(payload)?.has(id)) problems.push(`${vchannel}: acknowledged ${payload} (${id}) missing`);
  }
  for (const m of items)
    for (const p of m.payloads) if (!ledger.attempted.has(p)) problems.push(`${vchannel}: stray ${p}`);
  return problems.slice(0, 20);
}

/**
 * For every vchannel: a fresh read from the start delivers every acknowledged message in order with no
 * duplicate, and its follower (subscribed before the events under test) saw exactly the same sequence
 * without an error. Closes the followers.
 */
export async function expectExactDelivery(
  client: StreamingClient,
  vchannels: readonly string[],
  followers: readonly Follower[],
  ledger: Ledger,
): Promise<void> {
  for (const [i, vchannel] of vchannels.entries()) {
    const items = await readAll(client, vchannel, ledger);
    expect(deliveryProblems(vchannel, items, ledger)).toEqual([]);
    const follower = followers[i]!;
    const deadline = Date.now() + 20_000;
    while (follower.messages.length < items.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await follower.close();
    expect(follower.errors).toEqual([]);
    expect(flatten(follower.messages).map((m) => m.key)).toEqual(items.map((m) => m.key));
  }
}
