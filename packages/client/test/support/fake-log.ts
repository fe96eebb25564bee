import {
  counterMessageIdCodec,
  encodeImmutableMessage,
  MessageBuilder,
  MessageType,
  StreamingError,
} from '@streamsvc/message';
import type { ImmutableMessage, MutableMessage } from '@streamsvc/message';
import type { AppendResult, ConsumedMessage, CreateConsumerRequest } from '@streamsvc/proto';

/** The fake backend's id codec: offsets, WAL name `memory` (what the real memory backend reports). */
export const fakeCodec = counterMessageIdCodec('memory');

interface TxnRecord {
  readonly beginOffset: number;
  readonly vchannel: string | undefined;
  readonly parts: ImmutableMessage[];
  done: boolean;
}

/** What a consumer asked for, as the fake applies it. */
export interface DeliveryFilter {
  readonly vchannel: string;
  readonly ttGt: bigint | undefined;
  readonly ttGte: bigint | undefined;
  readonly types: ReadonlySet<number> | undefined;
  readonly includeTimeTicks: boolean;
}

/**
 * One pchannel's log for the fake server: appends are stamped with a time tick from a shared counter,
 * the term, and a last-confirmed id a few entries back (never past the Begin of an open txn), so a
 * consumer that resumed from last-confirmed without the `tt >` filter would see duplicates.
 * Transactions are delivered whole at their commit; rolled back ones never.
 */
export class FakeLog {
  readonly pchannel: string;
  readonly entries: ImmutableMessage[] = [];
  readonly #tso: () => bigint;
  readonly #txns = new Map<bigint, TxnRecord>();
  readonly #committedAt = new Map<number, TxnRecord>();
  readonly #waiters = new Set<() => void>();
  #nextTxnId = 1n;

  constructor(pchannel: string, tso: () => bigint) {
    this.pchannel = pchannel;
    this.#tso = tso;
  }

  /** Stores `m` under `term`; returns the wire result. Throws StreamingError for txn misuse. */
  append(m: MutableMessage, term: bigint): AppendResult {
    let txn: TxnRecord | undefined;
    let txnInfo: AppendResult['txn'];
    if (m.is(MessageType.BeginTxn)) {
      const txnId = this.#nextTxnId++;
      const keepaliveMs = m.header.keepaliveMs || 10_000;
      m.withTxnContext({ txnId, keepaliveMs });
      txn = { beginOffset: this.entries.length, vchannel: m.vchannel, parts: [], done: false };
      this.#txns.set(txnId, txn);
      txnInfo = { txnId, keepaliveMs };
    } else if (m.txnContext !== undefined) {
      txn = this.#txns.get(m.txnContext.txnId);
      if (txn === undefined || txn.done) {
        throw new StreamingError('INVALID_TRANSACTION_STATE', `txn ${m.txnContext.txnId} is not open`);
      }
    }
    const offset = this.entries.length;
    const stored = m
      .withTimeTick(this.#tso())
      .withWalTerm(term)
      .withLastConfirmed(fakeCodec.of(BigInt(this.#lastConfirmed(offset))))
      .intoImmutable(fakeCodec.of(BigInt(offset)));
    this.entries.push(stored);
    if (txn !== undefined) {
      txn.parts.push(stored);
      if (m.type === MessageType.CommitTxn || m.type === MessageType.RollbackTxn) txn.done = true;
      if (m.type === MessageType.CommitTxn) this.#committedAt.set(offset, txn);
    }
    for (const wake of [...this.#waiters]) wake();
    return {
      messageId: stored.id.toString(),
      timeTick: stored.timeTick,
      lastConfirmed: stored.lastConfirmed.toString(),
      txn: txnInfo,
    };
  }

  /** Appends a TimeTick for the whole pchannel. */
  tick(term: bigint): void {
    this.append(MessageBuilder.timeTick().build(), term);
  }

  /** The offset at which a consumer starts. */
  startOffset(create: CreateConsumerRequest): number {
    const p = create.deliverPolicy?.policy;
    switch (p?.$case) {
      case undefined:
      case 'all':
        return 0;
      case 'latest':
        return this.entries.length;
      case 'startFrom':
        return Number(fakeCodec.parse(p.startFrom).offset);
      case 'startAfter':
        return Number(fakeCodec.parse(p.startAfter).offset) + 1;
    }
  }

  /** The wire form of the entry at `offset` if the consumer gets it, else undefined. */
  deliverable(offset: number, f: DeliveryFilter): ConsumedMessage | undefined {
    const m = this.entries[offset]!;
    if (m.type === MessageType.TimeTick) {
      return f.includeTimeTicks && passesTt(m.timeTick, f) ? single(m) : undefined;
    }
    if (m.vchannel !== f.vchannel) return undefined;
    if (m.txnContext !== undefined) {
      const txn = this.#committedAt.get(offset);
      if (txn === undefined || !passesTt(m.timeTick, f)) return undefined;
      const [begin, ...rest] = txn.parts;
      const body = rest.slice(0, -1);
      if (f.types !== undefined && !f.types.has(MessageType.Txn) && !body.some((b) => f.types!.has(b.type))) {
        return undefined;
      }
      return {
        message: {
          $case: 'txn',
          txn: { begin: encode(begin!), body: body.map(encode), commit: encode(m) },
        },
      };
    }
    if (!passesTt(m.timeTick, f)) return undefined;
    if (f.types !== undefined && !f.types.has(m.type)) return undefined;
    return single(m);
  }

  /** Resolves at the next append (or after `ms`). */
  waitForAppend(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#waiters.add(wake);
    });
  }

  #lastConfirmed(offset: number): number {
    let lc = Math.max(0, offset - 3);
    for (const t of this.#txns.values()) if (!t.done) lc = Math.min(lc, t.beginOffset);
    return lc;
  }
}

function passesTt(tt: bigint, f: DeliveryFilter): boolean {
  return (f.ttGt === undefined || tt > f.ttGt) && (f.ttGte === undefined || tt >= f.ttGte);
}

function single(m: ImmutableMessage): ConsumedMessage {
  return { message: { $case: 'single', single: encode(m) } };
}

function encode(m: ImmutableMessage): Buffer {
  return Buffer.from(encodeImmutableMessage(m));
}
