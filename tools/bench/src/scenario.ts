import type { RepeatResult, Spread } from './report.js';

/** A benchmark: `setup` starts what it measures against (servers in their own processes), `repeat` measures once. */
export interface Scenario<C = unknown> {
  readonly description: string;
  setup(): Promise<C>;
  repeat(context: C, options: { readonly durationMs: number }): Promise<RepeatResult>;
  teardown(context: C): Promise<void>;
  /** Checks the targets against the medians. */
  goals(
    metrics: Record<string, Spread>,
    ratio: Record<string, Spread>,
  ): Record<string, { target: string; pass: boolean }>;
}
