import type { ResultFile } from '../result/schema.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { renderSummary } from './outputs/summary.ts';

/** What each example under docs/examples/ holds beside its result.json, rendered from it alone. */
export const EXAMPLE_FILES: Record<string, (result: ResultFile) => string> = {
  'report.md': renderMarkdown,
  'report.html': renderHtml,
  'summary.md': renderSummary,
};
