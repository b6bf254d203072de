import { z } from 'zod';
import { parseDurationMs } from '../core/duration.ts';
import { InvalidOptionError } from '../core/errors.ts';
import { OP_FUNCTIONS, PHASES } from './checks.ts';
import { headlineFigures } from './figures.ts';
import type { StrategyRunResult } from './schema.ts';

/**
 * Thresholds in the k6 manner: a limit per metric, evaluated on each run of a result, each shown
 * with its measured value; a run that breaks one makes `tokenbench run` exit with its own code, so
 * CI can gate on correctness as well as on latency. A limit is a maximum, except for throughput
 * (a minimum: `throughput: 950` means at least 950 ops/s).
 */

type Unit = 'count' | 'ms' | 'ops/s';

interface MetricDef {
  unit: Unit;
  /** 'max': the measured value must be at most the limit; 'min': at least. */
  bound: 'max' | 'min';
  what: string;
  /** The measured value; null: not measured in this run. `atLeast`: the value is a lower bound (a window still open at the end). */
  read(run: Omit<StrategyRunResult, 'verdict' | 'thresholds' | 'anomalies'>): { value: number | null; atLeast?: boolean };
}

const COUNTS: Record<string, MetricDef> = {
  violations: { unit: 'count', bound: 'max', what: 'revoked tokens accepted beyond the guarantee', read: (r) => ({ value: headlineFigures(r).violations }) },
  lostRevocations: {
    unit: 'count',
    bound: 'max',
    what: 'acknowledged revocations that did not hold (distinct tokens)',
    read: (r) => ({ value: headlineFigures(r).lostRevocations }),
  },
  validRejected: { unit: 'count', bound: 'max', what: 'valid tokens rejected', read: (r) => ({ value: headlineFigures(r).validRejected }) },
  entryLost: {
    unit: 'count',
    bound: 'max',
    what: 'valid tokens rejected because an entry was lost',
    read: (r) => ({ value: r.checks['valid-rejected'].counts.entryLost }),
  },
  revokedAccepted: {
    unit: 'count',
    bound: 'max',
    what: 'revoked tokens accepted, within the guarantee or not',
    read: (r) => ({ value: headlineFigures(r).revokedAccepted }),
  },
  'unavailability.longest': {
    unit: 'ms',
    bound: 'max',
    what: 'longest time verify had no definite answer',
    read: (r) => ({ value: r.checks.unavailability.figures.longestWindowMs, atLeast: r.checks.unavailability.figures.longestWindowOpenAtEnd }),
  },
  'propagation.max': {
    unit: 'ms',
    bound: 'max',
    what: 'longest time a revocation was still accepted after its ack',
    read: (r) => ({ value: r.checks['propagation-lag'].figures.maxMs }),
  },
  'slip.p99': { unit: 'ms', bound: 'max', what: 'p99 lateness of the load generator', read: (r) => ({ value: r.slip?.p99 ?? null }) },
  throughput: { unit: 'ops/s', bound: 'min', what: 'achieved operations per second', read: (r) => ({ value: r.load.achievedRate }) },
};

const STATS = ['p50', 'p90', 'p99', 'p999', 'p9999', 'max', 'mean'] as const;
const LATENCY = new RegExp(`^(${OP_FUNCTIONS.join('|')})\\.(all|${PHASES.join('|')})\\.(${STATS.join('|')})$`);

function metricDef(metric: string): MetricDef | undefined {
  if (COUNTS[metric]) return COUNTS[metric];
  const match = LATENCY.exec(metric);
  if (!match) return undefined;
  const [, op, phase, stat] = match as unknown as [string, (typeof OP_FUNCTIONS)[number], string, (typeof STATS)[number]];
  return {
    unit: 'ms',
    bound: 'max',
    what: `${op} ${stat} latency${phase === 'all' ? '' : ` in the ${phase} phase`}`,
    read: (r) => {
      const entry = r.latency[op];
      const summary = phase === 'all' ? entry?.all : entry?.byPhase[phase as (typeof PHASES)[number]];
      return { value: summary?.[stat] ?? null };
    },
  };
}

export const THRESHOLD_METRICS_TEXT = `${Object.keys(COUNTS).join(', ')}, or <op>.<phase>.<stat> with op ${OP_FUNCTIONS.join('|')}, phase all|${PHASES.join('|')}, stat ${STATS.join('|')} (e.g. verify.steady.p99)`;

/** A limit as written (a number, or a duration such as 10ms for time metrics) to the number it is. */
export function parseThreshold(metric: string, limit: unknown, field: string): { metric: string; limit: number } {
  const def = metricDef(metric);
  if (!def) throw new InvalidOptionError(field, `a metric among ${THRESHOLD_METRICS_TEXT}`, metric);
  if (def.unit === 'ms') {
    if (typeof limit !== 'number' && typeof limit !== 'string') throw new InvalidOptionError(`${field}.${metric}`, 'a duration such as 10ms or 3s', limit);
    return { metric, limit: parseDurationMs(limit, `${field}.${metric}`) };
  }
  const n = typeof limit === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(limit) ? Number(limit) : limit;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || (def.unit === 'count' && !Number.isInteger(n))) {
    throw new InvalidOptionError(`${field}.${metric}`, def.unit === 'count' ? 'a whole number >= 0' : 'a number >= 0', limit);
  }
  return { metric, limit: n };
}

export const thresholdResultSchema = z.strictObject({
  metric: z.string(),
  /** In `unit`: ms, a count, or ops/s. */
  limit: z.number(),
  unit: z.enum(['count', 'ms', 'ops/s']),
  bound: z.enum(['max', 'min']),
  /** null: not measured in this run (which breaks the threshold: nothing shows it holds). */
  measured: z.number().nullable(),
  ok: z.boolean(),
  /** One sentence: the metric, its limit and its value. */
  sentence: z.string(),
});

export type ThresholdResult = z.infer<typeof thresholdResultSchema>;

/** A threshold's limit or measured value as its sentence says it: `10 ms`, `950 ops/s`, `0`. */
export const thresholdValueText = (value: number, unit: Unit): string =>
  unit === 'ms' ? `${Math.round(value * 100) / 100} ms` : unit === 'ops/s' ? `${value} ops/s` : String(value);

/** Each threshold against one run. A value not measured, or only known to be at least something, cannot show a maximum holds. */
export function evaluateThresholds(
  run: Omit<StrategyRunResult, 'verdict' | 'thresholds' | 'anomalies'>,
  thresholds: Readonly<Record<string, number>>,
): ThresholdResult[] {
  return Object.entries(thresholds).map(([metric, limit]) => {
    const def = metricDef(metric)!;
    const { value, atLeast = false } = def.read(run);
    const ok = value !== null && (def.bound === 'max' ? value <= limit && !atLeast : value >= limit);
    const measured = value === null ? 'not measured' : `${atLeast ? 'at least ' : ''}${thresholdValueText(value, def.unit)}`;
    const sentence = `${metric} (${def.what}) ${def.bound === 'max' ? '<=' : '>='} ${thresholdValueText(limit, def.unit)}: ${measured}${ok ? '' : ' (broken)'}`;
    return { metric, limit, unit: def.unit, bound: def.bound, measured: value, ok, sentence };
  });
}
