import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../core/errors.ts';
import { loadResult } from './schema.ts';
import { evaluateThresholds, parseThreshold } from './thresholds.ts';

const sentinel = loadResult(new URL('../reports/fixtures/sentinel-kill.json', import.meta.url).pathname);
const [blacklist] = sentinel.runs;

describe('thresholds', () => {
  it('parses limits in their metric unit: durations for times, whole numbers for counts', () => {
    expect(parseThreshold('verify.steady.p99', '10ms', 'thresholds')).toEqual({ metric: 'verify.steady.p99', limit: 10 });
    expect(parseThreshold('unavailability.longest', '3s', 'thresholds')).toEqual({ metric: 'unavailability.longest', limit: 3000 });
    expect(parseThreshold('violations', 0, 'thresholds')).toEqual({ metric: 'violations', limit: 0 });
    expect(parseThreshold('throughput', '950', 'thresholds')).toEqual({ metric: 'throughput', limit: 950 });
  });

  it('names the field, what it expects and what it got', () => {
    expect(() => parseThreshold('verify.steady.p98', 1, 'thresholds')).toThrow(InvalidOptionError);
    expect(() => parseThreshold('verify.steady.p98', 1, 'thresholds')).toThrow(/^thresholds: expected a metric among violations, lostRevocations/);
    expect(() => parseThreshold('violations', 1.5, 'thresholds')).toThrow('thresholds.violations: expected a whole number >= 0, got 1.5');
    expect(() => parseThreshold('verify.all.p99', 'fast', 'thresholds')).toThrow(
      "thresholds.verify.all.p99: expected a duration such as 500ms, 10s, 2m or 7d, got 'fast'",
    );
  });

  it('measures each against the run, the measured value beside the limit', () => {
    // From the fixture by hand: verify p99 over the whole run 804.351 ms, 624 valid tokens rejected (store unavailable), 0 violations.
    const [p99, rejected, violations, throughput] = evaluateThresholds(blacklist!, {
      'verify.all.p99': 10,
      validRejected: 1000,
      violations: 0,
      throughput: 600,
    });
    expect(p99).toMatchObject({ measured: 804.351, ok: false, unit: 'ms', bound: 'max' });
    expect(p99!.sentence).toBe('verify.all.p99 (verify p99 latency) <= 10 ms: 804.35 ms (broken)');
    expect(rejected).toMatchObject({ measured: 624, ok: true });
    expect(violations).toMatchObject({ measured: 0, ok: true });
    expect(throughput).toMatchObject({ bound: 'min', measured: 500, ok: false });
  });

  it('a value not measured, or an outage still open at the end, cannot show a maximum holds', () => {
    const run = structuredClone(blacklist!);
    run.checks.unavailability.figures.longestWindowOpenAtEnd = true;
    const [open, missing] = evaluateThresholds(run, { 'unavailability.longest': 60_000, 'refresh.all.p99': 100 });
    expect(open).toMatchObject({ ok: false });
    expect(open!.sentence).toContain('at least');
    expect(missing).toMatchObject({ measured: null, ok: false });
  });
});
