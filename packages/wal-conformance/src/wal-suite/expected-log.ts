import { MessageType } from '@streamsvc/message';
import type { AnyImmutableMessage, MutableMessage } from '@streamsvc/message';
import { KEY } from './messages.js';

/** One message a reader of a vchannel must deliver, in the canonical form delivered messages are compared in. */
export interface ExpectedEntry {
  /** The time tick it must be delivered at (a transaction's commit tick). */
  readonly timeTick: bigint;
  /** Its `id` property (a transaction's commit's), for diagnostics. */
  readonly key: string;
  /** The type a reader delivers it as: `Txn` for a transaction. */
  readonly typeName: string;
  /** {@link describeDelivered} of the message a reader must deliver. */
  readonly text: string;
}

/** A part of what was appended: the message the writer built and the time tick its append returned. */
export interface Appended {
  readonly message: MutableMessage;
  readonly timeTick: bigint;
}

/**
 * What readers must deliver, per vchannel: every acknowledged autocommit message at its own time
 * tick, and every committed transaction as one Txn at its commit's tick holding exactly its body (in
 * time-tick order, each body message restamped with the commit's tick). Nothing of rolled-back,
 * expired or failed transactions and nothing whose append was rejected ever enters it.
 */
export class ExpectedLog {
  readonly #byVChannel = new Map<string, ExpectedEntry[]>();

  /** Records an acknowledged autocommit append. */
  single(vchannel: string, appended: Appended): void {
    this.#add(vchannel, {
      timeTick: appended.timeTick,
      key: keyOf(appended.message),
      typeName: appended.message.typeName,
      text: describeSingle(appended.message, appended.timeTick, appended.message.payload),
    });
  }

  /** Records an acknowledged commit: the transaction with `body` (any order; sorted by tick here). */
  txn(vchannel: string, commit: Appended, body: readonly Appended[]): void {
    this.#add(vchannel, {
      timeTick: commit.timeTick,
      key: keyOf(commit.message),
      typeName: 'Txn',
      text: describeTxn(
        commit.message.userProperties,
        commit.timeTick,
        [...body]
          .sort((a, b) => (a.timeTick < b.timeTick ? -1 : 1))
          .map((b) => describeSingle(b.message, commit.timeTick, b.message.payload)),
      ),
    });
  }

  /** The entries of `vchannel` in time-tick order (the order a reader must deliver them in). */
  entries(vchannel: string): ExpectedEntry[] {
    return [...(this.#byVChannel.get(vchannel) ?? [])].sort((a, b) => (a.timeTick < b.timeTick ? -1 : 1));
  }

  #add(vchannel: string, entry: ExpectedEntry): void {
    let list = this.#byVChannel.get(vchannel);
    if (list === undefined) this.#byVChannel.set(vchannel, (list = []));
    list.push(entry);
  }
}

/**
 * A delivered message in canonical form: type, key, time tick, user properties and a payload digest;
 * for a Txn the commit's key, tick and properties and each body message in delivered order. Two
 * messages describe equal exactly when a reader may not tell them apart.
 */
export function describeDelivered(message: AnyImmutableMessage): string {
  if (message.type === MessageType.Txn) {
    return describeTxn(
      message.commit.userProperties,
      message.timeTick,
      message.body.map((b) => describeSingle(b, b.timeTick, b.payload)),
    );
  }
  return describeSingle(message, message.timeTick, message.payload);
}

function describeSingle(
  message: { readonly typeName: string; readonly userProperties: ReadonlyMap<string, string> },
  timeTick: bigint,
  payload: Uint8Array,
): string {
  return `${message.typeName} ${message.userProperties.get(KEY) ?? '?'} @${timeTick} ${props(message.userProperties)} payload ${payload.byteLength}:${digest(payload)}`;
}

function describeTxn(commitProps: ReadonlyMap<string, string>, timeTick: bigint, body: readonly string[]): string {
  return `Txn ${commitProps.get(KEY) ?? '?'} @${timeTick} ${props(commitProps)} body [${body.join(' | ')}]`;
}

function keyOf(message: MutableMessage): string {
  return message.userProperties.get(KEY) ?? `<${message.typeName} without a key>`;
}

function props(properties: ReadonlyMap<string, string>): string {
  return JSON.stringify([...properties].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

function digest(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
