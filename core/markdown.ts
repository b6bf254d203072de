/** GitHub-flavoured Markdown tables, built in one place so every cell is escaped the same way. */

export type Align = 'left' | 'right';

/** A cell's text: a pipe or a line break from a label in a result file must not break the table. */
export function escapeCell(text: string | number): string {
  return String(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Header, rule and rows as lines; `align` per column (default left). Cells are escaped unless `raw`. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  options: { align?: readonly Align[]; raw?: boolean } = {},
): string[] {
  const text = options.raw ? String : escapeCell;
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(text).join(' | ')} |`;
  const rule = header.map((_, i) => (options.align?.[i] === 'right' ? '--:' : '---'));
  return [line(header), `|${rule.join('|')}|`, ...rows.map(line)];
}
