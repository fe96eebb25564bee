import type { MessageId, MessageType } from '@streamsvc/message';
import type { DeliverFilter, DeliverPolicy } from '@streamsvc/proto';

/**
 * Where a subscription starts: the oldest retained message, the next message appended after the
 * subscription is created, right after (or at) a known message id, or after a time tick.
 */
export type SubscribeFrom =
  | 'earliest'
  | 'latest'
  | { readonly startAfter: MessageId }
  | { readonly startFrom: MessageId }
  | { readonly timeTickAfter: bigint };

/**
 * The position of the last message a subscription delivered (or, internally, the last time tick it
 * saw): resuming from `lastConfirmed` and dropping every message with tt ≤ `timeTick` neither skips nor
 * repeats anything.
 */
export interface ResumePoint {
  readonly lastConfirmed: MessageId;
  readonly timeTick: bigint;
}

/** The deliver policy and filters of one create-consumer request. */
export interface DeliverRequest {
  readonly deliverPolicy: DeliverPolicy;
  readonly deliverFilters: DeliverFilter[];
}

/**
 * The create-consumer request of a subscription: from its `from` until something was delivered, then
 * from the resume point, whose `tt > timeTick` filter replaces the user's time-tick filter (it is
 * stricter: every delivered message already passed the user's).
 */
export function deliverRequest(
  from: SubscribeFrom,
  resume: ResumePoint | undefined,
  messageTypes: readonly MessageType[] | undefined,
): DeliverRequest {
  const filters: DeliverFilter[] = [];
  let policy: DeliverPolicy;
  if (resume !== undefined) {
    policy = { policy: { $case: 'startFrom', startFrom: resume.lastConfirmed.toString() } };
    filters.push({ filter: { $case: 'timeTickGt', timeTickGt: resume.timeTick } });
  } else if (from === 'earliest') {
    policy = { policy: { $case: 'all', all: {} } };
  } else if (from === 'latest') {
    policy = { policy: { $case: 'latest', latest: {} } };
  } else if ('startAfter' in from) {
    policy = { policy: { $case: 'startAfter', startAfter: from.startAfter.toString() } };
  } else if ('startFrom' in from) {
    policy = { policy: { $case: 'startFrom', startFrom: from.startFrom.toString() } };
  } else {
    policy = { policy: { $case: 'all', all: {} } };
    filters.push({ filter: { $case: 'timeTickGt', timeTickGt: from.timeTickAfter } });
  }
  if (messageTypes !== undefined && messageTypes.length > 0) {
    filters.push({ filter: { $case: 'messageTypes', messageTypes: { types: [...messageTypes] } } });
  }
  return { deliverPolicy: policy, deliverFilters: filters };
}

/** A short description of a deliver policy for logs. */
export function describeFrom(from: SubscribeFrom, resume: ResumePoint | undefined): string {
  if (resume !== undefined) return `resume from ${resume.lastConfirmed.toString()} tt>${resume.timeTick}`;
  if (typeof from === 'string') return from;
  if ('startAfter' in from) return `after ${from.startAfter.toString()}`;
  if ('startFrom' in from) return `from ${from.startFrom.toString()}`;
  return `tt>${from.timeTickAfter}`;
}
