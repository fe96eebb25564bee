import type { CallOptions } from '@streamsvc/common';
import { WalError, WalErrorCode } from '@streamsvc/wal-core';
import type { PulsarMessageId } from './pulsar-message-id.js';
import type { PulsarPort, PulsarPortMessage, PulsarPortProducer } from './pulsar-port.js';

/**
 * Pulsar message properties the backend adds to every message it writes. Keys start with `__`: message
 * property keys starting with `_` are reserved for streamsvc's fixed set of system keys, so these never
 * collide with a message's own properties, and readers strip them before rebuilding a message.
 */
export const BackendProperty = {
  /** The term of the writer that wrote the message (decimal). */
  Term: '__pulsar.term',
  /** Present on the term marker a read-write open writes; scanners skip such messages. */
  Marker: '__pulsar.marker',
} as const;

const BACKEND_PREFIX = '__pulsar.';

/** True for a key the backend added (to strip on read). */
export function isBackendProperty(key: string): boolean {
  return key.startsWith(BACKEND_PREFIX);
}

/** The writer term stamped on `message`, or 0 for a message without one (written by something else). */
export function termOf(message: PulsarPortMessage | undefined): bigint {
  const text = message?.properties[BackendProperty.Term];
  return text !== undefined && /^[0-9]{1,20}$/.test(text) ? BigInt(text) : 0n;
}

/**
 * Takes a topic over for a writer of `term`. Pulsar has no terms, so they live in the topic itself: every
 * message carries its writer's term and every read-write open first writes a marker with its own.
 *
 * 1. The newest message's term is checked: a newer one rejects with FENCED before anything is created,
 *    so a node acting on an outdated assignment disturbs nobody.
 * 2. An `ExclusiveWithFencing` producer is created: the broker fences the previous owner's producer.
 * 3. A marker with `term` is published. If a newer owner's producer was created meanwhile, this send
 *    is fenced and the open rejects with FENCED.
 * 4. The messages between the one seen in step 1 and the marker are checked for a newer term: a newer
 *    owner that passed step 1 and wrote its marker before step 2 here. Then this open rejects with
 *    FENCED. (That newer owner was fenced by step 2 and reports FENCED on its next append; it is then
 *    reassigned by the coordinator. Safety holds: no data message of an older term follows a newer
 *    term's marker.)
 *
 * @throws {WalError} FENCED as above; whatever the port throws. Abort: rejects with the reason; a
 *   producer created by then is closed again.
 */
export async function claimTopic(
  port: PulsarPort,
  topic: string,
  term: bigint,
  producerName: string,
  call?: CallOptions,
): Promise<PulsarPortProducer> {
  const last = await port.lastMessage(topic, call);
  checkTerm(termOf(last), term, topic);
  const producer = await port.createProducer(topic, { producerName }, call);
  try {
    const marker = await producer.send(new Uint8Array(0), {
      [BackendProperty.Term]: term.toString(),
      [BackendProperty.Marker]: '',
    });
    await checkNoNewerTermBetween(port, topic, last?.id, marker, term, call);
    return producer;
  } catch (e) {
    await producer.close().catch(() => {});
    throw e;
  }
}

function checkTerm(found: bigint, term: bigint, topic: string): void {
  if (found > term) {
    throw new WalError(
      WalErrorCode.FENCED,
      `topic "${topic}" is owned by term ${found}; a writer of term ${term} may not open it`,
      { details: { topic, term: term.toString(), writerTerm: found.toString() } },
    );
  }
}

async function checkNoNewerTermBetween(
  port: PulsarPort,
  topic: string,
  after: PulsarMessageId | undefined,
  marker: PulsarMessageId,
  term: bigint,
  call: CallOptions | undefined,
): Promise<void> {
  const reader = await port.createReader(
    topic,
    after === undefined ? { kind: 'earliest' } : { kind: 'id', id: after, inclusive: false },
    call,
  );
  try {
    // Ends at the marker, which exists: every message read has a larger id than the one before.
    for (;;) {
      const message = await reader.readNext(call);
      if (message.id.compare(marker) >= 0) return;
      checkTerm(termOf(message), term, topic);
    }
  } finally {
    await reader.close();
  }
}
