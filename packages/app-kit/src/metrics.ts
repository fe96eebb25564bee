import { systemClock } from '@streamsvc/common';
import type { Clock } from '@streamsvc/common';
import { MessageType, messageTypeName } from '@streamsvc/message';
import { physicalMsOf } from '@streamsvc/tso';
import type { AppendInterceptor } from '@streamsvc/wal-core';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { MetricsText } from './http-server.js';
import { PlainHistogram } from './plain-histogram.js';

/** Name, help and labels of one metric. Names should start with `streamsvc_` and carry their unit. */
export interface MetricSpec<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  /**
   * Runs before every read of the metric (each scrape), to fold in what is counted outside prom-client:
   * hot paths count into plain numbers, which costs nothing like a labelled `inc` per event.
   */
  readonly collect?: () => void;
}

/** A histogram's spec; `buckets` in the metric's unit (seconds for `_seconds`). */
export interface HistogramSpec<L extends string = string> extends MetricSpec<L> {
  readonly buckets?: readonly number[];
}

/** The Prometheus registry of one server process, and the way apps add their own metrics to it. */
export interface AppMetrics {
  readonly registry: Registry;
  /** Registers a counter on {@link registry}. @throws {Error} when the name is taken. */
  counter<L extends string = string>(spec: MetricSpec<L>): Counter<L>;
  /** Registers a gauge on {@link registry}. @throws {Error} when the name is taken. */
  gauge<L extends string = string>(spec: MetricSpec<L>): Gauge<L>;
  /** Registers a histogram on {@link registry}. @throws {Error} when the name is taken. */
  histogram<L extends string = string>(spec: HistogramSpec<L>): Histogram<L>;
  /** Runs `refresh` before every scrape, to set the gauges that are read from state rather than counted. */
  beforeScrape(refresh: () => void): void;
  /** Runs the refreshers, then renders every metric (what `/metrics` serves). Rejects if a refresher throws. */
  scrape(): Promise<MetricsText>;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Also collect prom-client's process metrics (`streamsvc_process_*`, `streamsvc_nodejs_*`). Default true. */
  readonly processMetrics?: boolean;
}

/**
 * A fresh registry (never prom-client's global one, so two servers in one test process don't clash),
 * with prom-client's process metrics under the `streamsvc_` prefix.
 */
export function createMetrics(options: MetricsOptions = {}): AppMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'streamsvc_' });
  const refreshers: (() => void)[] = [];
  return {
    registry,
    counter: (spec) => new Counter({ ...spec, labelNames: spec.labelNames ?? [], registers: [registry] }),
    gauge: (spec) => new Gauge({ ...spec, labelNames: spec.labelNames ?? [], registers: [registry] }),
    histogram: (spec) =>
      new Histogram({
        name: spec.name,
        help: spec.help,
        labelNames: spec.labelNames ?? [],
        ...(spec.buckets ? { buckets: [...spec.buckets] } : {}),
        ...(spec.collect ? { collect: spec.collect } : {}),
        registers: [registry],
      }),
    beforeScrape(refresh) {
      refreshers.push(refresh);
    },
    async scrape() {
      for (const refresh of refreshers) refresh();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** The WAL state {@link WalNodeMetrics.observe} reads (`WalManager` of `@streamsvc/node` has it). */
export interface WalStatusSource {
  status(): readonly {
    readonly pchannel: string;
    readonly state: string;
    readonly latestTimeTick: bigint | undefined;
  }[];
}

/** The stream counts {@link WalNodeMetrics.observe} reads (`StreamingNode` of `@streamsvc/node` has them). */
export interface StreamCountSource {
  readonly streams: { readonly producers: number; readonly consumers: number };
}

/** The metrics of a process that hosts WALs (standalone, streaming node); see docs/operations.md. */
export interface WalNodeMetrics {
  /** Counts and times every append, by pchannel, type and outcome (an extension interceptor of each WAL). */
  appendInterceptor(pchannel: string): AppendInterceptor;
  /** Refreshes the gauges that are read from state rather than counted. */
  observe(manager: WalStatusSource, node: StreamCountSource): void;
}

/**
 * Registers the WAL and node metrics on `metrics`: `streamsvc_wal_appends_total`,
 * `streamsvc_wal_append_seconds`, `streamsvc_wals_open`, `streamsvc_wal_time_tick_lag_seconds` and
 * `streamsvc_streams_open`. Call it once per registry (a second call throws: the names are taken).
 */
export function walNodeMetrics(metrics: AppMetrics, options: { readonly clock?: Clock } = {}): WalNodeMetrics {
  const clock = options.clock ?? systemClock;
  // Every append passes the interceptor, so it counts into plain numbers (successes per pchannel and
  // type; latencies in a PlainHistogram) and prom-client sees the successes at scrape time. prom-client's
  // labelled inc/observe hash the labels on every call, even on a `labels()` child: that was ~3 % of the
  // node's main thread under load. Failures are rare and go to prom-client directly.
  const okCounts = new Map<string, Map<MessageType, { n: number }>>();
  const appends = metrics.counter({
    name: 'streamsvc_wal_appends_total',
    help: 'Appends by pchannel, message type and outcome (ok or the error code).',
    labelNames: ['pchannel', 'type', 'outcome'],
    collect() {
      for (const [pchannel, byType] of okCounts)
        for (const [type, count] of byType)
          if (count.n > 0) {
            appends.inc({ pchannel, type: messageTypeName(type), outcome: 'ok' }, count.n);
            count.n = 0;
          }
    },
  });
  const latency = new PlainHistogram(
    {
      name: 'streamsvc_wal_append_seconds',
      help: 'Time from the WAL taking a time tick to the backend acknowledging the append.',
      labelNames: ['pchannel'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    },
    metrics.registry,
  );
  const walsOpen = metrics.gauge({ name: 'streamsvc_wals_open', help: 'WALs open on this node.' });
  const tickLag = metrics.gauge({
    name: 'streamsvc_wal_time_tick_lag_seconds',
    help: 'Wall clock minus the physical time of the newest published time tick, per pchannel.',
    labelNames: ['pchannel'],
  });
  const streams = metrics.gauge({
    name: 'streamsvc_streams_open',
    help: 'Producer and consumer streams open on this node.',
    labelNames: ['kind'],
  });
  return {
    appendInterceptor(pchannel) {
      // A WAL reopened for the same pchannel counts on where the last one stopped.
      const timer = latency.series({ pchannel });
      let okByType = okCounts.get(pchannel);
      if (okByType === undefined) okCounts.set(pchannel, (okByType = new Map()));
      const ok = okByType;
      return {
        name: 'metrics',
        // Not an async function: one fewer async frame per append (the chain turns throws into rejections).
        append(ctx, next) {
          const type = ctx.message.type;
          if (type === MessageType.TimeTick) return next(ctx);
          const startMs = performance.now();
          return next(ctx).then(
            (result) => {
              timer.observe((performance.now() - startMs) / 1000);
              const count = ok.get(type);
              if (count === undefined) ok.set(type, { n: 1 });
              else count.n++;
              return result;
            },
            (e: unknown) => {
              timer.observe((performance.now() - startMs) / 1000);
              appends.inc({ pchannel, type: messageTypeName(type), outcome: (e as { code?: string }).code ?? 'error' });
              throw e;
            },
          );
        },
      };
    },
    observe(manager, node) {
      const wals = manager.status();
      walsOpen.set(wals.filter((w) => w.state === 'open').length);
      const now = clock.nowMs();
      tickLag.reset(); // a pchannel that moved away must not keep its last value
      for (const w of wals)
        if (w.latestTimeTick !== undefined)
          tickLag.set({ pchannel: w.pchannel }, (now - physicalMsOf(w.latestTimeTick)) / 1000);
      streams.set({ kind: 'producer' }, node.streams.producers);
      streams.set({ kind: 'consumer' }, node.streams.consumers);
    },
  };
}
