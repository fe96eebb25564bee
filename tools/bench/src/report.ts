import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One repeat of a scenario: named metrics, the same-run baseline, and the ratio the goal is stated in. */
export interface RepeatResult {
  readonly metrics: Record<string, number>;
  readonly baseline: Record<string, number>;
  readonly ratio: Record<string, number>;
}

/** min / median / max of one number over the repeats. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export interface ScenarioReport {
  readonly scenario: string;
  readonly repeats: number;
  readonly metrics: Record<string, Spread>;
  readonly baseline: Record<string, Spread>;
  readonly ratio: Record<string, Spread>;
  readonly goals: Record<string, { readonly target: string; readonly pass: boolean }>;
  readonly env: Record<string, string | number>;
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

export function aggregate(results: readonly RepeatResult[], key: keyof RepeatResult): Record<string, Spread> {
  const names = Object.keys(results[0]?.[key] ?? {});
  return Object.fromEntries(names.map((name) => [name, spread(results.map((r) => r[key][name] ?? NaN))]));
}

export function environment(): Record<string, string | number> {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    loadavg1: Number(os.loadavg()[0]?.toFixed(2)),
    freeMemMiB: Math.round(os.freemem() / 2 ** 20),
    date: new Date().toISOString(),
  };
}

const fmt = (n: number): string =>
  Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : Number.isInteger(n) ? String(n) : n.toFixed(3);

/** Prints a human table, then the one-line JSON record (the last line of output), and saves it. */
export function publish(report: ScenarioReport, reportDir: string): void {
  const rows: string[] = [];
  for (const kind of ['metrics', 'baseline', 'ratio'] as const) {
    for (const [name, s] of Object.entries(report[kind])) {
      rows.push(
        `  ${kind.padEnd(8)} ${name.padEnd(34)} min ${fmt(s.min).padStart(14)}  median ${fmt(s.median).padStart(14)}  max ${fmt(s.max).padStart(14)}`,
      );
    }
  }
  process.stdout.write(`\n${report.scenario} (${report.repeats} repeats)\n${rows.join('\n')}\n`);
  for (const [goal, g] of Object.entries(report.goals)) {
    process.stdout.write(`  goal     ${goal.padEnd(34)} ${g.target.padEnd(30)} ${g.pass ? 'PASS' : 'FAIL'}\n`);
  }
  mkdirSync(reportDir, { recursive: true });
  const file = path.join(reportDir, `${report.scenario}-${report.env['date']}.json`.replace(/:/g, '-'));
  writeFileSync(file, JSON.stringify(report, null, 2));
  const median = (r: Record<string, Spread>): Record<string, number> =>
    Object.fromEntries(Object.entries(r).map(([k, s]) => [k, s.median]));
  process.stdout.write(
    JSON.stringify({
      scenario: report.scenario,
      metrics: median(report.metrics),
      baseline: median(report.baseline),
      ratio: median(report.ratio),
    }) + '\n',
  );
}
