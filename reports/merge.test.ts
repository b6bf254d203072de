import { describe, expect, it } from 'vitest';
import { ResultFileError } from '../core/errors.ts';
import type { OpFunction } from '../result/checks.ts';
import { decodeHistogram, encodeHistogram, newHistogram, summarize } from '../result/histogram.ts';
import { loadResult, parseResult, type ResultFile } from '../result/schema.ts';
import { footprintWith } from '../test/support/footprint.ts';
import { IncompatibleResultsError } from './compare.ts';
import { MAX_EXAMPLES, MERGE_NOTE, mergeResults, SHARDS_NOTE } from './merge.ts';

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

  it('every op is added; byPhase is the merged all where every input measured the op in one phase only (no faults), and the note says so', () => {
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
        expect(Object.keys(before.byPhase)).toEqual(['steady']);
        expect(entry.byPhase).toEqual({ steady: entry.all });
      }
    }
    expect(merged.mergedFrom).toEqual({ files: ['a.json', 'b.json'], note: MERGE_NOTE });
    expect(MERGE_NOTE).toContain('byPhase dropped');
  });

  it('byPhase is dropped where an input measured the op in several phases (not re-derivable without per-phase histograms)', () => {
    const merged = mergeResults([
      { source: 'a.json', result: sentinel },
      { source: 'b.json', result: sentinel },
    ]);
    const before = sentinel.runs[0]!.latency.verify!;
    expect(Object.keys(before.byPhase).length).toBeGreaterThan(1);
    expect(merged.runs[0]!.latency.verify!.byPhase).toEqual({});
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

describe('mergeResults: the shards of one run', () => {
  const START = '2026-12-01T10:00:00.000Z';
  type ShardRecord = NonNullable<ResultFile['runs'][number]['shard']>;

  /** Shard `index` of `count`: the fixture's blacklist run at its part of the rate, with what a shard records. */
  function shard(index: number, count: number, record: Partial<ShardRecord> = {}): ResultFile {
    const r = copy(single);
    r.runs = [r.runs[1]!];
    const load = r.scenario.load as Record<string, unknown>;
    r.scenario = { ...r.scenario, load: { ...load, shard: { index, count }, startAt: START } };
    r.runs[0]!.load.targetRate = 500 / count;
    r.runs[0]!.shard = {
      index,
      count,
      startAt: START,
      startedAtWallMs: Date.parse(START) + 0.4,
      clockOffsetMs: 0.1 * index,
      clockOffsetUncertaintyMs: 0.3,
      ...record,
    };
    return r;
  }
  const named = (results: ResultFile[]) => results.map((result, i) => ({ source: `shard-${i}.json`, result }));

  it('a complete set in any order merges into the whole run: counts add, the scenario is the one-generator scenario, the shards recorded', () => {
    const parts = [shard(2, 3), shard(0, 3), shard(1, 3)];
    const merged = mergeResults(named(parts));
    const run = merged.runs[0]!;
    expect(run.load.completedOps).toBe(3 * single.runs[1]!.load.completedOps);
    expect(run.load.targetRate).toBeCloseTo(500, 9);
    expect(run.latency.verify!.all.count).toBe(3 * single.runs[1]!.latency.verify!.all.count);
    expect(run.shard).toBeUndefined();
    expect(run.redis).toMatchObject({ keys: 3 * 58, entries: 3 * 58, bytesPerEntry: 83.6 });
    expect((merged.scenario.load as Record<string, unknown>).shard).toBeUndefined();
    expect((merged.scenario.load as Record<string, unknown>).startAt).toBeUndefined();
    expect(merged.scenario).toEqual(single.scenario);
    expect(merged.mergedFrom.note).toBe(`${MERGE_NOTE}; ${SHARDS_NOTE}`);
    expect(merged.mergedFrom.shards).toEqual({
      count: 3,
      startAt: START,
      clockOffsetSpreadMs: 0.2,
      startSpreadMs: 0.2,
      members: [
        { index: 0, file: 'shard-1.json', startedAtWallMs: Date.parse(START) + 0.4, clockOffsetMs: 0, clockOffsetUncertaintyMs: 0.3 },
        { index: 1, file: 'shard-2.json', startedAtWallMs: Date.parse(START) + 0.4, clockOffsetMs: 0.1, clockOffsetUncertaintyMs: 0.3 },
        { index: 2, file: 'shard-0.json', startedAtWallMs: Date.parse(START) + 0.4, clockOffsetMs: 0.2, clockOffsetUncertaintyMs: 0.3 },
      ],
      warnings: [],
    });
    expect(() => parseResult(JSON.parse(JSON.stringify(merged)), 'merged')).not.toThrow();
  });

  it("the scenario's thresholds are checked on the merged run, which a shard alone could not pass", () => {
    const parts = [shard(0, 2), shard(1, 2)].map((r) => {
      r.scenario.thresholds = { throughput: 900, 'verify.steady.p99': 1000 };
      return r;
    });
    const merged = mergeResults(named(parts));
    expect(merged.runs[0]!.thresholds.map((t) => [t.metric, t.measured, t.ok])).toEqual([
      ['throughput', 1000, true],
      ['verify.steady.p99', merged.runs[0]!.latency.verify!.all.p99, true],
    ]);
    (parts[1]!.scenario.thresholds as Record<string, number>).throughput = 1500;
    (parts[0]!.scenario.thresholds as Record<string, number>).throughput = 1500;
    const broken = mergeResults(named(parts));
    expect(broken.verdict.thresholdsBroken).toBe(1);
  });

  it('a missing, repeated or foreign shard is one line naming it', () => {
    expect(() => mergeResults(named([shard(0, 3), shard(2, 3)]))).toThrow(
      new IncompatibleResultsError(
        "shard 1/3 is missing (have 0 from shard-0.json, 2 from shard-1.json): a merge needs every shard's result, or its counts are short of the run's",
      ),
    );
    expect(() => mergeResults(named([shard(0, 2), shard(0, 2)]))).toThrow(
      new IncompatibleResultsError('shard 0/2 is in both shard-0.json and shard-1.json: each shard once'),
    );
    expect(() => mergeResults(named([shard(0, 2), shard(1, 3)]))).toThrow(
      'shard-0.json is shard 0/2 and shard-1.json is shard 1/3: the shards of one run all have the same count',
    );
    expect(() => mergeResults(named([shard(0, 2), shard(1, 2, { startAt: '2026-12-01T11:00:00.000Z' })]))).toThrow(
      'shard-0.json started at 2026-12-01T10:00:00.000Z and shard-1.json at 2026-12-01T11:00:00.000Z: the shards of one run share one --start-at',
    );
    const whole = copy(single);
    whole.runs = [whole.runs[1]!];
    expect(() => mergeResults([...named([shard(0, 2)]), { source: 'whole.json', result: whole }])).toThrow(
      'whole.json is a whole run and shard-0.json is shard 0/2: merge the shards of one run, or whole runs, not both',
    );
  });

  it('warns when the shards began more than 50 ms apart on the Redis clock, and says when a clock was not measured', () => {
    const skewed = mergeResults(named([shard(0, 2), shard(1, 2, { clockOffsetMs: -80 })])).mergedFrom.shards!;
    expect(skewed.clockOffsetSpreadMs).toBe(80);
    // Both read START on their own clock; the one 80 ms behind began 80 ms later on the Redis clock.
    expect(skewed.startSpreadMs).toBe(80);
    expect(skewed.warnings).toEqual([
      "the shards' measured phases began up to 80.0 ms apart on the Redis clock, over 50 ms (their clocks against Redis TIME: 0: +0.00 ms, 1: -80.0 ms; spread 80.0 ms): the merged timeline is smeared by as much (counts and latency histograms are exact); synchronise the generators' clocks (NTP, chrony)",
    ]);
    // Clocks 80 ms apart, each started when its clock said so: the late one was in step after all.
    const late = mergeResults(named([shard(0, 2), shard(1, 2, { clockOffsetMs: 80, startedAtWallMs: Date.parse(START) + 80.4 })])).mergedFrom.shards!;
    expect(late.startSpreadMs).toBe(0);
    expect(late.warnings).toHaveLength(1);
    const unmeasured = mergeResults(named([shard(0, 2), shard(1, 2, { clockOffsetMs: null, clockOffsetUncertaintyMs: null })])).mergedFrom.shards!;
    expect(unmeasured.clockOffsetSpreadMs).toBeNull();
    expect(unmeasured.warnings).toEqual([
      "the clock offset of shard 1 was not measured (Redis TIME refused): how far apart the shards' measured phases began is not known, only that their own clocks read 0.00 ms apart",
    ]);
  });
});
