import type { InFlightBudget } from './in-flight-budget.js';
import { settleBlock } from './segment-steps.js';
import type { CutBlock } from './segment-steps.js';

/**
 * The blocks a writer cut and is writing, oldest first, with the in-flight budget their entries hold:
 * the writer acknowledges from the head, strictly in block order; a segment transition settles them all
 * at once by what it decided landed.
 */
export class InflightBlocks {
  readonly #blocks: CutBlock[] = [];
  readonly #budget: InFlightBudget;

  constructor(budget: InFlightBudget) {
    this.#budget = budget;
  }

  /** Blocks cut and not yet settled. */
  get length(): number {
    return this.#blocks.length;
  }

  /** The oldest block: the next to acknowledge. */
  get head(): CutBlock | undefined {
    return this.#blocks[0];
  }

  /** Whether every block's write has an outcome (none is still being written). */
  get allSettled(): boolean {
    return this.#blocks.every((b) => b.outcome !== undefined);
  }

  push(block: CutBlock): void {
    this.#blocks.push(block);
  }

  /** Removes the head; its budget is the caller's to release (it acknowledges the block). */
  shift(): CutBlock | undefined {
    return this.#blocks.shift();
  }

  /** Settles every block in flight: entries up to `lastEntryId` succeed, the others get `failure`. */
  settleBy(lastEntryId: number, failure: (block: CutBlock) => unknown): void {
    for (const block of this.#blocks.splice(0)) {
      settleBlock(block, lastEntryId, failure);
      this.#budget.release(block.budgetBytes);
    }
  }
}
