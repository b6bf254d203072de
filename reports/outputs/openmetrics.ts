import { redactSecrets } from '../../core/secrets.ts';
import { OP_FUNCTIONS } from '../../result/checks.ts';
import { headlineFigures } from '../../result/figures.ts';
import type { ResultFile, StrategyRunResult } from '../../result/schema.ts';
import { ciRunNames } from './run-names.ts';

/**
 * The OpenMetrics 1.0 text exposition (https://github.com/OpenObservability/OpenMetrics,
 * specification/OpenMetrics.md) of a result, for a Pushgateway or any Prometheus-compatible store:
 * one family per figure, each with TYPE, UNIT (base units: seconds, bytes; the unit is the name's
 * suffix) and HELP before its samples, never interleaved, each label set once; every run's
 * samples labelled strategy, topology and run (its unique name). Ends with `# EOF`.
 */

type FamilyType = 'gauge' | 'counter' | 'summary' | 'stateset' | 'info';

interface Sample {
  /** Appended to the family name: `_total` for a counter, `_count` of a summary, `_info`. */
  suffix: string;
  labels: readonly (readonly [string, string])[];
  value: number;
}

interface Family {
  name: string;
  type: FamilyType;
  unit?: string;
  help: string;
  samples: Sample[];
}

/** Label values escape backslash, double quote and line feed; HELP escapes backslash and line feed. */
const labelValue = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const helpText = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function familyLines(family: Family): string[] {
  const lines = [`# TYPE ${family.name} ${family.type}`];
  if (family.unit) lines.push(`# UNIT ${family.name} ${family.unit}`);
  lines.push(`# HELP ${family.name} ${helpText(family.help)}`);
  for (const sample of family.samples) {
    const labels = sample.labels.map(([name, value]) => `${name}="${labelValue(value)}"`).join(',');
    lines.push(`${family.name}${sample.suffix}${labels ? `{${labels}}` : ''} ${numberText(sample.value)}`);
  }
  return lines;
}

/** Canonical quantile label values (the spec's "Canonical Numbers"), with the result's field for each. */
const QUANTILES = [
  ['0.5', 'p50'],
  ['0.9', 'p90'],
  ['0.99', 'p99'],
  ['0.999', 'p999'],
  ['0.9999', 'p9999'],
  ['1.0', 'max'],
] as const;

/** Milliseconds as seconds, to the microsecond the result resolves (no 0.0005290000000000001). */
const seconds = (ms: number) => Math.round(ms * 1000) / 1e6;

const VERDICT_STATES = ['valid', 'invalid', 'unknown'] as const;
const stateOf = (valid: boolean | 'unknown') => (valid === 'unknown' ? 'unknown' : valid ? 'valid' : 'invalid');

export function renderOpenMetrics(input: ResultFile): string {
  const result = redactSecrets(input);
  const names = ciRunNames(result.runs);
  const runLabels = (run: StrategyRunResult, i: number) =>
    [
      ['strategy', run.strategy],
      ['topology', run.topology.kind],
      ['run', names[i]!],
    ] as const;
  const perRun = (pick: (run: StrategyRunResult) => number | null, suffix = ''): Sample[] =>
    result.runs.flatMap((run, i) => {
      const value = pick(run);
      return value === null ? [] : [{ suffix, labels: runLabels(run, i), value }];
    });
  const stateset = (family: string, states: readonly string[], entries: { labels: Sample['labels']; state: string }[]): Sample[] =>
    entries.flatMap(({ labels, state }) => states.map((s) => ({ suffix: '', labels: [...labels, [family, s] as const], value: s === state ? 1 : 0 })));

  const scenario = typeof result.scenario.name === 'string' ? result.scenario.name : 'scenario';
  const families: Family[] = [
    {
      name: 'tokenbench_result',
      type: 'info',
      help: 'The result these figures come from: tokenbench version, scenario, Redis, when it was written.',
      samples: [
        {
          suffix: '_info',
          labels: [
            ['tokenbench', result.tokenbenchVersion],
            ['scenario', scenario],
            ['redis', result.environment.redis],
            ['created', result.createdAt],
          ],
          value: 1,
        },
      ],
    },
    {
      name: 'tokenbench_latency_seconds',
      type: 'summary',
      unit: 'seconds',
      help: 'Latency per operation type over the measured phase, from the intended start (coordinated omission corrected); quantile 1.0 is the max.',
      samples: result.runs.flatMap((run, i) =>
        OP_FUNCTIONS.flatMap((op) => {
          const summary = run.latency[op]?.all;
          if (!summary) return [];
          const labels = [...runLabels(run, i), ['op', op] as const];
          return [
            ...QUANTILES.map(([quantile, field]) => ({
              suffix: '',
              labels: [...labels, ['quantile', quantile] as const],
              value: summary.count === 0 ? Number.NaN : seconds(summary[field]),
            })),
            { suffix: '_count', labels, value: summary.count },
          ];
        }),
      ),
    },
    {
      name: 'tokenbench_operations',
      type: 'counter',
      help: 'Operations completed in the measured phase.',
      samples: perRun((r) => r.load.completedOps, '_total'),
    },
    {
      name: 'tokenbench_measured_duration_seconds',
      type: 'gauge',
      unit: 'seconds',
      help: 'Length of the measured phase.',
      samples: perRun((r) => seconds(r.load.durationMs)),
    },
    {
      name: 'tokenbench_throughput_operations_per_second',
      type: 'gauge',
      unit: 'operations_per_second',
      help: 'Achieved operations per second in the measured phase.',
      samples: perRun((r) => r.load.achievedRate),
    },
    {
      name: 'tokenbench_violations',
      type: 'counter',
      help: 'Revoked tokens accepted after their revocation was acknowledged, beyond what the strategy promises.',
      samples: perRun((r) => headlineFigures(r).violations, '_total'),
    },
    {
      name: 'tokenbench_revoked_accepted',
      type: 'counter',
      help: 'Revoked tokens accepted after an acknowledged revocation: within the guarantee, by a fail-open policy, or violations.',
      samples: perRun((r) => headlineFigures(r).revokedAccepted, '_total'),
    },
    {
      name: 'tokenbench_lost_revocations',
      type: 'counter',
      help: 'Distinct tokens whose acknowledged revocation did not hold (absent: not known, an old result).',
      samples: perRun((r) => headlineFigures(r).lostRevocations, '_total'),
    },
    {
      name: 'tokenbench_valid_rejected',
      type: 'counter',
      help: 'Valid, never-revoked tokens rejected (store unavailable, entry lost, JWT or clock, other).',
      samples: perRun((r) => headlineFigures(r).validRejected, '_total'),
    },
    {
      name: 'tokenbench_longest_unavailability_seconds',
      type: 'gauge',
      unit: 'seconds',
      help: 'Longest time verify had no definite answer (a lower bound when still open at the end of the measured phase).',
      samples: perRun((r) => seconds(headlineFigures(r).longestUnavailabilityMs)),
    },
    {
      name: 'tokenbench_redis_round_trips_per_verify',
      type: 'gauge',
      help: 'Redis round trips per verify (absent: not measured).',
      samples: perRun((r) => r.redis.roundTripsPerVerify),
    },
    {
      name: 'tokenbench_redis_entry_size_bytes',
      type: 'gauge',
      unit: 'bytes',
      help: "MEMORY USAGE of a sample of the strategy's keys divided by the entries they hold (absent: not measured).",
      samples: perRun((r) => r.redis.bytesPerEntry),
    },
    {
      name: 'tokenbench_verdict',
      type: 'stateset',
      help: "The run's verdict from its checkers.",
      samples: stateset(
        'tokenbench_verdict',
        VERDICT_STATES,
        result.runs.map((run, i) => ({ labels: runLabels(run, i), state: stateOf(run.verdict.valid) })),
      ),
    },
    {
      name: 'tokenbench_checker_verdict',
      type: 'stateset',
      help: "Each checker's verdict on the run's history.",
      samples: stateset(
        'tokenbench_checker_verdict',
        VERDICT_STATES,
        result.runs.flatMap((run, i) =>
          Object.entries(run.checks).map(([checker, check]) => ({
            labels: [...runLabels(run, i), ['checker', checker] as const],
            state: stateOf(check.valid),
          })),
        ),
      ),
    },
    {
      name: 'tokenbench_threshold',
      type: 'stateset',
      help: 'Each threshold of the scenario against the run: ok or broken (a value not measured breaks it).',
      samples: stateset(
        'tokenbench_threshold',
        ['ok', 'broken'],
        result.runs.flatMap((run, i) =>
          run.thresholds.map((t) => ({ labels: [...runLabels(run, i), ['metric', t.metric] as const], state: t.ok ? 'ok' : 'broken' })),
        ),
      ),
    },
  ];
  // A family with no sample (no thresholds, nothing measured) is left out: it would say nothing.
  return `${[...families.filter((f) => f.samples.length > 0).flatMap(familyLines), '# EOF'].join('\n')}\n`;
}
