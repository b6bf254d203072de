import { formatMs as ms, formatSeconds as seconds } from '../core/format.ts';
import type { StrategyRunResult } from '../result/schema.ts';

/** How figures read in words, the same in every report. */

type Run = StrategyRunResult;

/** The longest unavailability; a window still open at the end is a lower bound and says so. */
export function unavailabilityText(run: Run, form: 'short' | 'sentence' = 'sentence'): string {
  const { longestWindowMs, longestWindowOpenAtEnd } = run.checks.unavailability.figures;
  if (!longestWindowOpenAtEnd || longestWindowMs === 0) return seconds(longestWindowMs);
  return form === 'short'
    ? `≥ ${seconds(longestWindowMs)} (open at the end)`
    : `≥ ${seconds(longestWindowMs)}, still unavailable when the measured phase ended`;
}

export function steadyText(run: Run): string {
  const spread = run.checks.unavailability.figures.steadySpread;
  return spread
    ? `verify p99 back within its steady spread (${ms(spread.lowMs)}-${ms(spread.highMs)} ms over ${spread.windows} windows)`
    : 'verify p99 back within 1.5x of its pre-fault value';
}
