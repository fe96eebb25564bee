import { ManualClock } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';
import { composeTs } from '@streamsvc/tso';
import type { AppendResult } from '@streamsvc/wal-core';

import { createMetrics, walNodeMetrics } from './metrics.js';

const result = {} as AppendResult;
const data = () =>
  MessageBuilder.data(new Uint8Array([1]))
    .vchannel('by-dev-dml_0_1v0')
    .build();

describe('createMetrics', () => {
  it('registers app metrics on its own registry and refreshes them before each scrape', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const terms = metrics.gauge({ name: 'streamsvc_pchannel_term', help: 'Term.', labelNames: ['pchannel'] });
    const moves = metrics.counter({ name: 'streamsvc_moves_total', help: 'Moves.' });
    let term = 1;
    metrics.beforeScrape(() => terms.set({ pchannel: 'p0' }, term));
    moves.inc(2);
    term = 7;
    const scraped = await metrics.scrape();
    expect(scraped.contentType).toBe(metrics.registry.contentType);
    expect(scraped.body).toContain('streamsvc_pchannel_term{pchannel="p0"} 7');
    expect(scraped.body).toContain('streamsvc_moves_total 2');
    expect(() => metrics.gauge({ name: 'streamsvc_moves_total', help: 'again' })).toThrow(/already been registered/);
  });

  it('includes the process metrics under the streamsvc_ prefix by default', async () => {
    expect((await createMetrics().scrape()).body).toContain('streamsvc_process_cpu_user_seconds_total');
  });
});

describe('walNodeMetrics', () => {
  it('counts appends by pchannel, type and outcome, and ignores time ticks', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const interceptor = walNodeMetrics(metrics).appendInterceptor('by-dev-dml_0');
    await interceptor.append({ message: data(), signal: undefined }, async () => result);
    const failure = Object.assign(new Error('fenced'), { code: 'FENCED' });
    await expect(
      interceptor.append({ message: data(), signal: undefined }, () => Promise.reject(failure)),
    ).rejects.toBe(failure);
    await interceptor.append({ message: MessageBuilder.timeTick().build(), signal: undefined }, async () => result);
    const body = (await metrics.scrape()).body;
    expect(body).toContain('streamsvc_wal_appends_total{pchannel="by-dev-dml_0",type="Data",outcome="ok"} 1');
    expect(body).toContain('streamsvc_wal_appends_total{pchannel="by-dev-dml_0",type="Data",outcome="FENCED"} 1');
    expect(body).not.toContain('type="TimeTick"');
    expect(body).toContain('streamsvc_wal_append_seconds_count{pchannel="by-dev-dml_0"} 2');
  });

  it('stays exact across scrapes and across a WAL reopened for the same pchannel', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const node = walNodeMetrics(metrics);
    const appendN = async (pchannel: string, n: number): Promise<void> => {
      const interceptor = node.appendInterceptor(pchannel);
      for (let i = 0; i < n; i++) await interceptor.append({ message: data(), signal: undefined }, async () => result);
    };
    const count = (body: string, pchannel: string): string | undefined =>
      body.match(
        new RegExp(`streamsvc_wal_appends_total\\{pchannel="${pchannel}",type="Data",outcome="ok"\\} (\\d+)`),
      )?.[1];
    await appendN('p0', 3);
    let body = (await metrics.scrape()).body;
    expect(count(body, 'p0')).toBe('3');
    expect(body).not.toContain('pchannel="p1"');
    await appendN('p0', 2); // the WAL of p0 reopened: a new interceptor
    await appendN('p1', 5);
    body = (await metrics.scrape()).body;
    expect(count(body, 'p0')).toBe('5');
    expect(count(body, 'p1')).toBe('5');
    expect(body).toContain('streamsvc_wal_append_seconds_count{pchannel="p0"} 5');
    expect(body).toContain('streamsvc_wal_append_seconds_bucket{le="+Inf",pchannel="p1"} 5');
    expect(count((await metrics.scrape()).body, 'p0')).toBe('5'); // a scrape with nothing new changes nothing
  });

  it('reads open WALs, time-tick lag and stream counts from the manager and node', async () => {
    const clock = new ManualClock(1_700_000_010_000);
    const metrics = createMetrics({ processMetrics: false });
    const wal = walNodeMetrics(metrics, { clock });
    wal.observe(
      {
        status: () => [
          { pchannel: 'p0', state: 'open', latestTimeTick: composeTs(1_700_000_007_500, 3) },
          { pchannel: 'p1', state: 'opening', latestTimeTick: undefined },
        ],
      },
      { streams: { producers: 2, consumers: 5 } },
    );
    const body = (await metrics.scrape()).body;
    expect(body).toContain('streamsvc_wals_open 1');
    expect(body).toContain('streamsvc_wal_time_tick_lag_seconds{pchannel="p0"} 2.5');
    expect(body).not.toContain('streamsvc_wal_time_tick_lag_seconds{pchannel="p1"}');
    wal.observe({ status: () => [] }, { streams: { producers: 0, consumers: 0 } }); // p0 moved away
    expect((await metrics.scrape()).body).not.toContain('streamsvc_wal_time_tick_lag_seconds{pchannel="p0"}');
    expect(body).toContain('streamsvc_streams_open{kind="producer"} 2');
    expect(body).toContain('streamsvc_streams_open{kind="consumer"} 5');
  });
});
