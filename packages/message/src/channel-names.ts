import { MessageError } from './message-error.js';

/**
 * Channel names (DESIGN §1). A pchannel is one physical WAL, `<cluster>-dml_<index>`; a vchannel is one
 * shard of one collection on it, `<pchannel>_<collectionId>v<shard>`. Names are persisted and used as
 * topic/log names, so building and parsing are strict inverses: only canonical numbers are accepted.
 */

/** The parts of a pchannel name. */
export interface PChannelParts {
  /** The cluster prefix: letters, digits, `.` and `-`, starting with a letter or digit. */
  readonly cluster: string;
  /** The pchannel's index within the cluster, from 0. */
  readonly index: number;
}

/** The parts of a vchannel name. */
export interface VChannelParts {
  /** The pchannel the vchannel lives on. */
  readonly pchannel: string;
  /** The collection the vchannel belongs to. */
  readonly collectionId: bigint;
  /** The shard index within the collection, from 0. */
  readonly shard: number;
}

// No "_" in a cluster name: "_" separates a vchannel's suffix, and Kafka/Pulsar topic names must stay
// unambiguous. 200 characters leaves room for the suffixes inside Kafka's 249-character topic limit.
const CLUSTER = /^[A-Za-z0-9][A-Za-z0-9.-]{0,199}$/;
const PCHANNEL = /^([A-Za-z0-9][A-Za-z0-9.-]{0,199})-dml_(0|[1-9][0-9]{0,8})$/;
const VCHANNEL_SUFFIX = /^(.+)_(0|[1-9][0-9]{0,18})v(0|[1-9][0-9]{0,8})$/;
const MAX_INDEX = 999_999_999;
const MAX_COLLECTION_ID = (1n << 63n) - 1n;

/**
 * Builds a pchannel name, e.g. `pchannelName('by-dev', 0) === 'by-dev-dml_0'`.
 * @throws MessageError `INVALID_CHANNEL_NAME` for a bad cluster name or index.
 */
export function pchannelName(cluster: string, index: number): string {
  if (typeof cluster !== 'string' || !CLUSTER.test(cluster)) {
    throw invalid(String(cluster), 'cluster name', 'letters, digits, "." and "-", starting with a letter or digit');
  }
  checkIndex(index, 'pchannel index');
  return `${cluster}-dml_${index}`;
}

/**
 * Splits a pchannel name into cluster and index.
 * @throws MessageError `INVALID_CHANNEL_NAME` naming the input when it is not `<cluster>-dml_<index>`.
 */
export function parsePChannel(name: string): PChannelParts {
  const m = typeof name === 'string' ? PCHANNEL.exec(name) : null;
  if (m === null) throw invalid(String(name), 'pchannel name', '"<cluster>-dml_<index>"');
  return { cluster: m[1] as string, index: Number(m[2]) };
}

/**
 * Builds a vchannel name, e.g. `vchannelName('by-dev-dml_0', 449n, 0) === 'by-dev-dml_0_449v0'`.
 * @throws MessageError `INVALID_CHANNEL_NAME` for a bad pchannel, collection id (not in [0, 2^63-1])
 *   or shard index.
 */
export function vchannelName(pchannel: string, collectionId: bigint, shard: number): string {
  parsePChannel(pchannel);
  if (typeof collectionId !== 'bigint' || collectionId < 0n || collectionId > MAX_COLLECTION_ID) {
    throw invalid(String(collectionId), 'collection id', 'a bigint in [0, 2^63-1]');
  }
  checkIndex(shard, 'shard index');
  return `${pchannel}_${collectionId}v${shard}`;
}

/**
 * Splits a vchannel name into pchannel, collection id and shard.
 * @throws MessageError `INVALID_CHANNEL_NAME` naming the input when it is not
 *   `<cluster>-dml_<index>_<collectionId>v<shard>`.
 */
export function parseVChannel(name: string): VChannelParts {
  const known = parsedVChannels.get(name);
  if (known !== undefined) return known;
  const m = typeof name === 'string' ? VCHANNEL_SUFFIX.exec(name) : null;
  if (m === null || !PCHANNEL.test(m[1] as string) || BigInt(m[2] as string) > MAX_COLLECTION_ID) {
    throw invalid(String(name), 'vchannel name', '"<cluster>-dml_<index>_<collectionId>v<shard>"');
  }
  const parts = Object.freeze({ pchannel: m[1] as string, collectionId: BigInt(m[2] as string), shard: Number(m[3]) });
  // Every message built names its vchannel, and a process talks to few of them: remember the parses
  // (bounded; forgetting them all at the bound is simpler than an LRU and just as good here).
  if (parsedVChannels.size >= PARSED_VCHANNELS_MAX) parsedVChannels.clear();
  parsedVChannels.set(name, parts);
  return parts;
}

const PARSED_VCHANNELS_MAX = 4096;
const parsedVChannels = new Map<string, VChannelParts>();

/**
 * The pchannel a vchannel lives on.
 * @throws MessageError `INVALID_CHANNEL_NAME` when `vchannel` is not a valid vchannel name.
 */
export function toPChannel(vchannel: string): string {
  return parseVChannel(vchannel).pchannel;
}

/** True when `name` is a valid pchannel name. */
export function isPChannelName(name: string): boolean {
  return typeof name === 'string' && PCHANNEL.test(name);
}

/** True when `name` is a valid vchannel name. */
export function isVChannelName(name: string): boolean {
  try {
    parseVChannel(name);
    return true;
  } catch {
    return false;
  }
}

function checkIndex(index: number, what: string): void {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_INDEX) {
    throw invalid(String(index), what, `an integer in [0, ${MAX_INDEX}]`);
  }
}

function invalid(input: string, what: string, expected: string): MessageError {
  const shown = input.length > 120 ? `${input.slice(0, 120)}…` : input;
  return new MessageError('INVALID_CHANNEL_NAME', `invalid ${what} ${JSON.stringify(shown)}: expected ${expected}`, {
    details: { input: shown, what },
  });
}
