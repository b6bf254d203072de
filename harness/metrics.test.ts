import { describe, expect, it } from 'vitest';
import { encodeHistogram, newHistogram, summarize } from '../result/histogram.ts';
import { op } from '../test/support/history.ts';
import type { Op } from './history.ts';
import { countsIndex, Metrics, recordAt } from './metrics.ts';
import { seededRandom } from './workload.ts';

/** Nearest rank, as HdrHistogram reads a percentile; exact here: every value is under 2048 us, which 3 significant digits hold exactly. */
function percentileUs(sortedUs: readonly number[], p: number): number {
  return sortedUs[Math.max(1, Math.ceil((p / 100) * sortedUs.length)) - 1]!;
}

/**
 * Ops due every 1 ms, answered in 0.2 to 0.5 ms once sent; every fifth was sent late (a generator
 * that paused), 0.3 to 1.2 ms after it was due. Times in ms, on a microsecond grid.
 */
function ops(): Op[] {
  const out: Op[] = [];
  for (let i = 0; i < 400; i++) {
    const intendedMs = i;
    const lateMs = i % 5 === 0 ? 0.3 + (i % 7) * 0.15 : 0;
    const invokeMs = intendedMs + lateMs;
    const serviceMs = 0.2 + ((i * 37) % 301) / 1000;
    out.push(op(i % 4 === 3 ? 'revoke' : 'verify', invokeMs, invokeMs + serviceMs, { intendedMs }));
  }
  return out;
}

const us = (ms: number) => Math.max(1, Math.round(ms * 1000));
const byHand = (all: readonly Op[], f: Op['f'], from: (o: Op) => number) =>
  all
    .filter((o) => o.f === f)
    .map((o) => us(o.completeMs - from(o)))
    .sort((a, b) => a - b);

describe('Metrics: service time beside the corrected latency', () => {
  const history = ops();
  const metrics = new Metrics(100);
  for (const o of history) metrics.record(o, 1);

  it('service time is completeMs - invokeMs, corrected completeMs - intendedMs, per op type, as counted by hand', () => {
    for (const f of ['verify', 'revoke'] as const) {
      const service = byHand(history, f, (o) => o.invokeMs);
      const corrected = byHand(history, f, (o) => o.intendedMs);
      const s = summarize(metrics.serviceByOp.get(f)!);
      const c = summarize(metrics.byOp.get(f)!);
      expect(s.count).toBe(service.length);
      expect(c.count).toBe(corrected.length);
      for (const [p, key] of [
        [50, 'p50'],
        [90, 'p90'],
        [99, 'p99'],
        [99.9, 'p999'],
      ] as const) {
        expect(s[key], `${f} service ${key}`).toBe(percentileUs(service, p) / 1000);
        expect(c[key], `${f} corrected ${key}`).toBe(percentileUs(corrected, p) / 1000);
      }
      expect(s.max).toBe(service.at(-1)! / 1000);
      expect(s.mean).toBeCloseTo(service.reduce((a, b) => a + b, 0) / service.length / 1000, 3);
      // The late sends are in the corrected tail only.
      expect(c.p99).toBeGreaterThan(s.p99);
    }
  });

  it('travels from worker threads: serialized, merged into the orchestrator, the union of the parts', () => {
    const parts = [new Metrics(100), new Metrics(100)];
    for (const [i, o] of history.entries()) parts[i % 2]!.record(o, 1);
    const merged = new Metrics(100);
    for (const part of parts) merged.merge(part.serialize());
    for (const f of ['verify', 'revoke'] as const) {
      expect(summarize(merged.serviceByOp.get(f)!)).toEqual(summarize(metrics.serviceByOp.get(f)!));
      expect(summarize(merged.byOp.get(f)!)).toEqual(summarize(metrics.byOp.get(f)!));
    }
  });

  it('records into the histograms a merge made, in every phase: one set of histograms per op, not a second beside it', () => {
    const phases = ['steady', 'fault', 'recovery'] as const;
    const phased = history.map((o, i) => ({ ...o, phase: phases[Math.floor((i * 3) / history.length)]! }));
    const whole = new Metrics(100);
    for (const o of phased) whole.record(o, 1);
    const half = Math.floor(phased.length / 2);
    const first = new Metrics(100);
    for (const o of phased.slice(0, half)) first.record(o, 1);
    const continued = new Metrics(100);
    continued.merge(first.serialize());
    for (const o of phased.slice(half)) continued.record(o, 1);
    for (const f of ['verify', 'revoke'] as const) {
      expect(summarize(continued.byOp.get(f)!)).toEqual(summarize(whole.byOp.get(f)!));
      expect(summarize(continued.serviceByOp.get(f)!)).toEqual(summarize(whole.serviceByOp.get(f)!));
      expect([...continued.byOpPhase.get(f)!.keys()].sort()).toEqual([...phases].sort());
      for (const [phase, h] of whole.byOpPhase.get(f)!) expect(summarize(continued.byOpPhase.get(f)!.get(phase)!)).toEqual(summarize(h));
    }
  });
});

describe('the HdrHistogram fast path', () => {
  it('records exactly what recordValue records, for every magnitude, beyond the trackable range included', () => {
    const random = seededRandom(5);
    const fast = newHistogram();
    const reference = newHistogram();
    const values = [1, 2, 2047, 2048, 2049, 4095, 4096, 65_535, 1_000_000, 2 ** 31 - 1, 2 ** 31, 3_600_000_000, 2 ** 32 - 1, 2 ** 32, 5e9, 7e12];
    for (let i = 0; i < 50_000; i++) values.push(Math.max(1, Math.round(2 ** (random() * 36))));
    for (const value of values) {
      recordAt(fast, countsIndex(fast, value), value);
      reference.recordValue(value);
    }
    expect(fast.totalCount).toBe(reference.totalCount);
    expect(fast.maxValue).toBe(reference.maxValue);
    expect(fast.minNonZeroValue).toBe(reference.minNonZeroValue);
    expect(encodeHistogram(fast)).toBe(encodeHistogram(reference));
  });
});
