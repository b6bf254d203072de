import { type CommandUsage, type FlagTable, HELP_FLAG, optionsBlock } from './flags.ts';

export const REPORT_FORMATS = ['md', 'html', 'json'] as const;

export const REPORT_FLAGS = {
  format: {
    type: 'string',
    value: `<${REPORT_FORMATS.join('|')}>`,
    default: REPORT_FORMATS[0],
    help: 'Markdown for PRs and design reviews, a\nself-contained HTML page with charts, or the validated result as JSON',
  },
  out: { type: 'string', value: '<file>', help: 'write there instead of stdout' },
  help: HELP_FLAG,
} as const satisfies FlagTable;

export const REPORT_HELP = `Usage: tokenbench report <result.json> [--format ${REPORT_FORMATS.join('|')}] [--out <file>]

Renders a result again, from the file alone: old results can be re-rendered after an upgrade of
the report, and shared without the run's history files.

${optionsBlock('Options:', REPORT_FLAGS)}

Examples:
  tokenbench report results/2026-11-27T10-00-00-000Z/result.json
  tokenbench report result.json --format html --out report.html
`;

export const REPORT_USAGE = { command: 'report', flags: REPORT_FLAGS, help: REPORT_HELP } satisfies CommandUsage;
