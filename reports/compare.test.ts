import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../core/errors.ts';
import { loadResult, type ResultFile, SCHEMA_VERSION, type StrategyRunResult } from '../result/schema.ts';
import {
  compareResults,
  DEFAULT_THRESHOLDS,
  estimateNoise,
  IncompatibleResultsError,
  type MetricRow,
  parseThresholds,
  regressions,
  renderComparison,
  scenarioDifferences,
  steadyBuckets,
} from './compare.ts';

const SENTINEL = new URL('./fixtures/sentinel-kill.json', import.meta.url).pathname;
const SINGLE = new URL('./fixtures/single-quick.json', import.meta.url).pathname;
const sentinel = loadResult(SENTINEL);
const single = loadResult(SINGLE);
const copy = (result: ResultFile): ResultFile => structuredClone(result);
const side = (result: ResultFile, source: string) => ({ source, result });

function row(rows: readonly MetricRow[], run: string, metric: MetricRow['metric']): MetricRow {
  const found = rows.find((r) => r.run === run && r.metric === metric);
  if (!found) throw new Error(`no row ${run} ${metric}`);
  return found;
}

/** A steady timeline whose verify p99 alternates between two values, no faults: a known noise. */
function withTimeline(run: StrategyRunResult, p99s: readonly number[]): void {
  run.faults = [];
  run.load.durationMs = p99s.length * 100;
  run.timeline = p99s.map((p99, i) => ({ t: i * 100, ops: 50, verifies: 45, errors: 0, degraded: 0, revokedAccepted: 0, p50: 0.5, p99, max: p99 }));
}

describe('parseThresholds', () => {
  it('reads metric=N% pairs, with or without %', () => {
    expect(parseThresholds('p99=10%,throughput=5%')).toEqual({ p99: 10, throughput: 5 });
    expect(parseThresholds('service-p99=20%,service-time-p99=25')).toEqual({ 'service-p99': 25 });
    expect(parseThresholds(' p50=2.5 , p99.9=20%, unavailability=50%, violations=0%, entry-lost=1% ')).toEqual({
      p50: 2.5,
      p999: 20,
      unavailability: 50,
      violations: 0,
      'entry-lost': 1,
    });
  });

  it.each([['p98=10%'], ['p99'], ['p99=ten'], ['p99=-1%'], ['']])('%j is an invalid option naming --max-regression', (text) => {
    expect(() => parseThresholds(text)).toThrow(InvalidOptionError);
    expect(() => parseThresholds(text)).toThrow(/^--max-regression: expected/);
  });
});

describe('scenarioDifferences', () => {
  it('ignores the fields allowed to differ and names every other differing leaf', () => {
    const a = copy(sentinel).scenario;
    const b = copy(sentinel).scenario as { name: string; load: { rate: number }; topology: { redisServer: string }; faults: unknown[] };
    b.name = 'other';
    b.topology.redisServer = '/opt/redis/bin/redis-server';
    expect(scenarioDifferences(a, b)).toEqual([]);
    b.load.rate = 2000;
    b.faults = [];
    expect(scenarioDifferences(b, a)).toEqual(['load.rate 2000 vs 500', 'faults[0] (absent) vs {"at":2000,"action":"kill","target":"primary"}']);
  });
});

describe('estimateNoise', () => {
  it('uses the steady buckets only: before the first fault, whole buckets, with verifies', () => {
    const run = sentinel.runs[0]!;
    const steady = steadyBuckets(run);
    // Fault at ~2001 ms, 100 ms buckets: t = 0 .. 1900.
    expect(steady.map((b) => b.t)).toEqual(Array.from({ length: 20 }, (_, i) => i * 100));
    const noise = estimateNoise(run, 'p99');
    expect(noise?.buckets).toBe(20);
    expect(noise!.standardError).toBeGreaterThan(0);
    // Deterministic: same input, same figure.
    expect(estimateNoise(run, 'p99')).toEqual(noise);
  });

  it('is the standard error of the mean of the bucket p99s', () => {
    const run = structuredClone(single.runs[0]!);
    withTimeline(
      run,
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 10 : 12)),
    );
    const sd = Math.sqrt((20 * 1) / 19);
    expect(estimateNoise(run, 'p99')!.standardError).toBeCloseTo(sd / Math.sqrt(20), 10);
  });

  it('is floored at the timeline bin resolution, and unknown with too few buckets', () => {
    const run = structuredClone(single.runs[0]!);
    withTimeline(
      run,
      Array.from({ length: 20 }, () => 10),
    );
    expect(estimateNoise(run, 'p99')!.standardError).toBeCloseTo((0.1 * 10) / Math.sqrt(12) / Math.sqrt(20), 10);
    withTimeline(run, [10, 10, 10, 10]);
    expect(estimateNoise(run, 'p99')).toBeNull();
  });
});

describe('compareResults', () => {
  it('a result against itself: every metric ok, nothing crossed', () => {
    const c = compareResults(side(single, 'a.json'), side(copy(single), 'b.json'));
    expect(c.rows).toHaveLength(4 * 12);
    // The fixtures were written before service time was measured, a single server has no failover and
    // a pure JWT no entries: those rows are n/a, every other ok.
    expect(c.rows.every((r) => r.verdict === (r.baseline === null ? 'n/a' : 'ok'))).toBe(true);
    expect(c.rows.filter((r) => r.verdict === 'n/a').map((r) => r.metric)).toEqual([
      'service-p99',
      'failover',
      'bytes-per-entry',
      'service-p99',
      'failover',
      'service-p99',
      'failover',
      'service-p99',
      'failover',
    ]);
    expect(regressions(c)).toEqual([]);
    expect(c.thresholds).toEqual(DEFAULT_THRESHOLDS);
  });

  it('verify p99 up 50% and throughput down 10%: regressions against the default limits', () => {
    const current = copy(sentinel);
    current.runs[0]!.latency.verify!.all.p99 *= 1.5;
    current.runs[1]!.load.achievedRate = 450;
    const c = compareResults(side(sentinel, 'base.json'), side(current, 'cur.json'));
    const p99 = row(c.rows, 'blacklist (sentinel)', 'p99');
    expect(p99).toMatchObject({ verdict: 'regression', limitPct: 10 });
    expect(p99.deltaPct).toBeCloseTo(50, 6);
    expect(p99.noise?.beyond).toBe(true);
    expect(row(c.rows, 'whitelist (sentinel)', 'throughput')).toMatchObject({ verdict: 'regression', delta: -50, deltaPct: -10 });
    expect(regressions(c).map((r) => `${r.run} ${r.metric}`)).toEqual(['blacklist (sentinel) p99', 'whitelist (sentinel) throughput']);
  });

  it('changes inside the limits are ok; better beyond the limit is an improvement; unchecked metrics stay ok', () => {
    const current = copy(single);
    current.runs[0]!.latency.verify!.all.p99 *= 1.08;
    current.runs[1]!.load.achievedRate = 490;
    current.runs[2]!.latency.verify!.all.p99 *= 0.5;
    current.runs[3]!.latency.verify!.all.p50 *= 3;
    const c = compareResults(side(single, 'a'), side(current, 'b'));
    expect(row(c.rows, 'pure (single)', 'p99').verdict).toBe('ok');
    expect(row(c.rows, 'blacklist (single)', 'throughput').verdict).toBe('ok');
    expect(row(c.rows, 'whitelist (single)', 'p99').verdict).toBe('improvement');
    expect(row(c.rows, 'double-token (single)', 'p50')).toMatchObject({ verdict: 'ok', limitPct: null });
    expect(regressions(c)).toEqual([]);
    // The same p50 change with a limit on it is a regression.
    expect(row(compareResults(side(single, 'a'), side(current, 'b'), { p50: 50 }).rows, 'double-token (single)', 'p50').verdict).toBe('regression');
  });

  it('correctness counts: any increase from 0 is a regression whatever the limit; from non-zero the limit applies', () => {
    const base = copy(single);
    const current = copy(single);
    current.runs[1]!.checks['revoked-accepted']!.counts.violations = 2;
    current.runs[2]!.checks['lost-revocations'].lost!.total = 1;
    current.runs[3]!.checks['valid-rejected']!.counts.entryLost = 3;
    let c = compareResults(side(base, 'a'), side(current, 'b'), { violations: 500, lost: 500, 'entry-lost': 500 });
    expect(regressions(c).map((r) => `${r.run} ${r.metric}`)).toEqual([
      'blacklist (single) violations',
      'whitelist (single) lost',
      'double-token (single) entry-lost',
    ]);
    expect(row(c.rows, 'blacklist (single)', 'violations')).toMatchObject({ baseline: 0, current: 2, delta: 2, deltaPct: null });

    base.runs[1]!.checks['revoked-accepted']!.counts.violations = 10;
    current.runs[1]!.checks['revoked-accepted']!.counts.violations = 11;
    c = compareResults(side(base, 'a'), side(current, 'b'));
    expect(row(c.rows, 'blacklist (single)', 'violations').verdict).toBe('regression');
    c = compareResults(side(base, 'a'), side(current, 'b'), { violations: 20 });
    expect(row(c.rows, 'blacklist (single)', 'violations').verdict).toBe('ok');
    current.runs[1]!.checks['revoked-accepted']!.counts.violations = 4;
    expect(row(compareResults(side(base, 'a'), side(current, 'b')).rows, 'blacklist (single)', 'violations').verdict).toBe('improvement');
  });

  it('lost revocations are the distinct lost tokens; a missing latency is n/a', () => {
    const current = copy(single);
    current.runs[0]!.checks['lost-revocations'].lost = {
      total: 5,
      byCause: { resurrected: 3, refreshAfterRevocation: 0, lostAtReconciliation: 2 },
      byAck: { ackedByFormerPrimary: 5, ackedByCurrentPrimary: 0, ackPortUnknown: 0 },
    };
    delete current.runs[2]!.latency.verify;
    const c = compareResults(side(single, 'a'), side(current, 'b'));
    expect(row(c.rows, 'pure (single)', 'lost').current).toBe(5);
    expect(row(c.rows, 'whitelist (single)', 'p99')).toMatchObject({ verdict: 'n/a', current: null, delta: null });
  });

  it('verify service-time p99: compared where both sides measured it, checked only when named, n/a where either lacks it', () => {
    const withService = (result: ResultFile, p99: number) => {
      const out = copy(result);
      for (const run of out.runs) run.latency.verify!.serviceTime = { all: { ...run.latency.verify!.all, p99 }, histogram: run.latency.verify!.histogram };
      return out;
    };
    expect(DEFAULT_THRESHOLDS).toEqual({ p99: 10, throughput: 5 });
    const base = withService(single, 0.4);
    const current = withService(single, 0.6);
    let c = compareResults(side(base, 'a'), side(current, 'b'));
    expect(row(c.rows, 'pure (single)', 'service-p99')).toMatchObject({
      name: 'verify service-time p99 ms',
      baseline: 0.4,
      current: 0.6,
      limitPct: null,
      verdict: 'ok',
      noise: null,
      noiseApplies: false,
    });
    expect(row(c.rows, 'pure (single)', 'service-p99').deltaPct).toBeCloseTo(50, 6);
    c = compareResults(side(base, 'a'), side(current, 'b'), parseThresholds('service-p99=20%'));
    expect(regressions(c).map((r) => `${r.run} ${r.metric}`)).toEqual(
      ['pure (single)', 'blacklist (single)', 'whitelist (single)', 'double-token (single)'].map((r) => `${r} service-p99`),
    );
    expect(renderComparison(c)).toContain('regression: pure (single) verify service-time p99: 0.400 -> 0.600 ms (+50.0%, limit +20%)');
    // An older result on either side: n/a, never a regression.
    for (const [a, b] of [
      [single, current],
      [base, single],
    ]) {
      c = compareResults(side(a!, 'a'), side(b!, 'b'), { 'service-p99': 1 });
      expect(row(c.rows, 'pure (single)', 'service-p99')).toMatchObject({ verdict: 'n/a', delta: null });
      expect(regressions(c)).toEqual([]);
    }
  });

  it('an unavailability limit applies to the longest window', () => {
    const current = copy(sentinel);
    current.runs[0]!.checks.unavailability!.figures!.longestWindowMs = 4000;
    expect(regressions(compareResults(side(sentinel, 'a'), side(current, 'b')))).toEqual([]);
    const c = compareResults(side(sentinel, 'a'), side(current, 'b'), { unavailability: 25 });
    expect(regressions(c).map((r) => r.metric)).toEqual(['unavailability']);
  });

  it('says whether a latency difference is beyond the combined noise of both runs', () => {
    const base = copy(single);
    const p99s = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 10 : 12));
    for (const run of base.runs) withTimeline(run, p99s);
    const bound = 2 * Math.sqrt(2) * (Math.sqrt(20 / 19) / Math.sqrt(20));
    const current = copy(base);
    current.runs[0]!.latency.verify!.all.p99 += bound * 0.8;
    current.runs[1]!.latency.verify!.all.p99 += bound * 1.2;
    const c = compareResults(side(base, 'a'), side(current, 'b'), { p99: 1000 });
    expect(row(c.rows, 'pure (single)', 'p99').noise).toEqual({ bound: expect.closeTo(bound, 9), beyond: false });
    expect(row(c.rows, 'blacklist (single)', 'p99').noise).toEqual({ bound: expect.closeTo(bound, 9), beyond: true });
    // p99.9 has no per-bucket figure to estimate from.
    expect(row(c.rows, 'pure (single)', 'p999')).toMatchObject({ noise: null, noiseApplies: false });
  });

  it('runs only on one side are listed, not compared; no run in common is an error', () => {
    const current = copy(single);
    current.runs = current.runs.slice(1);
    current.runs[0]!.label = 'blacklist-v2';
    const c = compareResults(side(single, 'a'), side(current, 'b'));
    expect(c.onlyInBaseline).toEqual(['pure (single)', 'blacklist (single)']);
    expect(c.onlyInCurrent).toEqual(['blacklist-v2 (single)']);
    expect(new Set(c.rows.map((r) => r.run))).toEqual(new Set(['whitelist (single)', 'double-token (single)']));
    const none = copy(single);
    for (const run of none.runs) run.label = `${run.label}-x`;
    expect(() => compareResults(side(single, 'a.json'), side(none, 'b.json'))).toThrow(
      /^no run in common between a\.json \(pure \(single\), .*\) and b\.json \(pure-x \(single\)/,
    );
  });

  it('different scenarios or schema versions are unusable input naming the field', () => {
    const other = copy(single);
    (other.scenario as { load: { rate: number } }).load.rate = 1000;
    expect(() => compareResults(side(single, 'a.json'), side(other, 'b.json'))).toThrow(IncompatibleResultsError);
    expect(() => compareResults(side(single, 'a.json'), side(other, 'b.json'))).toThrow('scenario differs between a.json and b.json: load.rate 500 vs 1000');
    const newer = copy(single);
    (newer as { schemaVersion: number }).schemaVersion = 7;
    expect(() => compareResults(side(single, 'a.json'), side(newer, 'b.json'))).toThrow(`a.json has schemaVersion ${SCHEMA_VERSION}, b.json has 7`);
  });
});

describe('renderComparison', () => {
  const current = copy(sentinel);
  current.runs[0]!.latency.verify!.all.p99 *= 1.5;
  current.runs[1]!.checks['revoked-accepted']!.counts.violations = 2;
  const c = compareResults(side(sentinel, 'base.json'), side(current, 'cur.json'));

  it('plain text: an aligned table, one line per crossed threshold, the noise footnote', () => {
    const text = renderComparison(c);
    const lines = text.split('\n');
    const header = lines.find((l) => l.startsWith('run '))!;
    expect(header).toMatch(/^run\s+metric\s+baseline\s+current\s+delta\s+delta %\s+limit\s+noise\s+verdict$/);
    // Right-aligned numbers: the baseline column ends at the same place on every row.
    const end = header.indexOf('baseline') + 'baseline'.length;
    const rows = lines.filter((l) => / (ok|regression|improvement|n\/a)$/.test(l) && !l.includes('checker verdict') && !l.includes('service-time'));
    // 2 runs x (p50, p99, p99.9, throughput, violations, lost, entry-lost, unavailability, failover, bytes per entry).
    expect(rows).toHaveLength(20);
    // Not measured in these fixtures: shown as such, not as 0.
    expect(lines.filter((l) => /verify service-time p99 ms\s+-\s+-\s+-\s+-\s+-\s+n\/a$/.test(l))).toHaveLength(2);
    expect(lines.filter((l) => /checker verdict\s+valid\s+valid/.test(l))).toHaveLength(2);
    for (const l of rows) expect(l[end - 1]).toMatch(/\d/);
    expect(text).toContain('regression: blacklist (sentinel) verify p99: 804.4 -> 1207 ms (+50.0%, limit +10%); beyond run-to-run noise');
    expect(text).toContain('regression: whitelist (sentinel) revoked-accepted violations: 0 -> 2 (any increase from 0 is a regression)');
    expect(text).toContain('2 thresholds crossed');
    expect(text).toContain('note: noise: ±2*sqrt(SE_baseline^2 + SE_current^2)');
    expect(text).toContain('runs with faults: the noise estimate covers steady-state jitter only');
  });

  it('markdown: a GitHub table with the crossed thresholds as a list', () => {
    const md = renderComparison(c, { markdown: true });
    expect(md).toMatch(/^### tokenbench compare: regression\n/);
    expect(md).toContain('| run | metric | baseline | current | delta | delta % | limit | noise | verdict |\n|---|---|--:|--:|--:|--:|---|---|---|\n');
    expect(md).toContain('| blacklist (sentinel) | checker verdict | valid | valid | 0 | 0.0% | any increase |');
    expect(md).toContain('|  | verify p50 ms | 0.529 | 0.529 | 0 | 0.0% | - |');
    expect(md).toMatch(/\| {2}\| verify p99 ms \| 804\.4 \| 1207 \| \+402\.2 \| \+50\.0% \| \+10% \| ±[\d.]+ beyond \| \*\*regression\*\* \|/);
    expect(md).toContain('- **regression**: whitelist (sentinel) revoked-accepted violations: 0 -> 2');
    const tableRows = md.split('\n').filter((l) => l.startsWith('| '));
    for (const l of tableRows) expect(l.split(' | ')).toHaveLength(9);
  });

  it('says when nothing crossed', () => {
    expect(renderComparison(compareResults(side(single, 'a'), side(single, 'b')))).toContain('\nno threshold crossed\n');
    expect(renderComparison(compareResults(side(single, 'a'), side(single, 'b')), { markdown: true })).toMatch(/^### tokenbench compare: ok\n/);
  });
});

describe('comparing servers', () => {
  it('names each side’s server when they differ, and prints the failover time and bytes per entry', () => {
    const valkey = copy(sentinel);
    valkey.environment.redis = 'valkey 8.0.1';
    const comparison = compareResults(side(sentinel, 'redis.json'), side(valkey, 'valkey.json'));
    expect(comparison.servers).toEqual({ baseline: sentinel.environment.redis, current: 'valkey 8.0.1' });
    const text = renderComparison(comparison);
    expect(text).toContain(`baseline: redis.json (${sentinel.environment.redis})`);
    expect(text).toContain('current:  valkey.json (valkey 8.0.1)');
    expect(text).toContain(`note: servers differ: ${sentinel.environment.redis} vs valkey 8.0.1`);
    const failover = comparison.rows.find((r) => r.metric === 'failover' && r.run.startsWith('blacklist'))!;
    expect(failover.baseline).toBeGreaterThan(0);
    expect(failover.verdict).toBe('ok');
    expect(renderComparison(compareResults(side(sentinel, 'a.json'), side(copy(sentinel), 'b.json')))).not.toContain('servers differ');
  });
});
