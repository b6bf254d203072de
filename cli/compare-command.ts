import { IncompatibleResultsError, compareResults, parseThresholds, regressions, renderComparison, DEFAULT_THRESHOLDS } from '../reports/compare.ts';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { parseFlags } from './flags.ts';
import { UsageError } from './usage-error.ts';

export const COMPARE_HELP = `Usage: tokenbench compare <baseline.json> <current.json> [--max-regression <limits>] [--markdown]

Puts two results of the same scenario side by side. Runs are matched by label and topology kind;
for each: verify p50, p99, p99.9, throughput, revoked-accepted violations, lost revocations,
valid-rejected entryLost and the longest unavailability, with the change and a verdict
(ok / regression / improvement / n/a). Latency changes are also marked within or beyond the
run-to-run noise estimated from each run's steady-phase timeline (see the footnote it prints).

Exit codes: 0 no threshold crossed, 1 a threshold crossed (one line each), 2 unusable input:
a file that does not load, different schema versions or scenarios (the differing fields are
named; only name, topology.redisServer and topology.keep may differ), or no run in common.

Options:
  --max-regression <list>  metric=N% pairs: how much worse a metric may get, in percent of the
                           baseline. Metrics: p50, p99, p999, throughput, unavailability, and the
                           correctness counts violations, lost, entry-lost (for these any increase
                           from 0 is always a regression; default: any increase at all)
                                                                         [p99=10%,throughput=5%]
  --markdown               a GitHub-flavoured Markdown table, e.g. for $GITHUB_STEP_SUMMARY
  -h, --help

Examples:
  tokenbench compare results/main/result.json results/pr/result.json
  tokenbench compare base.json new.json --max-regression p99=15%,p999=25%,throughput=3%
  tokenbench compare base.json new.json --markdown >> "$GITHUB_STEP_SUMMARY"
`;

const FLAGS = {
  'max-regression': { type: 'string' },
  markdown: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A file that does not load is a wrong argument for compare and merge: exit 2, same one-line message. */
export function loadResultArgument(path: string): { source: string; result: ResultFile } {
  return { source: path, result: loadResult(path) };
}

export async function compareCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, 'compare');
  if (values.help) {
    process.stdout.write(COMPARE_HELP);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(`compare: expected two result files, <baseline.json> <current.json>, got ${positionals.length} (see: tokenbench compare --help)`);
  }
  const thresholds = values['max-regression'] === undefined ? DEFAULT_THRESHOLDS : parseThresholds(values['max-regression']);
  const baseline = loadResultArgument(positionals[0]!);
  const current = loadResultArgument(positionals[1]!);
  let comparison;
  try {
    comparison = compareResults(baseline, current, thresholds);
  } catch (error) {
    if (error instanceof IncompatibleResultsError) throw new UsageError(`compare: ${error.message}`);
    throw error;
  }
  process.stdout.write(renderComparison(comparison, { markdown: values.markdown ?? false }));
  return regressions(comparison).length > 0 ? 1 : 0;
}
