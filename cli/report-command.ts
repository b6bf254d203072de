import { writeFileSync } from 'node:fs';
import { InvalidOptionError } from '../core/errors.ts';
import { redactSecrets } from '../core/secrets.ts';
import { renderHtml } from '../reports/html.ts';
import { renderMarkdown } from '../reports/markdown.ts';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { parseFlags } from './flags.ts';
import { REPORT_FLAGS, REPORT_FORMATS, REPORT_HELP, REPORT_USAGE } from './report-flags.ts';
import { UsageError } from './usage-error.ts';

export { REPORT_HELP } from './report-flags.ts';

function render(result: ResultFile, format: (typeof REPORT_FORMATS)[number]): string {
  if (format === 'md') return renderMarkdown(result);
  // Like the other formats, never a password from an old or hand-made result.
  if (format === 'json') return `${JSON.stringify({ ...result, scenario: redactSecrets(result.scenario) }, null, 2)}\n`;
  return renderHtml(result);
}

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, REPORT_USAGE.flags, REPORT_USAGE.command);
  if (values.help) {
    process.stdout.write(REPORT_HELP);
    return 0;
  }
  const [file, ...rest] = positionals;
  if (!file) throw new UsageError('report: which result? tokenbench report <result.json> (see: tokenbench report --help)');
  if (rest.length > 0) throw new UsageError(`report: one result at a time; unexpected '${rest[0]}'`);
  const format = (values.format ?? REPORT_FLAGS.format.default) as (typeof REPORT_FORMATS)[number];
  if (!REPORT_FORMATS.includes(format)) throw new InvalidOptionError('--format', REPORT_FORMATS.join(', '), values.format);
  const text = render(loadResult(file), format);
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  return 0;
}
