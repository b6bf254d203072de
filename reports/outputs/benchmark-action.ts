import { redactSecrets } from '../../core/secrets.ts';
import type { ResultFile } from '../../result/schema.ts';
import { CI_FIGURES, noiseHalfWidth } from './figures.ts';
import { ciRunNames } from './run-names.ts';

/**
 * github-action-benchmark's `customSmallerIsBetter` input
 * (https://github.com/benchmark-action/github-action-benchmark#examples, "Custom"): an array of
 * `{ name, unit, value, range?, extra? }`, `range` a string such as `± 0.012` and `extra` a tooltip.
 * The action tracks a series by its name and alerts when it grows: only figures where smaller is
 * better go here (throughput would alert on an improvement).
 */
export interface BenchmarkActionEntry {
  name: string;
  unit: string;
  value: number;
  range?: string;
  extra?: string;
}

/** Microsecond resolution for ms, the result's own; whole numbers stay whole. */
const round = (value: number) => Math.round(value * 1e6) / 1e6;

export function benchmarkActionEntries(result: ResultFile): BenchmarkActionEntry[] {
  const runs = redactSecrets(result).runs;
  const names = ciRunNames(runs);
  return runs.flatMap((run, i) =>
    CI_FIGURES.filter((figure) => figure.smallerIsBetter).flatMap((figure): BenchmarkActionEntry[] => {
      const value = figure.read(run);
      if (value === null) return [];
      const halfWidth = noiseHalfWidth(run, figure);
      const extra = [
        run.interrupted ? 'interrupted: partial figures' : undefined,
        figure.note?.(run),
        halfWidth === null ? undefined : 'range: twice the standard error over the steady-phase timeline buckets',
      ]
        .filter(Boolean)
        .join('\n');
      return [
        {
          name: `${names[i]} - ${figure.title}`,
          unit: figure.unit,
          value: round(value),
          ...(halfWidth !== null && { range: `± ${round(halfWidth)}` }),
          ...(extra && { extra }),
        },
      ];
    }),
  );
}

export function renderBenchmarkAction(result: ResultFile): string {
  return `${JSON.stringify(benchmarkActionEntries(result), null, 2)}\n`;
}
