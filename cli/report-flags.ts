import { type CommandUsage, type FlagTable, HELP_FLAG, optionsBlock } from './flags.ts';

/**
 * The CI outputs, each as --help describes it in a line. reports/outputs/formats.ts's CI_FORMATS
 * renders them, and --help does not load it: cli/report-flags.test.ts holds the two lists equal.
 */
export const CI_OUTPUT_HELP = {
  junit: 'JUnit XML (junit.xml): a test case per threshold and per checker, a suite per run',
  'benchmark-action': 'github-action-benchmark customSmallerIsBetter JSON (benchmark-action.json)',
  bencher: 'Bencher Metric Format JSON (bencher.json), with the noise estimate as bounds',
  openmetrics: 'OpenMetrics text exposition (metrics.om.txt), e.g. for a Pushgateway',
  summary: 'Markdown sized for $GITHUB_STEP_SUMMARY (summary.md): verdict, table, thresholds',
  'hdr-log': 'HdrHistogram interval logs, one per run (hdr/<n>-<label>.hlog), from the history\nfiles next to result.json; --out is then a directory',
} as const;

export const CI_OUTPUT_NAMES = Object.keys(CI_OUTPUT_HELP) as (keyof typeof CI_OUTPUT_HELP)[];

export const REPORT_FORMATS = ['md', 'html', 'json', ...CI_OUTPUT_NAMES] as const;

export const REPORT_FLAGS = {
  format: {
    type: 'string',
    value: '<format>',
    default: REPORT_FORMATS[0],
    help: `md, html, json, or a CI output:\n${CI_OUTPUT_NAMES.join(', ')}\n(see Formats below)`,
  },
  out: { type: 'string', value: '<file|dir>', help: 'write there instead of stdout (hdr-log: a directory, required)' },
  help: HELP_FLAG,
} as const satisfies FlagTable;

const FORMAT_HELP: Record<(typeof REPORT_FORMATS)[number], string> = {
  md: 'Markdown for PRs and design reviews',
  html: 'a self-contained HTML page with charts',
  json: 'the validated result as JSON (secrets redacted)',
  ...CI_OUTPUT_HELP,
};

const width = Math.max(...REPORT_FORMATS.map((f) => f.length)) + 2;
const formatsBlock = REPORT_FORMATS.map((format) =>
  FORMAT_HELP[format]
    .split('\n')
    .map((line, i) => `  ${(i === 0 ? format : '').padEnd(width)}${line}`)
    .join('\n'),
).join('\n');

export const REPORT_HELP = `Usage: tokenbench report <result.json> [--format <format>] [--out <file|dir>]

Renders a result again, from the file alone: old results can be re-rendered after an upgrade of
the report, and shared without the run's history files (hdr-log excepted: it reads them).

${optionsBlock('Options:', REPORT_FLAGS)}

Formats:
${formatsBlock}

The CI formats are also written by tokenbench run --ci-outputs <list> beside report.md.

Examples:
  tokenbench report results/2026-11-27T10-00-00-000Z/result.json
  tokenbench report result.json --format html --out report.html
  tokenbench report result.json --format junit --out junit.xml
  tokenbench report result.json --format summary >> "$GITHUB_STEP_SUMMARY"
  tokenbench report result.json --format bencher --out bencher.json
  tokenbench report results/<ts>/result.json --format hdr-log --out results/<ts>/hdr
`;

export const REPORT_USAGE = { command: 'report', flags: REPORT_FLAGS, help: REPORT_HELP } satisfies CommandUsage;
