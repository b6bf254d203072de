import { writeFileSync } from 'node:fs';
import { InvalidOptionError } from '../core/errors.ts';
import { renderHtml } from '../reports/html.ts';
import { renderMarkdown } from '../reports/markdown.ts';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { parseFlags } from './flags.ts';
import { UsageError } from './usage-error.ts';

export const REPORT_HELP = `Usage: tokenbench report <result.json> [--format md|html|json] [--out <file>]

Renders a result again, from the file alone: old results can be re-rendered after an upgrade of
the report, and shared without the run's history files.

Options:
  --format <md|html|json>  Markdown for PRs and design reviews, a self-contained HTML page with
                           charts, or the validated result as JSON                    [md]
  --out <file>             write there instead of stdout

Examples:
  tokenbench report results/2026-11-27T10-00-00-000Z/result.json
  tokenbench report result.json --format html --out report.html
`;

const FORMATS = ['md', 'html', 'json'] as const;

function render(result: ResultFile, format: (typeof FORMATS)[number]): string {
  if (format === 'md') return renderMarkdown(result);
  if (format === 'json') return `${JSON.stringify(result, null, 2)}\n`;
  return renderHtml(result);
}

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { format: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 'report');
  if (values.help) {
    process.stdout.write(REPORT_HELP);
    return 0;
  }
  const [file, ...rest] = positionals;
  if (!file) throw new UsageError('report: which result? tokenbench report <result.json> (see: tokenbench report --help)');
  if (rest.length > 0) throw new UsageError(`report: one result at a time; unexpected '${rest[0]}'`);
  const format = (values.format ?? 'md') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new InvalidOptionError('--format', FORMATS.join(', '), values.format);
  const text = render(loadResult(file), format);
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  return 0;
}
