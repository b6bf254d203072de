import { InvalidOptionError, TokenbenchError } from '../core/errors.ts';
import { escapeCell, markdownTable } from '../core/markdown.ts';
import { redactSecrets } from '../core/secrets.ts';
import { headlineFigures } from '../result/figures.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { injectedFaults, newPrimaryAfterMs } from './suite.ts';

/**
 * Two results are only comparable when they ran the same scenario and were written by the same
 * schema; anything else is unusable input (exit 2), not a regression.
 */
export class IncompatibleResultsError extends TokenbenchError {
  constructor(message: string) {
    super('ERR_INCOMPATIBLE_RESULTS', message);
  }
}

/**
 * Scenario fields that may differ between two runs of "the same" scenario. `name` is a label;
 * `topology.redisServer` is a path that depends on the machine (the version it resolved to is
 * in `environment.redis`); `topology.keep` only says whether the servers were left running
 * afterwards. Every other field changes what is measured, so it must match.
 */
export const SCENARIO_FIELDS_ALLOWED_TO_DIFFER: readonly string[] = ['name', 'topology.redisServer', 'topology.keep'];

function shortValue(value: unknown): string {
  if (value === undefined) return '(absent)';
  if (typeof value === 'string') return value;
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every leaf where two scenarios differ, as `path a vs b`, fields allowed to differ left out.
 * Compared as redacted copies: a difference is never shown with a password in it, and two runs
 * that differ only in a password (rotated) measured the same thing.
 */
export function scenarioDifferences(a: unknown, b: unknown, ignore: readonly string[] = SCENARIO_FIELDS_ALLOWED_TO_DIFFER): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    if (ignore.includes(path)) return;
    if (isPlainObject(x) && isPlainObject(y)) {
      for (const key of [...new Set([...Object.keys(x), ...Object.keys(y)])]) walk(x[key], y[key], path ? `${path}.${key}` : key);
      return;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      for (let i = 0; i < Math.max(x.length, y.length); i++) walk(x[i], y[i], `${path}[${i}]`);
      return;
    }
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${path || '(root)'} ${shortValue(x)} vs ${shortValue(y)}`);
  };
  walk(redactSecrets(a), redactSecrets(b), '');
  return out;
}

/** Throws IncompatibleResultsError naming the first differing fields when two results cannot be put side by side. */
export function assertComparable(
  a: { source: string; result: ResultFile },
  b: { source: string; result: ResultFile },
  mayDiffer: readonly string[] = SCENARIO_FIELDS_ALLOWED_TO_DIFFER,
): void {
  if (a.result.schemaVersion !== b.result.schemaVersion) {
    throw new IncompatibleResultsError(
      `${a.source} has schemaVersion ${a.result.schemaVersion}, ${b.source} has ${b.result.schemaVersion}: re-run one so both use the same`,
    );
  }
  const diffs = scenarioDifferences(a.result.scenario, b.result.scenario, mayDiffer);
  if (diffs.length > 0) {
    const shown = diffs.slice(0, 5).join('; ');
    const more = diffs.length > 5 ? ` (and ${diffs.length - 5} more)` : '';
    throw new IncompatibleResultsError(`scenario differs between ${a.source} and ${b.source}: ${shown}${more}`);
  }
}

/**
 * Runs are matched by (label, topology kind). A label repeated within one file (the same
 * strategy listed twice) is told apart by its occurrence, so the second matches the second.
 */
export function runKeys(runs: readonly StrategyRunResult[]): Map<string, StrategyRunResult> {
  const keys = new Map<string, StrategyRunResult>();
  const seen = new Map<string, number>();
  for (const run of runs) {
    const base = `${run.label} (${run.topology.kind})`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    keys.set(n === 1 ? base : `${base} #${n}`, run);
  }
  return keys;
}

export type MetricId =
  | 'verdict'
  | 'p50'
  | 'p99'
  | 'p999'
  | 'service-p99'
  | 'throughput'
  | 'violations'
  | 'lost'
  | 'entry-lost'
  | 'unavailability'
  | 'failover'
  | 'bytes-per-entry';
export const METRIC_IDS: readonly MetricId[] = [
  'verdict',
  'p50',
  'p99',
  'p999',
  'service-p99',
  'throughput',
  'violations',
  'lost',
  'entry-lost',
  'unavailability',
  'failover',
  'bytes-per-entry',
];

/** Largest allowed change for the worse, in percent of the baseline. */
export type Thresholds = Partial<Record<MetricId, number>>;

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = { p99: 10, throughput: 5 };

interface MetricDef {
  id: MetricId;
  name: string;
  /** verdict: 0 valid, 1 invalid (unknown is not compared). */
  unit: 'ms' | 'ops/s' | 'count' | 'verdict';
  better: 'lower' | 'higher';
  /** Correctness counts: an increase from 0 is always a regression, whatever the percentage. */
  correctness: boolean;
  /** Which per-bucket timeline figure estimates this metric's noise, when one does. */
  noiseFrom?: 'p50' | 'p99';
  read(run: StrategyRunResult): number | null;
}

export const METRICS: readonly MetricDef[] = [
  // A run that was valid and now is not is a regression whatever the limits: correctness, from 0.
  {
    id: 'verdict',
    name: 'checker verdict',
    unit: 'verdict',
    better: 'lower',
    correctness: true,
    read: (r) => (r.verdict.valid === 'unknown' ? null : r.verdict.valid ? 0 : 1),
  },
  { id: 'p50', name: 'verify p50 ms', unit: 'ms', better: 'lower', correctness: false, noiseFrom: 'p50', read: (r) => r.latency.verify?.all.p50 ?? null },
  { id: 'p99', name: 'verify p99 ms', unit: 'ms', better: 'lower', correctness: false, noiseFrom: 'p99', read: (r) => r.latency.verify?.all.p99 ?? null },
  { id: 'p999', name: 'verify p99.9 ms', unit: 'ms', better: 'lower', correctness: false, read: (r) => r.latency.verify?.all.p999 ?? null },
  // Uncorrected, from when the op was sent: no noise estimate (the timeline holds corrected latency only).
  {
    id: 'service-p99',
    name: 'verify service-time p99 ms',
    unit: 'ms',
    better: 'lower',
    correctness: false,
    read: (r) => r.latency.verify?.serviceTime?.all.p99 ?? null,
  },
  { id: 'throughput', name: 'throughput ops/s', unit: 'ops/s', better: 'higher', correctness: false, read: (r) => r.load.achievedRate },
  { id: 'violations', name: 'revoked-accepted violations', unit: 'count', better: 'lower', correctness: true, read: (r) => headlineFigures(r).violations },
  { id: 'lost', name: 'lost revocations', unit: 'count', better: 'lower', correctness: true, read: (r) => headlineFigures(r).lostRevocations },
  {
    id: 'entry-lost',
    name: 'valid-rejected entryLost',
    unit: 'count',
    better: 'lower',
    correctness: true,
    read: (r) => r.checks['valid-rejected'].counts.entryLost,
  },
  {
    id: 'unavailability',
    name: 'longest unavailability ms',
    unit: 'ms',
    better: 'lower',
    correctness: false,
    read: (r) => headlineFigures(r).longestUnavailabilityMs,
  },
  // What differs between servers (Redis, Valkey, versions) under the same failover: printed, checked only when named.
  {
    id: 'failover',
    name: 'new primary after the first fault ms',
    unit: 'ms',
    better: 'lower',
    correctness: false,
    read: (r) => {
      const first = injectedFaults(r)[0];
      return first ? newPrimaryAfterMs(r, first) : null;
    },
  },
  { id: 'bytes-per-entry', name: 'Redis bytes per entry', unit: 'count', better: 'lower', correctness: false, read: (r) => r.redis.bytesPerEntry },
];

const METRIC_ALIASES: Record<string, MetricId> = {
  'p99.9': 'p999',
  'service-time-p99': 'service-p99',
  entrylost: 'entry-lost',
  'entry-lost': 'entry-lost',
  'lost-revocations': 'lost',
  'revoked-accepted': 'violations',
};

/** `p99=10%,throughput=5%` -> { p99: 10, throughput: 5 } */
export function parseThresholds(text: string): Thresholds {
  const thresholds: Thresholds = {};
  const expected = `metric=N% pairs separated by commas (metrics: ${METRIC_IDS.join(', ')}), e.g. p99=10%,throughput=5%`;
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z0-9.-]+)\s*=\s*(\d+(?:\.\d+)?)\s*%?$/i.exec(part);
    if (!match) throw new InvalidOptionError('--max-regression', expected, part);
    const name = match[1]!.toLowerCase();
    const id = (METRIC_IDS as readonly string[]).includes(name) ? (name as MetricId) : METRIC_ALIASES[name];
    if (!id) throw new InvalidOptionError('--max-regression', `a metric among ${METRIC_IDS.join(', ')}`, match[1]);
    thresholds[id] = Number(match[2]);
  }
  if (Object.keys(thresholds).length === 0) throw new InvalidOptionError('--max-regression', expected, text);
  return thresholds;
}

/*
 * Run-to-run noise, estimated from one run alone.
 *
 * A result holds no repeated runs, but its timeline holds many small samples of the same steady
 * state: one latency sketch per bucket (100 ms by default). We take the per-bucket p50 (or p99)
 * of the buckets of the steady phase (those that end before the first fault and before the end
 * of the measured phase, with at least one verify) and use the standard error of their mean,
 * sd / sqrt(n), as the noise of that run's percentile. The sd is floored at the resolution of
 * the timeline sketch (10%-wide bins: a uniform error of width 0.1 x mean has sd 0.1 x mean /
 * sqrt(12)), so a perfectly flat timeline does not claim infinite precision. Two runs differ
 * beyond noise when |current - baseline| > 2 x sqrt(SE_baseline^2 + SE_current^2).
 *
 * It is a heuristic and says so in the output: it treats buckets as independent (stalls that
 * span buckets make it optimistic), and for runs with faults it covers steady-state jitter only,
 * not run-to-run variation of the fault's timing. No randomness: the same inputs give the same
 * verdict. p99.9 gets no estimate: buckets hold too few verifies to have their own p99.9.
 */
export const MIN_NOISE_BUCKETS = 5;
const BIN_SD_FRACTION = 0.1 / Math.sqrt(12);

export interface NoiseEstimate {
  /** Standard error of the mean of the per-bucket figure, ms. */
  standardError: number;
  /** Steady-phase buckets it is based on. */
  buckets: number;
}

export function steadyBuckets(run: StrategyRunResult): StrategyRunResult['timeline'] {
  const timeline = run.timeline;
  let bucketMs = Infinity;
  for (let i = 1; i < timeline.length; i++) {
    const step = timeline[i]!.t - timeline[i - 1]!.t;
    if (step > 0) bucketMs = Math.min(bucketMs, step);
  }
  if (!Number.isFinite(bucketMs)) return [];
  const firstFault = Math.min(Infinity, ...run.faults.map((f) => f.atMs));
  const end = Math.min(firstFault, run.load.durationMs);
  return timeline.filter((b) => b.t + bucketMs <= end && b.verifies > 0);
}

export function estimateNoise(run: StrategyRunResult, figure: 'p50' | 'p99'): NoiseEstimate | null {
  const values = steadyBuckets(run).map((b) => b[figure]);
  const n = values.length;
  if (n < MIN_NOISE_BUCKETS) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const sd = Math.max(Math.sqrt(variance), BIN_SD_FRACTION * mean);
  return { standardError: sd / Math.sqrt(n), buckets: n };
}

/** How far apart two runs' figure may be and still be the same within noise (see above); null: either has too few steady buckets. */
export function noiseBound(a: StrategyRunResult, b: StrategyRunResult, figure: 'p50' | 'p99'): number | null {
  const na = estimateNoise(a, figure);
  const nb = estimateNoise(b, figure);
  return na && nb ? 2 * Math.sqrt(na.standardError ** 2 + nb.standardError ** 2) : null;
}

/**
 * Whether `candidate`'s verify figure is outside what the reference runs measured (their range,
 * widened by the noise bound against the nearest of them): what else runs on a machine drifts
 * between runs, which no estimate from within one run can see, so references taken before and
 * after bracket it. Null when within; otherwise one sentence saying by how much.
 */
export function outsideNoise(references: readonly StrategyRunResult[], candidate: StrategyRunResult, figure: 'p50' | 'p99'): string | null {
  const value = (run: StrategyRunResult) => run.latency.verify?.all[figure] ?? null;
  const y = value(candidate);
  const values = references.map(value);
  if (y === null || values.includes(null) || values.length === 0) return `${figure}: no verify latency to compare`;
  const known = values as number[];
  const nearest = references[known.reduce((best, v, i) => (Math.abs(v - y) < Math.abs(known[best]! - y) ? i : best), 0)]!;
  const bound = noiseBound(nearest, candidate, figure);
  if (bound === null) return `${figure}: no noise estimate (fewer than ${MIN_NOISE_BUCKETS} steady buckets)`;
  return y >= Math.min(...known) - bound && y <= Math.max(...known) + bound
    ? null
    : `${figure}: reference ${known.join(' and ')} ms, this run ${y} ms, beyond the noise bound ${bound.toFixed(3)} ms`;
}

export type Verdict = 'ok' | 'regression' | 'improvement' | 'n/a';

export interface MetricRow {
  /** `label (topology kind)` */
  run: string;
  metric: MetricId;
  name: string;
  unit: MetricDef['unit'];
  baseline: number | null;
  current: number | null;
  delta: number | null;
  /** Of the baseline; null when the baseline is 0 (or a side is missing). */
  deltaPct: number | null;
  /** Allowed change for the worse in percent; null when the metric is not checked. */
  limitPct: number | null;
  /** Latency rows only: null when a run has too few steady buckets for an estimate. */
  noise: { bound: number; beyond: boolean } | null;
  noiseApplies: boolean;
  verdict: Verdict;
}

export interface Comparison {
  baseline: string;
  current: string;
  /** What served each side (`environment.redis`): a comparison of servers says so in its heading. */
  servers: { baseline: string; current: string };
  thresholds: Thresholds;
  rows: MetricRow[];
  onlyInBaseline: string[];
  onlyInCurrent: string[];
  /** Runs that hit Ctrl-C on either side: their figures are partial. */
  interrupted: string[];
  runsWithFaults: boolean;
}

const EPSILON = 1e-9;

function verdictFor(def: MetricDef, row: Omit<MetricRow, 'verdict'>): Verdict {
  const { baseline, current, delta, deltaPct, limitPct } = row;
  if (baseline === null || current === null || delta === null) return 'n/a';
  if (delta === 0 || limitPct === null) return 'ok';
  const worse = def.better === 'lower' ? delta > 0 : delta < 0;
  // From 0, any change is infinitely many percent.
  const magnitude = deltaPct === null ? Infinity : Math.abs(deltaPct);
  if (def.correctness && worse && baseline === 0) return 'regression';
  if (magnitude > limitPct + EPSILON) return worse ? 'regression' : 'improvement';
  return 'ok';
}

/**
 * Puts the runs both results have side by side. Thresholds apply to the metrics they name; the
 * correctness counts are always checked (default: any increase).
 */
export function compareResults(
  baseline: { source: string; result: ResultFile },
  current: { source: string; result: ResultFile },
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): Comparison {
  assertComparable(baseline, current);
  const a = runKeys(baseline.result.runs);
  const b = runKeys(current.result.runs);
  const common = [...a.keys()].filter((k) => b.has(k));
  if (common.length === 0) {
    throw new IncompatibleResultsError(
      `no run in common between ${baseline.source} (${[...a.keys()].join(', ') || 'no runs'}) and ${current.source} (${[...b.keys()].join(', ') || 'no runs'}); runs are matched by label and topology kind`,
    );
  }
  const rows: MetricRow[] = [];
  const interrupted: string[] = [];
  let runsWithFaults = false;
  for (const key of common) {
    const runA = a.get(key)!;
    const runB = b.get(key)!;
    if (runA.interrupted || runB.interrupted) interrupted.push(key);
    if (runA.faults.length > 0 || runB.faults.length > 0) runsWithFaults = true;
    for (const def of METRICS) {
      const va = def.read(runA);
      const vb = def.read(runB);
      const delta = va === null || vb === null ? null : vb - va;
      const deltaPct = delta === null || va === null ? null : va === 0 ? (delta === 0 ? 0 : null) : (delta / Math.abs(va)) * 100;
      const limitPct = thresholds[def.id] ?? (def.correctness ? 0 : null);
      let noise: MetricRow['noise'] = null;
      if (def.noiseFrom && delta !== null) {
        const bound = noiseBound(runA, runB, def.noiseFrom);
        if (bound !== null) noise = { bound, beyond: Math.abs(delta) > bound };
      }
      const partial = {
        run: key,
        metric: def.id,
        name: def.name,
        unit: def.unit,
        baseline: va,
        current: vb,
        delta,
        deltaPct,
        limitPct,
        noise,
        noiseApplies: def.noiseFrom !== undefined,
      };
      rows.push({ ...partial, verdict: verdictFor(def, partial) });
    }
  }
  return {
    baseline: baseline.source,
    current: current.source,
    servers: { baseline: baseline.result.environment.redis, current: current.result.environment.redis },
    thresholds,
    rows,
    onlyInBaseline: [...a.keys()].filter((k) => !b.has(k)),
    onlyInCurrent: [...b.keys()].filter((k) => !a.has(k)),
    interrupted,
    runsWithFaults,
  };
}

export function regressions(comparison: Comparison): MetricRow[] {
  return comparison.rows.filter((r) => r.verdict === 'regression');
}

function formatValue(value: number | null, unit: MetricRow['unit'], signed = false): string {
  if (value === null) return '-';
  const sign = signed && value > 0 ? '+' : '';
  if (unit === 'verdict') return signed ? (value > 0 ? 'now invalid' : value < 0 ? 'now valid' : '0') : value === 0 ? 'valid' : 'invalid';
  if (unit === 'count') return `${sign}${Math.round(value)}`;
  const abs = Math.abs(value);
  const digits = unit === 'ops/s' ? (Number.isInteger(value) ? 0 : 1) : abs === 0 ? 0 : abs < 1 ? 3 : abs < 10 ? 2 : abs < 1000 ? 1 : 0;
  return `${sign}${value.toFixed(digits)}`;
}

function formatPct(pct: number | null): string {
  if (pct === null) return '-';
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

const METRIC_BY_ID = new Map(METRICS.map((m) => [m.id, m]));

function formatLimit(row: MetricRow): string {
  const def = METRIC_BY_ID.get(row.metric)!;
  if (row.limitPct === null) return '-';
  if (def.correctness) return row.limitPct === 0 ? 'any increase' : `+${row.limitPct}% (any from 0)`;
  return `${def.better === 'lower' ? '+' : '-'}${row.limitPct}%`;
}

function formatNoise(row: MetricRow): string {
  if (!row.noiseApplies) return '';
  if (row.delta === null) return '-';
  if (!row.noise) return '?';
  return `±${formatValue(row.noise.bound, row.unit)} ${row.noise.beyond ? 'beyond' : 'within'}`;
}

function crossedLine(row: MetricRow): string {
  const def = METRIC_BY_ID.get(row.metric)!;
  const unit = row.unit === 'count' ? '' : ` ${row.unit}`;
  const change = `${formatValue(row.baseline, row.unit)} -> ${formatValue(row.current, row.unit)}${unit}`;
  const why = def.correctness && row.baseline === 0 ? 'any increase from 0 is a regression' : `${formatPct(row.deltaPct)}, limit ${formatLimit(row)}`;
  const noise = !row.noiseApplies
    ? ''
    : !row.noise
      ? '; noise unknown (too few steady timeline buckets)'
      : row.noise.beyond
        ? `; beyond run-to-run noise (±${formatValue(row.noise.bound, row.unit)})`
        : `; within run-to-run noise (±${formatValue(row.noise.bound, row.unit)}): may be chance`;
  return `regression: ${row.run} ${row.name.replace(/ (ms|ops\/s)$/, '')}: ${change} (${why})${noise}`;
}

function thresholdSummary(thresholds: Thresholds): string {
  const parts = METRICS.filter((m) => thresholds[m.id] !== undefined && !m.correctness).map(
    (m) => `${m.id} ${m.better === 'lower' ? '+' : '-'}${thresholds[m.id]}%`,
  );
  const counts = METRICS.filter((m) => m.correctness).map((m) =>
    thresholds[m.id] === undefined ? `${m.id} any increase` : `${m.id} +${thresholds[m.id]}% (any from 0)`,
  );
  return [...parts, ...counts].join(', ');
}

const NOISE_FOOTNOTE =
  "noise: ±2*sqrt(SE_baseline^2 + SE_current^2), SE being the standard error of the mean of the per-bucket verify p50/p99 over each run's " +
  `steady-phase timeline buckets (before the first fault; at least ${MIN_NOISE_BUCKETS}; spread floored at the timeline's 10% bin resolution). ` +
  '"within" = the difference is smaller and may be run-to-run variation; "?" = too few steady buckets. A heuristic: it treats buckets as independent.';

/** A GitHub-flavoured Markdown table (for a CI job summary) or an aligned plain-text one, then the crossed thresholds and footnotes. */
export function renderComparison(comparison: Comparison, options: { markdown?: boolean } = {}): string {
  const markdown = options.markdown ?? false;
  const header = ['run', 'metric', 'baseline', 'current', 'delta', 'delta %', 'limit', 'noise', 'verdict'];
  const rightAligned = [false, false, true, true, true, true, false, false, false];
  const body: string[][] = [];
  let previousRun = '';
  for (const row of comparison.rows) {
    const interrupted = comparison.interrupted.includes(row.run) ? ' (interrupted)' : '';
    body.push([
      row.run === previousRun ? '' : `${row.run}${interrupted}`,
      row.name,
      formatValue(row.baseline, row.unit),
      formatValue(row.current, row.unit),
      formatValue(row.delta, row.unit, true),
      formatPct(row.deltaPct),
      formatLimit(row),
      formatNoise(row),
      row.verdict,
    ]);
    previousRun = row.run;
  }
  const crossed = regressions(comparison).map(crossedLine);
  const notes = [
    ...comparison.onlyInBaseline.map((k) => `only in baseline (not compared): ${k}`),
    ...comparison.onlyInCurrent.map((k) => `only in current (not compared): ${k}`),
    ...(comparison.interrupted.length > 0 ? [`interrupted (partial figures): ${comparison.interrupted.join(', ')}`] : []),
    `limits: ${thresholdSummary(comparison.thresholds)}; "-" = not checked`,
    NOISE_FOOTNOTE,
    ...(comparison.runsWithFaults
      ? ['runs with faults: the noise estimate covers steady-state jitter only, not run-to-run variation of when the fault hits or how long recovery takes.']
      : []),
  ];
  const verdictLine = crossed.length === 0 ? 'no threshold crossed' : `${crossed.length} threshold${crossed.length === 1 ? '' : 's'} crossed`;
  const { servers } = comparison;
  const serversDiffer = servers.baseline !== servers.current;
  const on = (side: 'baseline' | 'current') => (serversDiffer ? ` (${servers[side]})` : '');
  if (serversDiffer)
    notes.unshift(
      `servers differ: ${servers.baseline} vs ${servers.current}; a difference marked beyond noise is the servers' (or the run's), not noise. Failover time and bytes per entry are printed, checked only when named in --max-regression.`,
    );

  if (markdown) {
    const lines = [
      `### tokenbench compare: ${crossed.length === 0 ? 'ok' : 'regression'}`,
      '',
      `baseline \`${escapeCell(comparison.baseline)}\`${escapeCell(on('baseline'))}, current \`${escapeCell(comparison.current)}\`${escapeCell(on('current'))}: ${verdictLine}`,
      '',
      ...markdownTable(
        header,
        body.map((cells) => cells.map((c, i) => (i === 8 && c === 'regression' ? '**regression**' : escapeCell(c)))),
        { align: rightAligned.map((r) => (r ? 'right' : 'left')), raw: true },
      ),
      '',
      ...crossed.map((line) => `- **regression**: ${escapeCell(line.replace(/^regression: /, ''))}`),
      ...(crossed.length > 0 ? [''] : []),
      ...notes.map((n) => `<sub>${escapeCell(n)}</sub><br>`),
    ];
    return `${lines.join('\n')}\n`;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const lines = [
    `baseline: ${comparison.baseline}${on('baseline')}`,
    `current:  ${comparison.current}${on('current')}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    ...crossed,
    verdictLine,
    '',
    ...notes.map((n) => `note: ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}
