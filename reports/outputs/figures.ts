import { headlineFigures } from '../../result/figures.ts';
import type { StrategyRunResult } from '../../result/schema.ts';
import { estimateNoise } from '../compare.ts';

/**
 * The figures a benchmark dashboard tracks per run, defined once for github-action-benchmark and
 * Bencher: verify latency, the longest unavailability, throughput, and the correctness counts
 * that must stay at zero. `id` is stable (a dashboard keys its series on it); a figure that was
 * not measured (no verify, losses not known in an old result) is left out rather than sent as 0.
 */
export interface CiFigure {
  id: 'verify-p50' | 'verify-p99' | 'verify-p999' | 'longest-unavailability' | 'throughput' | 'violations' | 'lost-revocations' | 'valid-rejected';
  /** As a person reads it after the run's name: `verify p99`. */
  title: string;
  unit: 'ms' | 's' | 'ops/s' | 'count';
  smallerIsBetter: boolean;
  read(run: StrategyRunResult): number | null;
  /** The timeline figure whose run-to-run noise reports/compare.ts estimates (p99.9 has none). */
  noiseFrom?: 'p50' | 'p99';
  /** One line a dashboard may show beside the value. */
  note?(run: StrategyRunResult): string | undefined;
}

const verifies = (run: StrategyRunResult) => {
  const count = run.latency.verify?.all.count;
  return count === undefined ? undefined : `${count} verifies, latency from the intended start`;
};

export const CI_FIGURES: readonly CiFigure[] = [
  {
    id: 'verify-p50',
    title: 'verify p50',
    unit: 'ms',
    smallerIsBetter: true,
    noiseFrom: 'p50',
    read: (r) => r.latency.verify?.all.p50 ?? null,
    note: verifies,
  },
  {
    id: 'verify-p99',
    title: 'verify p99',
    unit: 'ms',
    smallerIsBetter: true,
    noiseFrom: 'p99',
    read: (r) => r.latency.verify?.all.p99 ?? null,
    note: verifies,
  },
  { id: 'verify-p999', title: 'verify p99.9', unit: 'ms', smallerIsBetter: true, read: (r) => r.latency.verify?.all.p999 ?? null, note: verifies },
  {
    id: 'longest-unavailability',
    title: 'longest unavailability',
    unit: 's',
    smallerIsBetter: true,
    read: (r) => headlineFigures(r).longestUnavailabilityMs / 1000,
    note: (r) => (r.checks.unavailability.figures.longestWindowOpenAtEnd ? 'still unavailable when the measured phase ended: a lower bound' : undefined),
  },
  { id: 'throughput', title: 'throughput', unit: 'ops/s', smallerIsBetter: false, read: (r) => r.load.achievedRate },
  { id: 'violations', title: 'violations', unit: 'count', smallerIsBetter: true, read: (r) => headlineFigures(r).violations },
  { id: 'lost-revocations', title: 'lost revocations', unit: 'count', smallerIsBetter: true, read: (r) => headlineFigures(r).lostRevocations },
  { id: 'valid-rejected', title: 'valid rejected', unit: 'count', smallerIsBetter: true, read: (r) => headlineFigures(r).validRejected },
];

/**
 * Half the width of the figure's noise interval, in the figure's unit: twice the standard error
 * reports/compare.ts estimates from the run's steady-phase timeline buckets (about 95% if the
 * buckets were independent; compare's footnote says why that is a heuristic). null: no estimate
 * (too few steady buckets, or a figure with none).
 */
export function noiseHalfWidth(run: StrategyRunResult, figure: CiFigure): number | null {
  if (!figure.noiseFrom) return null;
  const noise = estimateNoise(run, figure.noiseFrom);
  return noise ? 2 * noise.standardError : null;
}
