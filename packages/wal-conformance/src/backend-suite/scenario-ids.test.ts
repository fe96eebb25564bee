import { resolveBackendOptions } from './options.js';
import { BACKEND_SCENARIO_IDS, BACKEND_SCENARIOS, isBackendScenarioId } from './scenario-ids.js';
import { SCENARIO_RUNS } from './scenarios/index.js';

describe('the backend scenario list', () => {
  it('has unique kebab-case ids, each with a behaviour sentence', () => {
    expect(new Set(BACKEND_SCENARIO_IDS).size).toBe(BACKEND_SCENARIO_IDS.length);
    for (const s of BACKEND_SCENARIOS) {
      expect(s.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(s.title.length).toBeGreaterThan(20);
    }
  });

  it('has a body for every id and no body without an id', () => {
    expect(Object.keys(SCENARIO_RUNS).sort()).toEqual([...BACKEND_SCENARIO_IDS].sort());
  });

  it('recognises its own ids only', () => {
    expect(isBackendScenarioId('append-read-concurrent')).toBe(true);
    expect(isBackendScenarioId('append-read')).toBe(false);
  });

  it('keeps the Milvus framework scenarios under their ids', () => {
    expect(BACKEND_SCENARIO_IDS).toEqual(
      expect.arrayContaining([
        'append-read-concurrent',
        'deliver-start-from',
        'deliver-start-after',
        'deliver-latest',
        'ro-rejects-writes',
        'truncate-reopen',
      ]),
    );
  });
});

describe('resolveBackendOptions', () => {
  const base = { backend: {} as never, config: () => ({}) };
  const deps = () => ({}) as never;

  it('applies the Milvus defaults: 100 messages, 10 s per wait', () => {
    expect(resolveBackendOptions(base, deps)).toMatchObject({ messageCount: 100, waitTimeoutMs: 10_000 });
  });

  it('refuses a message count too small to have a middle record and a marker', () => {
    expect(() => resolveBackendOptions({ ...base, messageCount: 3 }, deps)).toThrow(
      'messageCount must be an integer of at least 4, got 3',
    );
  });

  it('refuses a wait timeout that is not positive', () => {
    expect(() => resolveBackendOptions({ ...base, waitTimeoutMs: 0 }, deps)).toThrow(
      'waitTimeoutMs must be a positive number, got 0',
    );
  });
});
