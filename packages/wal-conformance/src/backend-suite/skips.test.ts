import type { WalCapabilities } from '@streamsvc/wal-core';
import { BACKEND_SCENARIO_IDS } from './scenario-ids.js';
import { CAPABILITY_SKIP_REASONS, describeSkips, planBackendScenarios } from './skips.js';

const everything: WalCapabilities = { fencing: 'native', truncate: true, readOnlyOpen: true };

const skipped = (plan: ReturnType<typeof planBackendScenarios>): Record<string, string | undefined> =>
  Object.fromEntries(plan.filter((s) => s.skipReason !== undefined).map((s) => [s.id, s.skipReason]));

describe('planBackendScenarios', () => {
  it('runs every scenario, in the documented order, for a backend that promises everything', () => {
    const plan = planBackendScenarios(everything);
    expect(plan.map((s) => s.id)).toEqual(BACKEND_SCENARIO_IDS);
    expect(skipped(plan)).toEqual({});
  });

  it('skips the fencing scenarios with a reason for a backend with term-only fencing', () => {
    expect(skipped(planBackendScenarios({ ...everything, fencing: 'term-only' }))).toEqual({
      'term-bump-fences-old-writer': CAPABILITY_SKIP_REASONS.termOnlyFencing,
      'stale-term-open-rejected': CAPABILITY_SKIP_REASONS.termOnlyFencing,
    });
    expect(CAPABILITY_SKIP_REASONS.termOnlyFencing).toBe('backend has term-only fencing');
  });

  it('skips reading beside a live writer for a backend without read-only opens', () => {
    expect(skipped(planBackendScenarios({ ...everything, readOnlyOpen: false }))).toEqual({
      'ro-reads-while-writing': CAPABILITY_SKIP_REASONS.noReadOnlyOpen,
    });
  });

  it("prefers the backend author's reason over the capability reason", () => {
    const plan = planBackendScenarios(
      { ...everything, fencing: 'term-only' },
      { 'stale-term-open-rejected': 'Kafka has no writer epochs' },
    );
    expect(skipped(plan)['stale-term-open-rejected']).toBe('Kafka has no writer epochs');
  });

  it('refuses a skip without a reason', () => {
    expect(() => planBackendScenarios(everything, { 'deliver-latest': ' ' })).toThrow(
      'skip of scenario "deliver-latest" needs a reason',
    );
  });

  it('runs a scenario whose skip entry is explicitly undefined', () => {
    expect(skipped(planBackendScenarios(everything, { 'deliver-latest': undefined }))).toEqual({});
  });

  it('refuses a skip of a scenario id that does not exist, so a typo cannot silently run it', () => {
    expect(() => planBackendScenarios(everything, { 'deliver-lastest': 'typo' })).toThrow(
      /unknown scenario "deliver-lastest"; known: open-reports-channel/,
    );
  });
});

describe('describeSkips', () => {
  it('prints one line per skipped scenario with its id and reason', () => {
    const plan = planBackendScenarios(
      { ...everything, readOnlyOpen: false },
      { 'truncate-reopen': 'truncation is asynchronous' },
    );
    expect(describeSkips('kafka', plan)).toEqual([
      `[wal-conformance] kafka: skipping ro-reads-while-writing — ${CAPABILITY_SKIP_REASONS.noReadOnlyOpen}`,
      '[wal-conformance] kafka: skipping truncate-reopen — truncation is asynchronous',
    ]);
  });
});
