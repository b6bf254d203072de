import { formatMs as ms, formatSeconds as seconds } from '../core/format.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';

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

/**
 * The suite's verdict in lines: the headline, then one line per reason, broken threshold and
 * anomaly, each naming its run. The same lines in the terminal, the Markdown report and the HTML.
 */
export function verdictLines(result: ResultFile): { headline: string; reasons: string[]; thresholds: { ok: boolean; line: string }[]; anomalies: string[] } {
  const v = result.verdict;
  const total = result.runs.length;
  const where = (run: Run) => `${run.label} on ${run.topology.kind}`;
  const checked = result.runs.reduce((n, r) => n + r.thresholds.length, 0);
  const headline =
    v.valid === true
      ? `valid: no checker found a violation in ${total === 1 ? 'the run' : `any of the ${total} runs`}`
      : v.valid === false
        ? `invalid: ${v.runs.invalid} of ${total} run${total === 1 ? '' : 's'} broke a guarantee`
        : `unknown: ${total === 0 ? 'no run completed' : `${v.runs.unknown} of ${total} run${total === 1 ? '' : 's'} could not be checked for everything`}`;
  return {
    headline: `${headline}${checked > 0 ? `; thresholds: ${v.thresholdsBroken} of ${checked} broken` : ''}`,
    reasons: result.runs.flatMap((run) => run.verdict.reasons.map((reason) => `${where(run)}: ${reason}`)),
    thresholds: result.runs.flatMap((run) => run.thresholds.map((t) => ({ ok: t.ok, line: `${where(run)}: ${t.ok ? 'ok' : 'BROKEN'} ${t.sentence}` }))),
    anomalies: result.runs.flatMap((run) => run.anomalies.map((a) => `${where(run)}: ${a.sentence}`)),
  };
}
