import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.ts';

describe('LatencyHistogram', () => {
  it('reads quantiles to within 2%, never below the true value', () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.add(ms);
    const p99 = h.quantile(0.99)!;
    expect(p99).toBeGreaterThanOrEqual(990);
    expect(p99).toBeLessThanOrEqual(990 * 1.02);
    expect(h.quantile(0)).toBeCloseTo(1, 1);
  });

  it('is empty without samples, and after taking back what was merged', () => {
    const window = new LatencyHistogram();
    expect(window.quantile(0.99)).toBeNull();
    const bucket = new LatencyHistogram();
    bucket.add(5);
    bucket.add(0);
    window.merge(bucket);
    expect(window.count).toBe(2);
    window.merge(bucket, -1);
    expect(window.count).toBe(0);
    expect(window.quantile(0.5)).toBeNull();
  });
});
