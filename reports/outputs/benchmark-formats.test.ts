import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { findingsResult, sentinelResult } from '../../test/support/ci-results.ts';
import { estimateNoise } from '../compare.ts';
import { bencherMetrics, renderBencher } from './bencher.ts';
import { benchmarkActionEntries, renderBenchmarkAction } from './benchmark-action.ts';

/** The schemas written from each format's documentation (the URL is in each one's $comment). */
const schema = (file: string) => JSON.parse(readFileSync(new URL(`../../test/fixtures/ci-formats/${file}`, import.meta.url), 'utf8')) as object;
const ajv = new Ajv({ strict: true, allErrors: true });
const validBenchmarkAction = ajv.compile(schema('benchmark-action.schema.json'));
const validBencher = ajv.compile(schema('bencher.schema.json'));

describe('github-action-benchmark customSmallerIsBetter', () => {
  const text = renderBenchmarkAction(findingsResult());
  const entries = JSON.parse(text) as { name: string; unit: string; value: number; range?: string; extra?: string }[];

  it('validates against the schema of its documented shape', () => {
    expect(validBenchmarkAction(entries), JSON.stringify(validBenchmarkAction.errors)).toBe(true);
    // The schema has teeth: what the action would misread is refused.
    expect(validBenchmarkAction([{ ...entries[0], range: 0.01 }])).toBe(false);
    expect(validBenchmarkAction([{ name: 'x', value: 1 }])).toBe(false);
    expect(validBenchmarkAction([])).toBe(false);
  });

  it('per run: verify p50 / p99 / p99.9 in ms, longest unavailability in s, the counts that must stay 0; names unique', () => {
    expect(entries.filter((e) => e.name.startsWith('blacklist on sentinel - ')).map((e) => [e.name.slice('blacklist on sentinel - '.length), e.unit])).toEqual([
      ['verify p50', 'ms'],
      ['verify p99', 'ms'],
      ['verify p99.9', 'ms'],
      ['longest unavailability', 's'],
      ['violations', 'count'],
      ['lost revocations', 'count'],
      ['valid rejected', 'count'],
    ]);
    expect(new Set(entries.map((e) => e.name)).size).toBe(entries.length);
  });

  it("each value is the result's own figure; range is twice compare's noise estimate where there is one", () => {
    const result = findingsResult();
    const run = result.runs[0]!;
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get('blacklist on sentinel - verify p99')!.value).toBe(run.latency.verify!.all.p99);
    expect(byName.get('blacklist on sentinel - longest unavailability')!.value).toBeCloseTo(run.checks.unavailability.figures.longestWindowMs / 1000, 6);
    expect(byName.get('blacklist on sentinel - lost revocations')!.value).toBe(3);
    const noise = estimateNoise(run, 'p99')!;
    expect(noise.buckets).toBeGreaterThanOrEqual(5);
    expect(Number(byName.get('blacklist on sentinel - verify p99')!.range!.replace('± ', ''))).toBeCloseTo(2 * noise.standardError, 5);
    expect(byName.get('blacklist on sentinel - verify p99.9')!.range).toBeUndefined();
  });

  it('the same names from another run of the same scenario, so the action can follow each series', () => {
    const again = findingsResult();
    again.runs[0]!.latency.verify!.all.p99 *= 2;
    expect(benchmarkActionEntries(again).map((e) => e.name)).toEqual(entries.map((e) => e.name));
  });

  it('a figure not measured is left out, never sent as 0', () => {
    const result = sentinelResult();
    result.runs[0]!.checks['lost-revocations'].lost = null;
    delete result.runs[0]!.latency.verify;
    const names = benchmarkActionEntries(result).map((e) => e.name);
    expect(names).not.toContain('blacklist on sentinel - lost revocations');
    expect(names).not.toContain('blacklist on sentinel - verify p99');
    expect(names).toContain('whitelist on sentinel - lost revocations');
  });
});

describe('Bencher Metric Format', () => {
  const text = renderBencher(findingsResult());
  const metrics = JSON.parse(text) as Record<string, Record<string, { value: number; lower_value?: number; upper_value?: number }>>;

  it('validates against the published BMF JSON Schema, within its documented name lengths', () => {
    expect(validBencher(metrics), JSON.stringify(validBencher.errors)).toBe(true);
    expect(validBencher({ run: { latency: { lower_value: 1 } } })).toBe(false);
    expect(validBencher({ run: { latency: { value: '1' } } })).toBe(false);
    for (const [benchmark, measures] of Object.entries(metrics)) {
      expect(benchmark.length).toBeLessThanOrEqual(1024);
      for (const slug of Object.keys(measures)) expect(slug).toMatch(/^[a-z0-9-]{1,64}$/);
    }
  });

  it('a benchmark per run; latency with lower / upper from the noise estimate, throughput, the correctness counts', () => {
    expect(Object.keys(metrics)).toEqual(['blacklist on sentinel', 'whitelist on sentinel']);
    const run = findingsResult().runs[0]!;
    const measures = metrics['blacklist on sentinel']!;
    expect(Object.keys(measures)).toEqual([
      'verify-latency-p50-ms',
      'verify-latency-p99-ms',
      'verify-latency-p999-ms',
      'longest-unavailability-s',
      'throughput',
      'violations',
      'lost-revocations',
      'valid-rejected',
    ]);
    const p50 = measures['verify-latency-p50-ms']!;
    const halfWidth = 2 * estimateNoise(run, 'p50')!.standardError;
    expect(p50.value).toBe(run.latency.verify!.all.p50);
    expect(p50.lower_value).toBeCloseTo(run.latency.verify!.all.p50 - halfWidth, 5);
    expect(p50.upper_value).toBeCloseTo(run.latency.verify!.all.p50 + halfWidth, 5);
    expect(measures['verify-latency-p999-ms']).toEqual({ value: run.latency.verify!.all.p999 });
    expect(measures.throughput).toEqual({ value: run.load.achievedRate });
    expect(measures['lost-revocations']).toEqual({ value: 3 });
  });

  it('two runs with the same label and topology stay two benchmarks', () => {
    const result = sentinelResult();
    result.runs[1]!.label = result.runs[0]!.label;
    expect(Object.keys(bencherMetrics(result))).toEqual(['blacklist on sentinel', 'blacklist on sentinel #2']);
  });
});
