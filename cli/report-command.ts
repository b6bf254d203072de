import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InvalidOptionError } from '../core/errors.ts';
import { redactSecrets } from '../core/secrets.ts';
import { renderHtml } from '../reports/html.ts';
import { renderMarkdown } from '../reports/markdown.ts';
import { CI_FORMATS, ciOutputFiles, isCiFormatName } from '../reports/outputs/formats.ts';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { parseFlags } from './flags.ts';
import { REPORT_FLAGS, REPORT_FORMATS, REPORT_HELP, REPORT_USAGE } from './report-flags.ts';
import { UsageError } from './usage-error.ts';

export { REPORT_HELP } from './report-flags.ts';

type Format = (typeof REPORT_FORMATS)[number];

async function render(result: ResultFile, format: Format, resultDir: string): Promise<string> {
  if (format === 'md') return renderMarkdown(result);
  // Like the other formats, never a password from an old or hand-made result.
  if (format === 'json') return `${JSON.stringify({ ...result, scenario: redactSecrets(result.scenario) }, null, 2)}\n`;
  if (format === 'html') return renderHtml(result);
  const [file] = await ciOutputFiles(format, result, resultDir);
  return file!.text;
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
  const format = (values.format ?? REPORT_FLAGS.format.default) as Format;
  if (!REPORT_FORMATS.includes(format)) throw new InvalidOptionError('--format', REPORT_FORMATS.join(', '), values.format);
  const resultDir = dirname(resolve(file));
  const ciFormat = isCiFormatName(format) ? CI_FORMATS[format] : undefined;
  if (ciFormat?.kind === 'files') {
    if (!values.out) throw new UsageError(`report: --format ${format} writes one file per run: give the directory with --out <dir>`);
    const outDir = resolve(values.out);
    for (const written of await ciFormat.render(loadResult(file), resultDir)) {
      const path = join(outDir, written.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, written.text);
      process.stdout.write(`${path}\n`);
    }
    return 0;
  }
  const text = await render(loadResult(file), format, resultDir);
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  return 0;
}
