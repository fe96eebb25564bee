import { resolveWalOptions, WAL_SUITE_DEFAULTS } from './options.js';
import { isWalScenarioId, WAL_SCENARIO_IDS, WAL_SCENARIOS } from './scenario-ids.js';
import { WAL_SCENARIO_RUNS } from './scenarios/index.js';

describe('the WAL scenario list', () => {
  it('has unique kebab-case ids, each with a behaviour sentence', () => {
    expect(new Set(WAL_SCENARIO_IDS).size).toBe(WAL_SCENARIO_IDS.length);
    for (const s of WAL_SCENARIOS) {
      expect(s.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(s.title.length).toBeGreaterThan(20);
    }
  });

  it('has a body for every id and no body without an id', () => {
    expect(Object.keys(WAL_SCENARIO_RUNS).sort()).toEqual([...WAL_SCENARIO_IDS].sort());
  });

  it('keeps the scenarios of the brief under their ids', () => {
    expect(WAL_SCENARIO_IDS).toEqual(
      expect.arrayContaining([
        'ordered-delivery',
        'resume-from-last-confirmed',
        'message-type-filter',
        'deliver-latest',
        'txn-atomicity-under-ddl',
        'txn-commit-waits-for-bodies',
        'invariants',
        'recovery-after-reopen',
        'fencing',
        'close-behaviour',
        'abort',
      ]),
    );
  });

  it('recognises its own ids only, not the backend suite’s', () => {
    expect(isWalScenarioId('ordered-delivery')).toBe(true);
    expect(isWalScenarioId('append-read-concurrent')).toBe(false);
  });
});

describe('resolveWalOptions', () => {
  const base = { backend: {} as never, config: () => ({}) };
  const deps = () => ({}) as never;

  it('applies the Milvus scale by default: 1000 operations from 10 writers, 10 s per wait', () => {
    expect(resolveWalOptions(base, deps)).toMatchObject({ messageCount: 1000, writers: 10, waitTimeoutMs: 10_000 });
  });

  it('puts the caller’s WAL settings over the suite’s', () => {
    expect(resolveWalOptions({ ...base, walConfig: { maxMessageBytes: 4096 } }, deps).walConfig).toEqual({
      ...WAL_SUITE_DEFAULTS.walConfig,
      maxMessageBytes: 4096,
    });
  });

  it.each([
    [{ messageCount: 49 }, 'messageCount must be an integer of at least 50, got 49'],
    [{ writers: 0 }, 'writers must be a positive integer, got 0'],
    [{ waitTimeoutMs: -1 }, 'waitTimeoutMs must be a positive number, got -1'],
  ])('refuses %j', (bad, message) => {
    expect(() => resolveWalOptions({ ...base, ...bad }, deps)).toThrow(message);
  });
});
