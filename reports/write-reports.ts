import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseResult, type ResultFile } from '../result/schema.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { CI_FORMATS, type CiFormatName, ciOutputFiles } from './outputs/formats.ts';

/** The result as `tokenbench report result.json` reads it back, so a report written now has the same bytes as one rendered later. */
function asReadFromFile(result: ResultFile, outDir: string): ResultFile {
  return parseResult(JSON.parse(JSON.stringify(result)), join(outDir, 'result.json'));
}

/** report.md and report.html beside result.json; a renderer failing never loses the result. Returns the paths written. */
export function writeReports(result: ResultFile, outDir: string, onError: (file: string, error: Error) => void = () => {}): string[] {
  const written: string[] = [];
  const fromFile = asReadFromFile(result, outDir);
  for (const [file, render] of [
    ['report.md', renderMarkdown],
    ['report.html', renderHtml],
  ] as const) {
    try {
      const path = join(outDir, file);
      writeFileSync(path, render(fromFile));
      written.push(path);
    } catch (error) {
      onError(file, error as Error);
    }
  }
  return written;
}

/**
 * The CI outputs asked for (reports/outputs/formats.ts), beside report.md: each format written
 * whole or reported to `onError` by its file name, the others still written. Returns the paths written.
 */
export async function writeCiOutputs(
  result: ResultFile,
  outDir: string,
  formats: readonly CiFormatName[],
  onError: (file: string, error: Error) => void = () => {},
): Promise<string[]> {
  const written: string[] = [];
  if (formats.length === 0) return written;
  const fromFile = asReadFromFile(result, outDir);
  for (const format of formats) {
    try {
      for (const file of await ciOutputFiles(format, fromFile, outDir)) {
        const path = join(outDir, file.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, file.text);
        written.push(path);
      }
    } catch (error) {
      const { kind, file } = CI_FORMATS[format];
      onError(kind === 'files' ? `${file}/` : file, error as Error);
    }
  }
  return written;
}
