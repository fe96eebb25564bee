import { isSystemMessageType, StreamingError } from '@streamsvc/message';
import type { MessageType } from '@streamsvc/message';
import type { AnyImmutableMessage } from '@streamsvc/message';

/** A condition a delivered message must meet (all filters of a reader must hold). */
export type DeliverFilter =
  | { readonly kind: 'timeTickGt'; readonly tt: bigint }
  | { readonly kind: 'timeTickGte'; readonly tt: bigint }
  | { readonly kind: 'messageType'; readonly types: readonly MessageType[] };

/**
 * Checks filters when a reader is created.
 * @throws {StreamingError} INVALID_ARGUMENT for a type filter naming a system type (system messages —
 *   TimeTick, txn control, Txn — are always delivered, so filtering on them is a caller mistake).
 */
export function validateFilters(filters: readonly DeliverFilter[]): void {
  for (const f of filters) {
    if (f.kind === 'messageType') {
      const bad = f.types.filter((t) => isSystemMessageType(t));
      if (bad.length > 0 || f.types.length === 0) {
        throw new StreamingError(
          'INVALID_ARGUMENT',
          bad.length > 0
            ? `message type filter names system types ${bad.join(', ')}, which are always delivered`
            : 'message type filter lists no type',
        );
      }
    }
  }
}

/**
 * Whether `message` passes every filter. Time-tick filters look at a transaction's commit tick (the
 * moment it happened); type filters never drop system messages.
 */
export function passes(message: AnyImmutableMessage, filters: readonly DeliverFilter[]): boolean {
  for (const f of filters) {
    switch (f.kind) {
      case 'timeTickGt':
        if (message.timeTick <= f.tt) return false;
        break;
      case 'timeTickGte':
        if (message.timeTick < f.tt) return false;
        break;
      case 'messageType':
        if (!isSystemMessageType(message.type) && !f.types.includes(message.type)) return false;
        break;
    }
  }
  return true;
}
