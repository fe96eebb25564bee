import type { WalCapabilities } from '@streamsvc/wal-core';
import { CAPABILITY_SKIP_REASONS } from '../backend-suite/skips.js';
import { WAL_SCENARIO_IDS } from './scenario-ids.js';
import { describeWalSkips, planWalScenarios } from './skips.js';

const everything: WalCapabilities = { fencing: 'native', truncate: true, readOnlyOpen: true };

const skipped = (plan: ReturnType<typeof planWalScenarios>): Record<string, string | undefined> =>
  Object.fromEntries(plan.filter((s) => s.skipReason !== undefined).map((s) => [s.id, s.skipReason]));

describe('planWalScenarios', () => {
  it('runs every scenario, in the documented order, for a backend that promises everything', () => {
    const plan = planWalScenarios(everything);
    expect(plan.map((s) => s.id)).toEqual(WAL_SCENARIO_IDS);
    expect(skipped(plan)).toEqual({});
  });

  it('skips fencing, with the reason, for a backend with term-only fencing', () => {
    expect(skipped(planWalScenarios({ ...everything, fencing: 'term-only' }))).toEqual({
      fencing: CAPABILITY_SKIP_REASONS.termOnlyFencing,
    });
  });

  it('runs everything for a backend without read-only opens (its read-only readers come after the writer)', () => {
    expect(skipped(planWalScenarios({ ...everything, readOnlyOpen: false }))).toEqual({});
  });

  it("prefers the backend author's reason over the capability reason", () => {
    const plan = planWalScenarios({ ...everything, fencing: 'term-only' }, { fencing: 'Kafka has no producer epochs' });
    expect(skipped(plan)).toEqual({ fencing: 'Kafka has no producer epochs' });
  });

  it('refuses a skip without a reason, and runs one whose entry is explicitly undefined', () => {
    expect(() => planWalScenarios(everything, { abort: '' })).toThrow('skip of WAL scenario "abort" needs a reason');
    expect(skipped(planWalScenarios(everything, { abort: undefined }))).toEqual({});
  });

  it('refuses a skip of an unknown id, including a backend-suite id, so a typo cannot silently run it', () => {
    expect(() => planWalScenarios(everything, { 'deliver-start-from': 'wrong suite' })).toThrow(
      /unknown WAL scenario "deliver-start-from"; known: ordered-delivery/,
    );
  });
});

describe('describeWalSkips', () => {
  it('prints one line per skipped scenario with its id and reason', () => {
    const plan = planWalScenarios({ ...everything, fencing: 'term-only' }, { 'deliver-latest': 'not yet' });
    expect(describeWalSkips('kafka', plan)).toEqual([
      '[wal-conformance] kafka: skipping WAL scenario deliver-latest — not yet',
      `[wal-conformance] kafka: skipping WAL scenario fencing — ${CAPABILITY_SKIP_REASONS.termOnlyFencing}`,
    ]);
  });
});
