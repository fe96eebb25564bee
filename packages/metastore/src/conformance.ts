/**
 * The MetaKV conformance suite: one set of scenarios every adapter must pass, so code above the port
 * never needs to know which store it talks to. Exported as `@streamsvc/metastore/conformance` (not
 * from the main entry: it is test code) and test-runner agnostic: scenarios assert with `node:assert`
 * and are registered through the `describe`/`it` you pass in (jest, vitest, mocha and `node:test` all
 * fit).
 *
 * ```ts
 * import { describeMetaKvConformance } from '@streamsvc/metastore/conformance';
 * describeMetaKvConformance('embedded', { open: () => EmbeddedMetaKv.open({ path: freshDir() }) }, { describe, it });
 * ```
 */
import assert from 'node:assert/strict';

import { electionScenarios } from './conformance-election.js';
import type { Scenario, ScenarioContext } from './conformance-helpers.js';
import { failsWith, within } from './conformance-helpers.js';
import { kvScenarios } from './conformance-kv.js';
import { leaseScenarios } from './conformance-lease.js';
import { watchScenarios } from './conformance-watch.js';
import { MetaKvErrorCode } from './errors.js';
import type { MetaKv } from './meta-kv.js';

const INVALID = MetaKvErrorCode.INVALID_ARGUMENT;

const edgeScenarios: readonly Scenario[] = [
  {
    name: 'bad input is refused with INVALID_ARGUMENT and a message naming the problem, and nothing is written',
    async run({ kv }) {
      const before = await kv.revision();
      await failsWith(() => kv.get(''), INVALID, /key must be a non-empty string/);
      await failsWith(() => kv.put('', 'v'), INVALID, /key must be a non-empty string/);
      await failsWith(() => kv.put('k', 42 as never), INVALID, /value must be a string or a Uint8Array/);
      await failsWith(() => kv.put('k', 'v', { lease: 'abc' }), INVALID, /lease must be the decimal string/);
      await failsWith(() => kv.put('x'.repeat(2000), 'v'), INVALID, /longer than 1024 bytes/);
      await failsWith(() => kv.delete(''), INVALID, /key must be a non-empty string/);
      await failsWith(() => kv.deletePrefix(''), INVALID, /prefix must not be empty/);
      await failsWith(() => kv.list('p', { limit: 0 }), INVALID, /limit must be an integer in 1\.\.10000 \(got 0\)/);
      await failsWith(() => kv.list('p', { limit: 10_001 }), INVALID, /limit/);
      await failsWith(() => kv.list('p', { limit: 1.5 }), INVALID, /limit/);
      await failsWith(() => kv.list('p', { atRevision: 0n }), INVALID, /atRevision must be a bigint of at least 1/);
      await failsWith(() => kv.watch(''), INVALID, /watch key must be a non-empty string/);
      await failsWith(() => kv.watch('k', { fromRevision: 0n }), INVALID, /fromRevision/);
      await failsWith(() => kv.grantLease(-1), INVALID, /ttlMs must be a positive finite number/);
      await failsWith(() => kv.grantLease(Number.NaN), INVALID, /ttlMs/);
      await failsWith(() => kv.revokeLease('-5'), INVALID, /lease id/);
      const many = Array.from({ length: 129 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: 'v' }));
      await failsWith(() => kv.txn({ compare: [], success: many }), INVALID, /success has 129 entries; at most 128/);
      await failsWith(
        () => kv.txn({ compare: [], success: [{ type: 'nope' } as never] }),
        INVALID,
        /success\[0\]\.type/,
      );
      await failsWith(
        () => kv.txn({ compare: [{ key: 'k', target: 'version', op: '==', value: 1 as never }], success: [] }),
        INVALID,
        /compare\[0\]\.value must be a bigint/,
      );
      await failsWith(
        () => kv.txn({ compare: [{ key: 'k', target: 'value', op: '~' as never, value: 'x' }], success: [] }),
        INVALID,
        /compare\[0\]\.op/,
      );
      assert.equal(await kv.revision(), before);
    },
  },
  {
    name: 'close is idempotent, and every call on a closed store fails with CLOSED',
    async run({ kv }) {
      const lease = await kv.grantLease(5000);
      const first = kv.close();
      assert.equal(kv.close(), first, 'the same promise twice');
      await first;
      await kv[Symbol.asyncDispose]();
      assert.equal((await within(2000, 'the lease to settle', lease.lost)).reason, 'closed');
      const CLOSED = MetaKvErrorCode.CLOSED;
      await failsWith(() => kv.get('k'), CLOSED, /get on a closed store/);
      await failsWith(() => kv.put('k', 'v'), CLOSED);
      await failsWith(() => kv.delete('k'), CLOSED);
      await failsWith(() => kv.deletePrefix('k'), CLOSED);
      await failsWith(() => kv.list('k'), CLOSED);
      await failsWith(() => kv.txn({ compare: [], success: [] }), CLOSED);
      await failsWith(() => kv.watch('k'), CLOSED);
      await failsWith(() => kv.grantLease(1000), CLOSED);
      await failsWith(() => kv.revokeLease('1'), CLOSED);
      await failsWith(() => kv.revision(), CLOSED);
    },
  },
];

/** Every scenario, in suite order. */
export const metaKvScenarios: readonly Scenario[] = [
  ...kvScenarios,
  ...watchScenarios,
  ...leaseScenarios,
  ...electionScenarios,
  ...edgeScenarios,
];

/** How the suite reaches the adapter under test. */
export interface MetaKvConformanceOptions {
  /** Opens a new, empty store for one scenario (etcd: a fresh namespace; embedded: a fresh directory). */
  readonly open: () => Promise<MetaKv>;
  /** TTL for lease scenarios, in ms. Default 1000 (etcd raises it to its minimum, about 2 s). */
  readonly leaseTtlMs?: number;
  /** Timeout of each scenario, in ms. Default 20 000 (slow lease scenarios get 10 s more). */
  readonly timeoutMs?: number;
}

/** The BDD functions the suite registers its scenarios with. */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
}

/** Runs one scenario against a fresh store and closes every store it opened. */
export async function runScenario(scenario: Scenario, options: MetaKvConformanceOptions): Promise<void> {
  const opened: MetaKv[] = [];
  const open = async (): Promise<MetaKv> => {
    const kv = await options.open();
    opened.push(kv);
    return kv;
  };
  try {
    const ctx: ScenarioContext = { kv: await open(), open, leaseTtlMs: options.leaseTtlMs ?? 1000 };
    await scenario.run(ctx);
  } finally {
    await Promise.allSettled(opened.map((kv) => kv.close()));
  }
}

/**
 * Registers the whole suite as `describe(\`MetaKV conformance: ${name}\`)` with one `it` per scenario.
 */
export function describeMetaKvConformance(
  name: string,
  options: MetaKvConformanceOptions,
  runner: ConformanceRunner,
): void {
  const timeoutMs = options.timeoutMs ?? 20_000;
  runner.describe(`MetaKV conformance: ${name}`, () => {
    for (const scenario of metaKvScenarios) {
      runner.it(scenario.name, () => runScenario(scenario, options), scenario.slow ? timeoutMs + 10_000 : timeoutMs);
    }
  });
}

export type { Scenario, ScenarioContext } from './conformance-helpers.js';
