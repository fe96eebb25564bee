/**
 * `npm run bench -- <scenario> [--repeats N] [--duration-ms MS]`
 *
 * Runs a scenario several times, prints min/median/max of every metric, of the baseline measured in
 * the same run, and of their ratio, checks the scenario's goals, saves the full report under
 * `.reports/bench/`, and ends with one JSON line `{"scenario","metrics","baseline","ratio"}` (medians).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';

import { repoRoot } from '@streamsvc/testkit';

import { aggregate, environment, publish } from './report.js';
import type { RepeatResult } from './report.js';
import { scenarios } from './scenarios/index.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    repeats: { type: 'string', default: '3' },
    'duration-ms': { type: 'string', default: '2000' },
  },
});

const name = positionals[0];
const scenario = name ? scenarios[name] : undefined;
if (!scenario) {
  process.stderr.write(`usage: npm run bench -- <scenario>; scenarios: ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}
const repeats = Number(values.repeats);
const durationMs = Number(values['duration-ms']);
if (!Number.isInteger(repeats) || repeats < 1 || !Number.isInteger(durationMs) || durationMs < 100) {
  process.stderr.write('--repeats must be an integer ≥ 1 and --duration-ms an integer ≥ 100\n');
  process.exit(2);
}

const env = environment();
const context = await scenario.setup();
const results: RepeatResult[] = [];
try {
  for (let i = 0; i < repeats; i++) {
    process.stdout.write(`${name}: repeat ${i + 1}/${repeats}\n`);
    results.push(await scenario.repeat(context, { durationMs }));
  }
} finally {
  await scenario.teardown(context);
}
const metrics = aggregate(results, 'metrics');
const report = {
  scenario: name!,
  repeats,
  metrics,
  baseline: aggregate(results, 'baseline'),
  ratio: aggregate(results, 'ratio'),
  goals: scenario.goals(metrics, aggregate(results, 'ratio')),
  env,
};
publish(report, path.join(repoRoot(), '.reports', 'bench'));
