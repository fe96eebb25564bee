import { Histogram, Registry } from 'prom-client';

import { PlainHistogram } from './plain-histogram.js';

const spec = { name: 'streamsvc_x_seconds', help: 'X.', labelNames: ['pchannel'], buckets: [0.001, 0.01, 0.1] };
const values = [0.0005, 0.001, 0.002, 0.05, 0.1, 0.5, 3, 0];

describe('PlainHistogram', () => {
  it('renders the same text as a prom-client histogram given the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const plain = new PlainHistogram(spec, ours);
    const prom = new Histogram({ ...spec, registers: [theirs] });
    for (const [i, v] of values.entries()) {
      const pchannel = i % 3 === 0 ? 'p0' : 'p"1\\';
      plain.series({ pchannel }).observe(v);
      prom.observe({ pchannel }, v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // prom-client adds empty exemplar slots; nothing reads them without exemplars enabled.
    const withoutExemplars = (metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>): unknown =>
      metrics.map((m) => ({
        ...m,
        values: m.values.map((v) => Object.fromEntries(Object.entries(v).filter(([key]) => key !== 'exemplar'))),
      }));
    expect(withoutExemplars(await ours.getMetricsAsJSON())).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
  });

  it('hands out one series per label values and exports only series with observations', async () => {
    const registry = new Registry();
    const plain = new PlainHistogram(spec, registry);
    expect(plain.series({ pchannel: 'p0' })).toBe(plain.series({ pchannel: 'p0' }));
    plain.series({ pchannel: 'p1' }).observe(0.002);
    const text = await registry.metrics();
    expect(text).toContain('streamsvc_x_seconds_count{pchannel="p1"} 1');
    expect(text).not.toContain('pchannel="p0"');
  });

  it('refuses a taken name and label sets that do not match its label names', () => {
    const registry = new Registry();
    const plain = new PlainHistogram(spec, registry);
    expect(() => new PlainHistogram(spec, registry)).toThrow(/already been registered/);
    expect(() => plain.series({})).toThrow(/takes the labels pchannel/);
    expect(() => plain.series({ pchannel: 'p0', type: 'Data' })).toThrow(/takes the labels pchannel/);
  });

  it('zeroes its series on reset, which stay usable', async () => {
    const registry = new Registry();
    const plain = new PlainHistogram(spec, registry);
    const series = plain.series({ pchannel: 'p0' });
    series.observe(0.002);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('pchannel="p0"');
    series.observe(0.2);
    expect(await registry.metrics()).toContain('streamsvc_x_seconds_bucket{le="+Inf",pchannel="p0"} 1');
  });
});
