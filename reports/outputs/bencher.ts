import { redactSecrets } from '../../core/secrets.ts';
import type { ResultFile } from '../../result/schema.ts';
import { CI_FIGURES, type CiFigure, noiseHalfWidth } from './figures.ts';
import { ciRunNames } from './run-names.ts';

/**
 * Bencher Metric Format (https://bencher.dev/docs/reference/bencher-metric-format/):
 * `{ "<benchmark>": { "<measure slug>": { value, lower_value?, upper_value? } } }`, one benchmark
 * per run. Bencher creates a measure the first time it sees its slug. Its built-in `latency` is in
 * nanoseconds, so latencies go under slugs of their own that say their unit; `throughput` is the
 * built-in one (operations per second, ours too).
 */
export type BencherMetrics = Record<string, Record<string, { value: number; lower_value?: number; upper_value?: number }>>;

const SLUGS: Record<CiFigure['id'], string> = {
  'verify-p50': 'verify-latency-p50-ms',
  'verify-p99': 'verify-latency-p99-ms',
  'verify-p999': 'verify-latency-p999-ms',
  'longest-unavailability': 'longest-unavailability-s',
  throughput: 'throughput',
  violations: 'violations',
  'lost-revocations': 'lost-revocations',
  'valid-rejected': 'valid-rejected',
};

const round = (value: number) => Math.round(value * 1e6) / 1e6;

export function bencherMetrics(result: ResultFile): BencherMetrics {
  const runs = redactSecrets(result).runs;
  const names = ciRunNames(runs);
  const metrics: BencherMetrics = {};
  runs.forEach((run, i) => {
    const measures: BencherMetrics[string] = {};
    for (const figure of CI_FIGURES) {
      const value = figure.read(run);
      if (value === null) continue;
      const halfWidth = noiseHalfWidth(run, figure);
      measures[SLUGS[figure.id]] = {
        value: round(value),
        // A latency is never below 0, whatever the interval says.
        ...(halfWidth !== null && { lower_value: round(Math.max(0, value - halfWidth)), upper_value: round(value + halfWidth) }),
      };
    }
    metrics[names[i]!] = measures;
  });
  return metrics;
}

export function renderBencher(result: ResultFile): string {
  return `${JSON.stringify(bencherMetrics(result), null, 2)}\n`;
}
