import { describe, expect, it } from 'vitest';
import { LogHistogram } from './log-histogram.ts';

const twoPercent = () => new LogHistogram({ ratio: 1.02, smallest: 0.01 });

describe('LogHistogram', () => {
  it('reads quantiles to within one bin, never below the true value', () => {
    const h = twoPercent();
    for (let ms = 1; ms <= 1000; ms++) h.add(ms);
    const p99 = h.quantile(0.99)!;
    expect(p99).toBeGreaterThanOrEqual(990);
    expect(p99).toBeLessThanOrEqual(990 * 1.02);
    expect(h.quantile(0)).toBeCloseTo(1, 1);
    expect(h.max).toBe(1000);
  });

  it('is empty without samples, and after taking back what was merged', () => {
    const window = twoPercent();
    expect(window.quantile(0.99)).toBeNull();
    const bucket = twoPercent();
    bucket.add(5);
    bucket.add(0);
    window.merge(bucket);
    expect(window.count).toBe(2);
    window.merge(bucket, -1);
    expect(window.count).toBe(0);
    expect(window.quantile(0.5)).toBeNull();
  });

  it('counts at or beyond a bound only the bins wholly there: a straddling bin is not claimed', () => {
    const h = new LogHistogram({ ratio: 1.001, smallest: 0.001 });
    for (const ms of [0, 0.5, 150, 200, 5000]) h.add(ms);
    expect(h.countFrom(0)).toBe(5);
    expect(h.countFrom(100)).toBe(3);
    // 150 sits in a bin that begins just below 150: not provably at or beyond it.
    expect(h.countFrom(150)).toBe(2);
    expect(h.countFrom(Infinity)).toBe(0);
  });

  it('crosses a thread as its bins and rebuilds the same quantiles', () => {
    const h = new LogHistogram({ ratio: 1.1, smallest: 1 });
    for (let us = 1; us < 50_000; us += 37) h.add(us);
    const copy = new LogHistogram({ ratio: 1.1, smallest: 1 });
    copy.addBins(h.bins(), h.max);
    for (const q of [0.5, 0.9, 0.99]) expect(copy.quantile(q)).toBe(h.quantile(q));
    expect(copy.count).toBe(h.count);
    expect(copy.max).toBe(h.max);
  });
});
