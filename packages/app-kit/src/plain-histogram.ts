import type { Metric, Registry } from 'prom-client';

// prom-client's Histogram hashes the label object, validates the labels and allocates a label/value
// pair on every observe, even through a `labels()` child; on the append path (every message) that was
// ~2 % of the node's main thread. This histogram keeps each series as plain numbers and builds
// prom-client's export shape only when scraped. The exposition is the same as prom-client's histogram
// (same lines, same label order), so dashboards do not notice.

/** One labelled series of a {@link PlainHistogram}; `observe` only adds to plain numbers. */
export class HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly #bounds: readonly number[];
  /** Observations per bucket, not cumulative; the last slot counts those above every bound. */
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  /** Not for outside use: series come from {@link PlainHistogram.series}. */
  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.#counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** Adds one observation. A value that is not finite is ignored (prom-client would throw). */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.#counts[i]!++;
    this.#sum += value;
    this.#count++;
  }

  /** Forgets every observation. */
  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }

  /** How many observations this series has. */
  get count(): number {
    return this.#count;
  }

  /** The prom-client export values of this series (`_bucket` per bound and `+Inf`, `_sum`, `_count`). */
  values(name: string): ExportValue[] {
    const out: ExportValue[] = [];
    let cumulative = 0;
    this.#bounds.forEach((le, i) => {
      cumulative += this.#counts[i]!;
      out.push({ labels: { le }, sharedLabels: this.labels, value: cumulative, metricName: `${name}_bucket` });
    });
    const shared = this.labels;
    out.push(
      { labels: { le: '+Inf' }, sharedLabels: shared, value: this.#count, metricName: `${name}_bucket` },
      { labels: {}, sharedLabels: shared, value: this.#sum, metricName: `${name}_sum` },
      { labels: {}, sharedLabels: shared, value: this.#count, metricName: `${name}_count` },
    );
    return out;
  }
}

interface ExportedMetric<V> {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: V[];
}

interface ExportValue {
  labels: Record<string, string | number>;
  sharedLabels: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
}

/** Name, help, bucket bounds (ascending, in the metric's unit) and label names of a {@link PlainHistogram}. */
export interface PlainHistogramSpec {
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  readonly labelNames: readonly string[];
}

/**
 * A Prometheus histogram for hot paths: take a {@link HistogramSeries} per label set once, then
 * `observe` costs a few additions. Registered on `registry` like a prom-client metric (it renders the
 * same text); a series shows up once it has an observation, as with prom-client.
 * @throws {Error} from the constructor when the name is taken on `registry`.
 */
export class PlainHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #labelNames: readonly string[];
  readonly #series = new Map<string, HistogramSeries>();

  constructor(spec: PlainHistogramSpec, registry: Registry) {
    this.name = spec.name;
    this.help = spec.help;
    this.#bounds = [...spec.buckets].sort((a, b) => a - b);
    this.#labelNames = spec.labelNames;
    // The registry reads only name, help, type, aggregator, get() and reset() of a metric; its type
    // names prom-client's own classes.
    registry.registerMetric(this as unknown as Metric);
  }

  /**
   * The series of `labels` (every label name of the spec, nothing else); the same object for the same
   * values, so callers keep it and observe on it.
   * @throws {Error} when a label is missing or unknown.
   */
  series(labels: Readonly<Record<string, string>>): HistogramSeries {
    const keys = Object.keys(labels);
    if (keys.length !== this.#labelNames.length || !this.#labelNames.every((l) => labels[l] !== undefined)) {
      throw new Error(`${this.name} takes the labels ${this.#labelNames.join(', ')}, got ${keys.join(', ')}`);
    }
    const key = JSON.stringify(this.#labelNames.map((l) => labels[l]));
    let series = this.#series.get(key);
    if (series === undefined) {
      series = new HistogramSeries({ ...labels }, this.#bounds);
      this.#series.set(key, series);
    }
    return series;
  }

  /** What the registry renders as text: prom-client's histogram gives the series labels as `sharedLabels`. */
  getForPromString(): Promise<ExportedMetric<ExportValue>> {
    const values = [...this.#series.values()].filter((s) => s.count > 0).flatMap((s) => s.values(this.name));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** The metric as JSON (`registry.getMetricsAsJSON()`): as prom-client's, with every label in `labels`. */
  async get(): Promise<ExportedMetric<Omit<ExportValue, 'sharedLabels'>>> {
    const metric = await this.getForPromString();
    const values = metric.values.map(({ labels, sharedLabels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return { ...metric, values };
  }

  /** Zeroes every series (prom-client's `registry.resetMetrics()`); the series objects stay valid. */
  reset(): void {
    for (const series of this.#series.values()) series.reset();
  }
}
