import { MessageType, StreamingError } from '@streamsvc/message';
import type { ImmutableMessage, MutableMessage } from '@streamsvc/message';

/** What the WAL knows of one vchannel (one shard of one collection). */
export interface VChannelState {
  readonly vchannel: string;
  readonly collectionId: bigint;
  readonly state: 'live' | 'dropped';
  readonly partitions: ReadonlySet<bigint>;
}

interface MutableState {
  vchannel: string;
  collectionId: bigint;
  state: 'live' | 'dropped';
  partitions: Set<bigint>;
}

/**
 * The per-vchannel invariants checked on every append (DESIGN §3): nothing but CreateCollection before
 * the collection exists; nothing at all after DropCollection; an Insert names exactly one partition,
 * which exists; partition DDL names partitions that do (or do not yet) exist. A failed check writes
 * nothing and names the problem.
 *
 * Checks run under the vchannel lock (DDL exclusive, DML shared), so the state a DML checks cannot
 * change until its append finished; `apply` runs after a successful append, still under the lock.
 */
export class VChannelManager {
  readonly #states = new Map<string, MutableState>();

  /** The state of `vchannel`, or undefined when it was never created here. */
  get(vchannel: string): VChannelState | undefined {
    return this.#states.get(vchannel);
  }

  /** A manager holding `states` (a recovery checkpoint's snapshot). */
  static restore(states: readonly VChannelState[]): VChannelManager {
    const manager = new VChannelManager();
    for (const s of states) manager.#states.set(s.vchannel, { ...s, partitions: new Set(s.partitions) });
    return manager;
  }

  /** Every known vchannel (recovery snapshots, status). */
  all(): readonly VChannelState[] {
    return [...this.#states.values()];
  }

  /**
   * @throws {StreamingError} VCHANNEL_NOT_EXIST, VCHANNEL_DROPPED, PARTITION_NOT_EXIST,
   *   INVALID_ARGUMENT (a second CreateCollection, an Insert naming zero or several partitions, a
   *   collection id that does not match the vchannel's).
   */
  check(message: MutableMessage): void {
    const vchannel = message.vchannel;
    if (vchannel === undefined || message.type === MessageType.TimeTick) return;
    const state = this.#states.get(vchannel);
    if (message.is(MessageType.CreateCollection)) {
      if (state?.state === 'dropped') throw dropped(vchannel, message.typeName);
      if (state) throw invalid(`collection ${state.collectionId} already exists on vchannel ${vchannel}`);
      return;
    }
    if (!state) {
      throw new StreamingError(
        'VCHANNEL_NOT_EXIST',
        `vchannel ${vchannel} has no collection: create it (CreateCollection) before appending ${message.typeName}`,
        { details: { vchannel } },
      );
    }
    if (state.state === 'dropped') throw dropped(vchannel, message.typeName);
    const collectionId = HAS_COLLECTION_ID.has(message.type) ? collectionIdOf(message) : undefined;
    if (collectionId !== undefined && collectionId !== 0n && collectionId !== state.collectionId) {
      throw invalid(
        `${message.typeName} names collection ${collectionId}, but vchannel ${vchannel} holds collection ${state.collectionId}`,
      );
    }
    if (message.is(MessageType.Insert)) {
      const partitions = message.header.partitions;
      if (partitions.length !== 1) {
        throw invalid(`an Insert must name exactly one partition, this one names ${partitions.length} on ${vchannel}`);
      }
      requirePartition(state, partitions[0]!.partitionId, vchannel);
    } else if (message.is(MessageType.CreatePartition)) {
      if (state.partitions.has(message.header.partitionId)) {
        throw invalid(`partition ${message.header.partitionId} already exists on ${vchannel}`);
      }
    } else if (message.is(MessageType.DropPartition)) {
      requirePartition(state, message.header.partitionId, vchannel);
    } else if (message.is(MessageType.Delete) && message.body.partitionId !== 0n) {
      requirePartition(state, message.body.partitionId, vchannel);
    }
  }

  /** Applies a stored message's effect (DDL) to the state. Used on append and on recovery replay. */
  apply(message: ImmutableMessage): void {
    const vchannel = message.vchannel;
    if (vchannel === undefined) return;
    if (message.is(MessageType.CreateCollection)) {
      this.#states.set(vchannel, {
        vchannel,
        collectionId: message.header.collectionId,
        state: 'live',
        partitions: new Set(message.header.partitionIds),
      });
      return;
    }
    const state = this.#states.get(vchannel);
    if (!state) return;
    if (message.is(MessageType.DropCollection)) state.state = 'dropped';
    else if (message.is(MessageType.CreatePartition)) state.partitions.add(message.header.partitionId);
    else if (message.is(MessageType.DropPartition)) state.partitions.delete(message.header.partitionId);
  }
}

/** Types whose header names a collection (reading a header decodes it: skip the others on the hot path). */
const HAS_COLLECTION_ID: ReadonlySet<number> = new Set<number>([
  MessageType.Insert,
  MessageType.Delete,
  MessageType.DropCollection,
  MessageType.CreatePartition,
  MessageType.DropPartition,
  MessageType.ManualFlush,
  MessageType.SchemaChange,
  MessageType.Import,
]);

function collectionIdOf(message: MutableMessage): bigint | undefined {
  const header = message.header as { collectionId?: unknown };
  return typeof header.collectionId === 'bigint' ? header.collectionId : undefined;
}

function requirePartition(state: MutableState, partitionId: bigint, vchannel: string): void {
  if (!state.partitions.has(partitionId)) {
    throw new StreamingError(
      'PARTITION_NOT_EXIST',
      `partition ${partitionId} does not exist in collection ${state.collectionId} on ${vchannel}`,
      { details: { vchannel, partitionId: String(partitionId) } },
    );
  }
}

function dropped(vchannel: string, typeName: string): StreamingError {
  return new StreamingError(
    'VCHANNEL_DROPPED',
    `vchannel ${vchannel} was dropped (DropCollection); ${typeName} refused`,
    {
      details: { vchannel },
    },
  );
}

function invalid(problem: string): StreamingError {
  return new StreamingError('INVALID_ARGUMENT', problem);
}
