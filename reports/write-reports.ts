import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResult, type ResultFile } from '../result/schema.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';

/** report.md and report.html beside result.json; a renderer failing never loses the result. Returns the paths written. */
export function writeReports(result: ResultFile, outDir: string, onError: (file: string, error: Error) => void = () => {}): string[] {
  const written: string[] = [];
  // Rendered from the file's own content, so `tokenbench report result.json` gives the same bytes.
  const fromFile = parseResult(JSON.parse(JSON.stringify(result)), join(outDir, 'result.json'));
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
