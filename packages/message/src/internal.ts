/**
 * The token that guards message constructors. It is exported between this package's modules but not
 * from `index.ts`, so outside code makes messages only through builders and `fromEnvelope`, which
 * validate. (TypeScript's `private` is per class; this is the per-package equivalent.)
 */
export const INTERNAL: unique symbol = Symbol('@streamsvc/message internal');

/** The type of {@link INTERNAL}. */
export type Internal = typeof INTERNAL;

/**
 * Throws unless `token` is {@link INTERNAL}: the type already forbids other values, this stops
 * JavaScript callers (or `as never`) from skipping validation by calling a constructor directly.
 */
export function checkInternal(token: unknown, what: string): void {
  if (token !== INTERNAL) {
    throw new TypeError(`${what} cannot be constructed directly; use MessageBuilder or a fromEnvelope factory`);
  }
}
