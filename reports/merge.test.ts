import { describe, expect, it } from 'vitest';
import { ResultFileError } from '../core/errors.ts';
import type { OpFunction } from '../result/checks.ts';
import { decodeHistogram, encodeHistogram, newHistogram, summarize } from '../result/histogram.ts';
import { loadResult, parseResult, type ResultFile } from '../result/schema.ts';
import { footprintWith } from '../test/support/footprint.ts';
import { IncompatibleResultsError } from './compare.ts';
import { MAX_EXAMPLES, MERGE_NOTE, mergeResults } from './merge.ts';

const SENTINEL = new URL('./fixtures/sentinel-kill.json', import.meta.url).pathname;
const SINGLE = new URL('./fixtures/single-quick.json', import.meta.url).pathname;
const sentinel = loadResult(SENTINEL);
const single = loadResult(SINGLE);
const copy = (result: ResultFile): ResultFile => structuredClone(result);

function histogramOf(values: readonly number[]) {
  const h = newHistogram();
  for (const v of values) h.recordValue(v);
  return h;
}

/** Deterministic, skewed latencies in microseconds: a body and a tail, like a real verify. */
function latencies(n: number, seed: number, scaleUs: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const u = x / 2147483648;
    out.push(Math.max(1, Math.round(scaleUs * (u < 0.98 ? 1 + u : 20 + 200 * u))));
  }
  return out;
}

describe('mergeResults: histograms', () => {
  it('the merged histogram is the histogram of the union of the values', () => {
    const a = latencies(5000, 1, 300);
    const b = latencies(3000, 7, 900);
    // Encoding keeps values at the histogram's resolution (3 significant digits), so the reference goes through it too.
    const exact = histogramOf([...a, ...b]);
    const union = decodeHistogram(encodeHistogram(exact));
    const fileA = copy(single);
    const fileB = copy(single);
    fileA.runs[1]!.latency.verify!.histogram = encodeHistogram(histogramOf(a));
    fileB.runs[1]!.latency.verify!.histogram = encodeHistogram(histogramOf(b));

    const merged = mergeResults([
      { source: 'a.json', result: fileA },
      { source: 'b.json', result: fileB },
    ]);
    const verify = merged.runs[1]!.latency.verify!;
    const h = decodeHistogram(verify.histogram);
    expect(h.totalCount).toBe(8000);
    expect(h.totalCount).toBe(union.totalCount);
    for (const p of [1, 25, 50, 90, 99, 99.9, 99.99, 100]) expect(h.getValueAtPercentile(p)).toBe(union.getValueAtPercentile(p));
    expect(h.maxValue).toBe(union.maxValue);
    expect(h.minNonZeroValue).toBe(union.minNonZeroValue);
    expect(h.mean).toBeCloseTo(union.mean, 6);
    // 3 significant digits: the encoded max is the exact one to within 0.1%.
    expect(Math.abs(h.maxValue - exact.maxValue)).toBeLessThanOrEqual(exact.maxValue / 1000);
    expect(h.getValueAtPercentile(99)).toBe(exact.getValueAtPercentile(99));
    // `all` is recomputed from the sum, not copied from an input.
    expect(verify.all).toEqual(summarize(union));
    expect(verify.all.count).toBe(8000);
  });

  it('every op is added, byPhase is dropped (not re-derivable) and the note says so', () => {
    const merged = mergeResults([
      { source: 'a.json', result: single },
      { source: 'b.json', result: single },
    ]);
    for (const [i, run] of merged.runs.entries()) {
      const input = single.runs[i]!;
      expect(Object.keys(run.latency).sort()).toEqual(Object.keys(input.latency).sort());
      for (const [op, entry] of Object.entries(run.latency)) {
        const before = input.latency[op as OpFunction]!;
        expect(entry.all.count).toBe(2 * before.all.count);
        // Doubling every count leaves the percentiles where they were.
        expect(entry.all.p99).toBe(summarize(decodeHistogram(before.histogram)).p99);
        expect(entry.byPhase).toEqual({});
      }
    }
    expect(merged.mergedFrom).toEqual({ files: ['a.json', 'b.json'], note: MERGE_NOTE });
    expect(MERGE_NOTE).toContain('byPhase dropped');
  });

  it('an op only one generator measured is kept as it is', () => {
    const b = copy(single);
    delete b.runs[3]!.latency.refresh;
    const merged = mergeResults([
      { source: 'a.json', result: single },
      { source: 'b.json', result: b },
    ]);
    expect(merged.runs[3]!.latency.refresh!.all).toEqual(single.runs[3]!.latency.refresh!.all);
  });
});

describe('mergeResults: service time', () => {
  const withServiceTime = (result: ResultFile, values: readonly number[]): ResultFile => {
    const out = copy(result);
    for (const run of out.runs) {
      for (const entry of Object.values(run.latency)) {
        const h = histogramOf(values);
        entry.serviceTime = { all: summarize(h), histogram: encodeHistogram(h) };
      }
    }
    return out;
  };

  it('adds where every input has it: the histogram of the union, all recomputed from it', () => {
    const a = latencies(4000, 3, 200);
    const b = latencies(2000, 11, 500);
    const merged = mergeResults([
      { source: 'a.json', result: withServiceTime(single, a) },
      { source: 'b.json', result: withServiceTime(single, b) },
    ]);
    const union = decodeHistogram(encodeHistogram(histogramOf([...a, ...b])));
    for (const run of merged.runs) {
      for (const entry of Object.values(run.latency)) {
        const service = entry.serviceTime!;
        expect(decodeHistogram(service.histogram).totalCount).toBe(6000);
        expect(service.all).toEqual(summarize(union));
      }
    }
    expect(parseResult(JSON.parse(JSON.stringify(merged)))).toEqual(merged);
  });

  it('absent where an input lacks it (written before it was measured): a partial sum would be some of the load', () => {
    const merged = mergeResults([
      { source: 'a.json', result: withServiceTime(single, latencies(100, 1, 200)) },
      { source: 'b.json', result: single },
    ]);
    for (const run of merged.runs) for (const entry of Object.values(run.latency)) expect(entry.serviceTime).toBeUndefined();
    expect(MERGE_NOTE).toContain('serviceTime likewise where every input that measured the op has it');
  });

  it('an input that did not measure the op at all leaves the sum of the others exact', () => {
    const values = latencies(500, 5, 300);
    const b = withServiceTime(single, values);
    delete b.runs[3]!.latency.refresh;
    const merged = mergeResults([
      { source: 'a.json', result: withServiceTime(single, values) },
      { source: 'b.json', result: b },
    ]);
    expect(merged.runs[3]!.latency.refresh!.serviceTime!.all).toEqual(summarize(decodeHistogram(encodeHistogram(histogramOf(values)))));
  });

  it('names the file and field of a service-time histogram that does not decode', () => {
    const bad = withServiceTime(single, [100]);
    bad.runs[1]!.latency.verify!.serviceTime!.histogram = 'not-a-histogram';
    expect(() =>
      mergeResults([
        { source: 'a.json', result: withServiceTime(single, [100]) },
        { source: 'b.json', result: bad },
      ]),
    ).toThrow(/^b\.json: field runs\[1\]\.latency\.verify\.serviceTime\.histogram is not a valid HdrHistogram/);
  });
});

describe('mergeResults: counters, timeline, checks', () => {
  const a = copy(sentinel);
  const b = copy(sentinel);
  b.createdAt = '2020-01-01T00:00:00.000Z';
  b.environment.platform = 'other-machine';
  b.runs[0]!.interrupted = true;
  b.runs[0]!.load.achievedRate = 420;
  b.runs[0]!.load.completedOps = 2500;
  b.runs[0]!.load.workers = 3;
  b.runs[0]!.timeline = b.runs[0]!.timeline.slice(0, 10).map((bucket) => ({ ...bucket, p99: bucket.p99 * 2, errors: 1 }));
  b.runs[0]!.checks.unavailability!.figures!.longestWindowMs = 5000;
  b.runs[0]!.checks.unavailability!.figures!.baselineP99Ms = 1;
  b.runs[0]!.checks['revoked-accepted']!.counts.violations = 4;
  b.runs[0]!.checks['revoked-accepted']!.valid = false;
  b.runs[0]!.faults = [];
  b.runs[0]!.events = [];
  const merged = mergeResults([
    { source: 'a.json', result: a },
    { source: 'b.json', result: b },
  ]);
  const run = merged.runs[0]!;
  const ra = a.runs[0]!;

  it('passes the result schema (and survives a JSON round trip)', () => {
    expect(() => parseResult(JSON.parse(JSON.stringify(merged)), 'merged')).not.toThrow();
    expect(merged.schemaVersion).toBe(a.schemaVersion);
    expect(merged.scenario).toEqual(a.scenario);
  });

  it('load: completed ops, achieved and target rate, workers sum', () => {
    expect(run.load).toMatchObject({ completedOps: 3000 + 2500, achievedRate: 500 + 420, targetRate: 1000, workers: 1 + 3, inFlightAtEnd: 2 });
  });

  it('timeline: counts add by index, latencies take the max, the longer timeline sets the length', () => {
    expect(run.timeline).toHaveLength(ra.timeline.length);
    const [m0, a0, b0] = [run.timeline[0]!, ra.timeline[0]!, b.runs[0]!.timeline[0]!];
    expect(m0).toEqual({
      t: 0,
      ops: a0.ops + b0.ops,
      verifies: a0.verifies + b0.verifies,
      errors: a0.errors + 1,
      degraded: a0.degraded + b0.degraded,
      revokedAccepted: a0.revokedAccepted + b0.revokedAccepted,
      p50: a0.p50,
      p99: a0.p99 * 2,
      max: Math.max(a0.max, b0.max),
    });
    expect(run.timeline[30]).toEqual(ra.timeline[30]);
  });

  it('checks: counts sum, *Ms figures take the max, one failing generator fails the check, examples capped', () => {
    const unavailability = run.checks.unavailability!;
    expect(unavailability.counts.errors).toBe(2 * ra.checks.unavailability!.counts.errors!);
    expect(unavailability.figures!.longestWindowMs).toBe(5000);
    expect(unavailability.figures!.baselineP99Ms).toBe(ra.checks.unavailability!.figures!.baselineP99Ms);
    expect(run.checks['revoked-accepted']!.counts).toMatchObject({ violations: 4, checked: 2 * ra.checks['revoked-accepted']!.counts.checked! });
    expect(run.checks['revoked-accepted']!.valid).toBe(false);
    expect(run.checks['propagation-lag']!.figures!.count).toBe(2 * ra.checks['propagation-lag']!.figures!.count!);
    expect(ra.checks['valid-rejected']!.examples).toHaveLength(5);
    expect(run.checks['valid-rejected']!.examples).toEqual(ra.checks['valid-rejected']!.examples.slice(0, MAX_EXAMPLES));
    expect(run.checks.unavailability!.perFault).toEqual(ra.checks.unavailability!.perFault);
  });

  it("drops the footprint: each generator's CPU figures are its own machine's", () => {
    const measured = copy(single);
    for (const r of measured.runs) r.footprint = footprintWith({ generatorCore: 0.5, redisCore: 0.2, notIdle: 0.6 });
    const m = mergeResults([
      { source: 'a.json', result: measured },
      { source: 'b.json', result: measured },
    ]);
    expect(m.runs.map((r) => r.footprint)).toEqual(m.runs.map(() => null));
    expect(MERGE_NOTE).toContain('footprint dropped');
  });

  it('a flag figure stays a flag; a null figure does not hide the other', () => {
    const m = mergeResults([
      { source: 'a.json', result: single },
      { source: 'b.json', result: single },
    ]);
    expect(m.runs[0]!.checks['lost-revocations']!.figures).toEqual({ notApplicable: 1 });
    expect(m.runs[0]!.checks['revoked-accepted']!.figures).toEqual({
      allowedAfterAckMs: null,
      longestAcceptAfterAckMs: single.runs[0]!.checks['revoked-accepted']!.figures!.longestAcceptAfterAckMs,
    });
  });

  it('faults, events and environment from the first file; interrupted if any; createdAt the earliest', () => {
    expect(run.faults).toEqual(ra.faults);
    expect(run.events).toEqual(ra.events);
    expect(merged.environment).toEqual(a.environment);
    expect(run.interrupted).toBe(true);
    expect(merged.runs[1]!.interrupted).toBe(false);
    expect(merged.createdAt).toBe('2020-01-01T00:00:00.000Z');
    expect(run.reconciledTokens).toBe(2 * ra.reconciledTokens);
    expect(run.slip!.count).toBe(2 * ra.slip!.count);
  });

  it('does not modify its inputs', () => {
    expect(a).toEqual(sentinel);
  });
});

describe('mergeResults: unusable input', () => {
  it('a different scenario names the field', () => {
    const other = copy(single);
    (other.scenario as { load: { rate: number } }).load.rate = 1000;
    expect(() =>
      mergeResults([
        { source: 'a.json', result: single },
        { source: 'b.json', result: other },
      ]),
    ).toThrow(new IncompatibleResultsError('scenario differs between a.json and b.json: load.rate 500 vs 1000'));
  });

  it('a run missing from one generator is named', () => {
    const other = copy(single);
    other.runs.pop();
    expect(() =>
      mergeResults([
        { source: 'a.json', result: single },
        { source: 'b.json', result: other },
      ]),
    ).toThrow('run double-token (single) is in a.json but not in b.json: every load generator must run the same strategies');
  });

  it('a histogram that does not decode names the file and the field', () => {
    const other = copy(single);
    other.runs[2]!.latency.revoke!.histogram = 'not-a-histogram';
    expect(() =>
      mergeResults([
        { source: 'a.json', result: single },
        { source: 'b.json', result: other },
      ]),
    ).toThrow(ResultFileError);
    expect(() =>
      mergeResults([
        { source: 'a.json', result: single },
        { source: 'b.json', result: other },
      ]),
    ).toThrow(/^b\.json: field runs\[2\]\.latency\.revoke\.histogram is not a valid HdrHistogram/);
  });
});
