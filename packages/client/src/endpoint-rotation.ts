/**
 * The coordinator endpoints of one client, in the order given, and the one to try next: the last one
 * that answered as the active coordinator, or the one after the last that failed. Discovery and the
 * unary coordinator calls share one rotation, so a call goes first to where discovery found the active
 * coordinator, and a standby one of them ran into is skipped by the other.
 */
export class EndpointRotation {
  /** Every endpoint, in order, without duplicates. */
  readonly endpoints: readonly string[];
  #index = 0;

  /** @throws Error for an empty list (options validation rejects it first). */
  constructor(endpoints: readonly string[]) {
    if (endpoints.length === 0) throw new Error('EndpointRotation needs at least one endpoint');
    this.endpoints = [...new Set(endpoints)];
  }

  /** The endpoint to try next. */
  get current(): string {
    return this.endpoints[this.#index]!;
  }

  /** `endpoint` answered as the active coordinator: later attempts start there. Unknown endpoints are ignored. */
  succeeded(endpoint: string): void {
    const i = this.endpoints.indexOf(endpoint);
    if (i >= 0) this.#index = i;
  }

  /**
   * `endpoint` failed (a standby, unreachable, or its stream ended): if it is still the current one, the
   * next endpoint in order becomes current. Comparing first keeps two users that saw the same failure
   * from advancing twice and skipping the endpoint that works. Returns the endpoint to try next.
   */
  failed(endpoint: string): string {
    if (this.current === endpoint) this.#index = (this.#index + 1) % this.endpoints.length;
    return this.current;
  }

  /** A fresh count of one caller's failures, to know when a whole round failed (see {@link EndpointRound}). */
  round(): EndpointRound {
    return new EndpointRound(this);
  }
}

/**
 * One caller's view of a rotation: moving on from a failed endpoint is free, but once every endpoint
 * failed in a row the caller should pause (back off) before the next round, so a cluster whose
 * coordinators are all down or all standby (mid-election) is not hammered.
 */
export class EndpointRound {
  readonly #rotation: EndpointRotation;
  #failures = 0;

  /** Use {@link EndpointRotation.round}. */
  constructor(rotation: EndpointRotation) {
    this.#rotation = rotation;
  }

  /** The endpoint to try next. */
  get current(): string {
    return this.#rotation.current;
  }

  /** `endpoint` answered as the active coordinator: the rotation starts there and the round starts over. */
  succeeded(endpoint: string): void {
    this.#rotation.succeeded(endpoint);
    this.#failures = 0;
  }

  /**
   * `endpoint` failed: the rotation moves on. Returns true when this completed a round (as many failures
   * in a row as there are endpoints) — pause before trying again; the count then starts over.
   */
  failed(endpoint: string): boolean {
    this.#rotation.failed(endpoint);
    this.#failures++;
    if (this.#failures < this.#rotation.endpoints.length) return false;
    this.#failures = 0;
    return true;
  }

  /** The endpoint answered but the attempt failed for another reason: stay on it and start the count over. */
  restart(): void {
    this.#failures = 0;
  }
}
