import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MessageType, messageTypeName } from '@streamsvc/message';
import type { AppendInterceptor } from '@streamsvc/wal-core';
import type { StreamingNode, WalManager } from '@streamsvc/node';
import { physicalMsOf } from '@streamsvc/tso';

/** The Prometheus metrics of a streamsvc server (see docs/operations.md for what each means). */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Counts and times every append, by pchannel, type and outcome (an extension interceptor of each WAL). */
  appendInterceptor(pchannel: string): AppendInterceptor;
  /** Refreshes the gauges that are read from state rather than counted. */
  observe(manager: WalManager, node: StreamingNode): void;
}

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'streamsvc_' });
  const appends = new Counter({
    name: 'streamsvc_wal_appends_total',
    help: 'Appends by pchannel, message type and outcome (ok or the error code).',
    labelNames: ['pchannel', 'type', 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'streamsvc_wal_append_seconds',
    help: 'Time from the WAL taking a time tick to the backend acknowledging the append.',
    labelNames: ['pchannel'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const walsOpen = new Gauge({ name: 'streamsvc_wals_open', help: 'WALs open on this node.', registers: [registry] });
  const tickLag = new Gauge({
    name: 'streamsvc_wal_time_tick_lag_seconds',
    help: 'Wall clock minus the physical time of the newest published time tick, per pchannel.',
    labelNames: ['pchannel'],
    registers: [registry],
  });
  const streams = new Gauge({
    name: 'streamsvc_streams_open',
    help: 'Producer and consumer streams open on this node.',
    labelNames: ['kind'],
    registers: [registry],
  });
  return {
    registry,
    appendInterceptor(pchannel) {
      return {
        name: 'metrics',
        async append(ctx, next) {
          if (ctx.message.type === MessageType.TimeTick) return next(ctx);
          const type = messageTypeName(ctx.message.type);
          const stop = latency.startTimer({ pchannel });
          try {
            const result = await next(ctx);
            appends.inc({ pchannel, type, outcome: 'ok' });
            return result;
          } catch (e) {
            appends.inc({ pchannel, type, outcome: (e as { code?: string }).code ?? 'error' });
            throw e;
          } finally {
            stop();
          }
        },
      };
    },
    observe(manager, node) {
      const wals = manager.status();
      walsOpen.set(wals.filter((w) => w.state === 'open').length);
      const now = Date.now();
      for (const w of wals)
        if (w.latestTimeTick !== undefined)
          tickLag.set({ pchannel: w.pchannel }, (now - physicalMsOf(w.latestTimeTick)) / 1000);
      streams.set({ kind: 'producer' }, node.streams.producers);
      streams.set({ kind: 'consumer' }, node.streams.consumers);
    },
  };
}
