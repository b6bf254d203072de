import { describe, expect, it } from 'vitest';
import { encodeHistogram, newHistogram, summarize } from '../result/histogram.ts';
import { type LatencySummary, loadResult, type StrategyRunResult } from '../result/schema.ts';
import {
  DIFFERS_MIN_MS,
  DIFFERS_RATIO,
  LATENCY_COLUMNS,
  LATENCY_DIFFERS_RULE,
  LATENCY_INTRO,
  latencyDiffers,
  latencyRows,
  serviceTimeNote,
} from './latency.ts';

const single = loadResult(new URL('./fixtures/single-quick.json', import.meta.url).pathname);

const summary = (p99: number, fields: Partial<LatencySummary> = {}): LatencySummary => ({
  count: 100,
  p50: p99 / 4,
  p90: p99 / 2,
  p99,
  p999: p99 * 2,
  p9999: p99 * 2,
  max: p99 * 3,
  mean: p99 / 3,
  ...fields,
});

/** A copy of the run with these service times (us) for `op`, written through a real histogram as a run writes them. */
function withServiceTime(run: StrategyRunResult, op: 'verify' | 'revoke', serviceUs: readonly number[]): StrategyRunResult {
  const copy = structuredClone(run);
  const h = newHistogram();
  for (const v of serviceUs) h.recordValue(v);
  copy.latency[op]!.serviceTime = { all: summarize(h), histogram: encodeHistogram(h) };
  return copy;
}

describe('latencyDiffers: corrected p99 more than 10% and more than 0.1 ms above service-time p99', () => {
  it('both conditions are needed', () => {
    expect(DIFFERS_RATIO).toBe(1.1);
    expect(DIFFERS_MIN_MS).toBe(0.1);
    // 20% above but only 0.04 ms: a few microseconds of scheduling on a fast verify.
    expect(latencyDiffers(summary(0.24), summary(0.2))).toBe(false);
    // 0.5 ms above but only 5%: jitter on a slow op.
    expect(latencyDiffers(summary(10.5), summary(10))).toBe(false);
    expect(latencyDiffers(summary(0.5), summary(0.2))).toBe(true);
    expect(latencyDiffers(summary(12), summary(10))).toBe(true);
  });

  it('at the edges: exactly 10% or exactly 0.1 ms above is not more than', () => {
    expect(latencyDiffers(summary(2.2), summary(2))).toBe(false);
    expect(latencyDiffers(summary(2.21), summary(2))).toBe(true);
    expect(latencyDiffers(summary(0.6), summary(0.5))).toBe(false);
    expect(latencyDiffers(summary(0.61), summary(0.5))).toBe(true);
  });

  it('equal, or service time not measured: no difference to show', () => {
    expect(latencyDiffers(summary(3), summary(3))).toBe(false);
    expect(latencyDiffers(summary(3), undefined)).toBe(false);
  });

  it('the rule and the intro say what they mean, in words a reader can check', () => {
    expect(LATENCY_DIFFERS_RULE).toBe('marked where corrected p99 is more than 10% and more than 0.1 ms above service-time p99');
    expect(LATENCY_INTRO).toMatch(/Corrected latency counts from when an operation was due/);
    expect(LATENCY_INTRO).toMatch(/Service time counts from when the generator sent it/);
  });
});

describe('latencyRows', () => {
  it('one row per run and op the run measured, verify first; service time "-" where not measured (older results)', () => {
    const rows = latencyRows(single.runs);
    expect(rows).toHaveLength(single.runs.reduce((n, r) => n + Object.keys(r.latency).length, 0));
    const firstRun = rows.filter((r) => r.run === single.runs[0]);
    // The fixture holds pure's ops as verify, revokeAll, revoke, issue: the rows put them in the reports' order.
    expect(firstRun.map((r) => r.op)).toEqual(['verify', 'issue', 'revoke', 'revokeAll']);
    const verify = single.runs[0]!.latency.verify!.all;
    expect(firstRun[0]!.cells).toEqual(['pure on single', 'verify', '907', '0.23', '3.12', '7.75', '7.75', '-', '-', '-']);
    expect(verify.p99).toBe(3.115);
    for (const row of rows) {
      expect(row.cells).toHaveLength(LATENCY_COLUMNS.length);
      expect(row.differs).toBe(false);
    }
    expect(LATENCY_COLUMNS.map((c) => c.title)).toEqual([
      'run',
      'op',
      'count',
      'corrected p50 ms',
      'corrected p99 ms',
      'corrected p99.9 ms',
      'corrected max ms',
      'service time p50 ms',
      'service time p99 ms',
      'service time p99.9 ms',
    ]);
  });

  it('service-time cells from the result, and differs by the rule', () => {
    // pure's corrected verify p99 is 3.115 ms; a service time of 0.2 to 0.6 ms is far below it.
    const fast = Array.from({ length: 1000 }, (_, i) => 200 + (i % 401));
    const run = withServiceTime(single.runs[0]!, 'verify', fast);
    const service = run.latency.verify!.serviceTime!.all;
    const [row] = latencyRows([run]);
    expect(row!.cells.slice(7)).toEqual([service.p50, service.p99, service.p999].map((v) => v.toFixed(2)));
    expect(row!.differs).toBe(true);
    // The same service time as corrected: shown, not marked.
    const same = structuredClone(single.runs[0]!);
    same.latency.verify!.serviceTime = { all: same.latency.verify!.all, histogram: same.latency.verify!.histogram };
    expect(latencyRows([same])[0]!.differs).toBe(false);
    expect(latencyRows([same])[0]!.cells.slice(7)).toEqual(['0.23', '3.12', '7.75']);
  });
});

describe('serviceTimeNote', () => {
  it('a short phrase for the headline where verify differs, otherwise nothing', () => {
    const fast = Array.from({ length: 1000 }, (_, i) => 200 + (i % 221));
    const run = withServiceTime(single.runs[0]!, 'verify', fast);
    expect(serviceTimeNote(run)).toBe(`service time p99 ${run.latency.verify!.serviceTime!.all.p99.toFixed(2)} ms`);
    expect(serviceTimeNote(run)).toMatch(/^service time p99 0\.4\d ms$/);
    expect(serviceTimeNote(single.runs[0]!)).toBeUndefined();
    // Only verify's service time is the headline's: a revoke that differs says nothing here.
    expect(serviceTimeNote(withServiceTime(single.runs[0]!, 'revoke', fast))).toBeUndefined();
  });
});
