/**
 * Remembers, until the current turn of the event loop ends, which sink just checked for a fence after a
 * write that resolved durable (see `BlockSink.writeBlock`'s `chained`): a block cut on that sink before
 * the turn ends — no I/O callback or timer has run since the check — may count on it.
 */
export class FenceCheckTurn<S> {
  #checked: S | undefined;
  #endQueued = false;
  // Bound once: a nextTick callback queued from a microtask runs only after the microtask queue drained,
  // before any I/O callback or timer — the end of the turn.
  readonly #end = (): void => {
    this.#checked = undefined;
    this.#endQueued = false;
  };

  /** `sink`'s write resolved durable, after its check, in this turn. */
  checked(sink: S): void {
    this.#checked = sink;
    if (this.#endQueued) return;
    this.#endQueued = true;
    process.nextTick(this.#end);
  }

  /** Whether a block cut on `sink` now is chained to that check; one block per check. */
  chain(sink: S): boolean {
    const chained = this.#checked === sink;
    this.#checked = undefined;
    return chained;
  }
}
