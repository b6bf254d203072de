import { type CommandUsage, type FlagTable, HELP_FLAG, optionsBlock } from './flags.ts';

export const COMPARE_FLAGS = {
  'max-regression': {
    type: 'string',
    value: '<list>',
    // reports/compare.ts's DEFAULT_THRESHOLDS, which --help does not load; cli/flags.test.ts holds them equal.
    default: 'p99=10%,throughput=5%',
    help: 'metric=N% pairs: how much worse each may get\n(in percent of the baseline). Metrics: p50, p99, p999, service-p99\n(verify service time), failover (new primary after the first fault)\nand bytes-per-entry (these three checked only when named), throughput,\nunavailability, and the correctness counts violations, lost, entry-lost\n(for these any increase from 0 is always a regression; default: any\nincrease at all)',
  },
  markdown: { type: 'boolean', help: 'a GitHub-flavoured Markdown table, e.g. for $GITHUB_STEP_SUMMARY' },
  json: { type: 'boolean', help: 'the comparison as JSON (every row, the limits, the regressions),\nfor a CI step to read; the same exit codes' },
  help: HELP_FLAG,
} as const satisfies FlagTable;

export const COMPARE_HELP = `Usage: tokenbench compare <baseline.json> <current.json> [--max-regression <limits>] [--markdown | --json]

Puts two results of the same scenario side by side. Runs are matched by label and topology kind;
for each: verify p50, p99, p99.9, verify service-time p99 (uncorrected: from when the op was
sent; n/a where a side did not measure it), throughput, revoked-accepted violations, lost
revocations, valid-rejected entryLost, the longest unavailability, the failover time and Redis
bytes per entry, with the change and a verdict (ok / regression / improvement / n/a). Latency changes are also marked within or
beyond the run-to-run noise estimated from each run's steady-phase timeline (see the footnote
it prints).

Exit codes: 0 no threshold crossed, 1 a threshold crossed (one line each), 2 unusable input:
a file that does not load, different schema versions or scenarios (the differing fields are
named; only name, topology.redisServer and topology.keep may differ), or no run in common.

${optionsBlock('Options:', COMPARE_FLAGS)}

Examples:
  tokenbench compare results/main/result.json results/pr/result.json
  tokenbench compare base.json new.json --max-regression p99=15%,p999=25%,throughput=3%
  tokenbench compare base.json new.json --markdown >> "$GITHUB_STEP_SUMMARY"
  tokenbench compare base.json new.json --json > comparison.json
`;

export const COMPARE_USAGE = { command: 'compare', flags: COMPARE_FLAGS, help: COMPARE_HELP } satisfies CommandUsage;
