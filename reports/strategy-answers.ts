import { formatNumber, formatMs as ms, formatSeconds as seconds } from '../core/format.ts';
import { headlineFigures, worstSideUnavailability } from '../result/figures.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { strategyName, topologyName } from './suite.ts';

/**
 * The answer a design review wants first, one row per strategy over every run of it in the suite:
 * did it keep every acknowledged revocation, whom did it turn away and for how long, and what does
 * each verify cost. The Markdown and HTML reports show the same rows.
 */

type Run = StrategyRunResult;

export interface StrategyAnswer {
  strategy: string;
  runs: Run[];
  /** false when any run was invalid, 'unknown' when any could not be checked, else true. */
  valid: boolean | 'unknown';
  /** Where the strategy was not valid: `cluster (invalid)`. */
  notValidOn: string[];
  violations: number;
  /** null when a run does not know its distinct losses (an old result). */
  lost: number | null;
  validRejected: number;
  /** The run with the most valid tokens rejected, when any were. */
  mostRejectedOn: { where: string; count: number } | undefined;
  /** The longest time verify had no definite answer, over runs and client groups, and where. */
  longestUnavailable: { ms: number; openAtEnd: boolean; where: string };
  steadyP50: [number, number] | null;
  steadyP99: [number, number] | null;
  roundTripsPerVerify: [number, number] | null;
  bytesPerEntry: [number, number] | null;
}

function range(values: readonly (number | null | undefined)[]): [number, number] | null {
  const known = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return known.length === 0 ? null : [Math.min(...known), Math.max(...known)];
}

/** Steady phase where the run had one: a failover's seconds do not describe what a verify costs. */
function steadyVerify(run: Run) {
  return run.latency.verify?.byPhase.steady ?? run.latency.verify?.all;
}

export function strategyAnswers(result: ResultFile): StrategyAnswer[] {
  const byStrategy = new Map<string, Run[]>();
  for (const run of result.runs) {
    const name = strategyName(run);
    byStrategy.set(name, [...(byStrategy.get(name) ?? []), run]);
  }
  return [...byStrategy].map(([strategy, runs]) => {
    const figures = runs.map(headlineFigures);
    const valid = runs.some((r) => r.verdict.valid === false) ? false : runs.some((r) => r.verdict.valid === 'unknown') ? 'unknown' : true;
    const rejected = runs.map((run, i) => ({ where: topologyName(run), count: figures[i]!.validRejected })).sort((a, b) => b.count - a.count);
    let longest = { ms: -1, openAtEnd: false, where: '' };
    for (const run of runs) {
      const { longestWindowMs, longestWindowOpenAtEnd } = run.checks.unavailability.figures;
      const side = worstSideUnavailability(run);
      const candidates = [
        { ms: longestWindowMs, openAtEnd: longestWindowOpenAtEnd, where: topologyName(run) },
        ...(side ? [{ ms: side.longestWindowMs, openAtEnd: side.longestWindowOpenAtEnd, where: `${topologyName(run)}, clients ${side.group}` }] : []),
      ];
      for (const c of candidates) if (c.ms > longest.ms) longest = c;
    }
    return {
      strategy,
      runs,
      valid,
      notValidOn: runs.filter((r) => r.verdict.valid !== true).map((r) => `${topologyName(r)} (${r.verdict.valid === false ? 'invalid' : 'unknown'})`),
      violations: figures.reduce((n, f) => n + f.violations, 0),
      lost: figures.some((f) => f.lostRevocations === null) ? null : figures.reduce((n, f) => n + f.lostRevocations!, 0),
      validRejected: figures.reduce((n, f) => n + f.validRejected, 0),
      mostRejectedOn: rejected[0] && rejected[0].count > 0 ? rejected[0] : undefined,
      longestUnavailable: longest.ms < 0 ? { ms: 0, openAtEnd: false, where: '' } : longest,
      steadyP50: range(runs.map((r) => steadyVerify(r)?.p50)),
      steadyP99: range(runs.map((r) => steadyVerify(r)?.p99)),
      roundTripsPerVerify: range(runs.map((r) => r.redis.roundTripsPerVerify)),
      bytesPerEntry: range(runs.map((r) => r.redis.bytesPerEntry)),
    };
  });
}

export const ANSWER_COLUMNS = [
  'strategy',
  'verdict',
  'acknowledged revocations lost',
  'valid users rejected',
  'longest without an answer',
  'steady verify p50 ms',
  'steady p99 ms',
  'Redis round trips / verify',
  'bytes / entry',
] as const;

function rangeText(r: [number, number] | null, format: (n: number) => string): string {
  if (r === null) return '-';
  const [lo, hi] = r;
  return format(lo) === format(hi) ? format(lo) : `${format(lo)}–${format(hi)}`;
}

const roundTrips = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** The row's cells as text, in ANSWER_COLUMNS order; what each says is what its column names, over all the strategy's runs. */
export function answerCells(answer: StrategyAnswer): string[] {
  const runs = answer.runs.length;
  const verdict =
    answer.valid === true
      ? `valid (${runs === 1 ? '1 run' : `all ${runs} runs`})`
      : `${answer.valid === false ? 'invalid' : 'unknown'} on ${answer.notValidOn.join(', ')}`;
  const lost = answer.lost === null ? 'not known (old result)' : formatNumber(answer.lost);
  const rejected =
    answer.validRejected === 0
      ? '0'
      : `${formatNumber(answer.validRejected)}${runs > 1 && answer.mostRejectedOn ? ` (most: ${answer.mostRejectedOn.where} ${formatNumber(answer.mostRejectedOn.count)})` : ''}`;
  const u = answer.longestUnavailable;
  const unavailable = u.ms === 0 ? '0 s' : `${u.openAtEnd ? '≥ ' : ''}${seconds(u.ms)}${runs > 1 || u.where.includes('clients') ? ` (${u.where})` : ''}`;
  const p50 = rangeText(answer.steadyP50, ms);
  const p99 = rangeText(answer.steadyP99, ms);
  return [
    answer.strategy,
    verdict,
    lost,
    rejected,
    unavailable,
    p50,
    p99,
    rangeText(answer.roundTripsPerVerify, roundTrips),
    rangeText(answer.bytesPerEntry, (n) => n.toFixed(0)),
  ];
}

export const ANSWER_NOTE =
  'Over every run of the strategy in this suite. Lost: acknowledged revocations that did not hold (revoked tokens working again), each token once. Rejected: valid, never-revoked tokens turned away (fail-closed while the store was unreachable, or an entry lost). Longest without an answer: the longest time verify gave no definite answer, in the run (or client group) named. Steady: the verify latency before the first fault, coordinated-omission corrected; a range spans the topologies.';
