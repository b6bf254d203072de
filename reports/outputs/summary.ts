import { escapeCell } from '../../core/markdown.ts';
import { redactSecrets } from '../../core/secrets.ts';
import type { ResultFile } from '../../result/schema.ts';
import { answersTable, summaryTable } from '../markdown.ts';
import { verdictLines } from '../phrases.ts';
import { suiteDescription, suiteMatrix } from '../suite.ts';

/**
 * GitHub takes at most 1 MiB per step into `$GITHUB_STEP_SUMMARY` and drops the rest with an
 * error; a summary also has to stay readable. Well under that: a result with too many runs keeps
 * its first ones in every section and says how many more report.md has, never a table cut in two.
 */
export const SUMMARY_MAX_BYTES = 64 * 1024;

/** The answers table is one row per strategy; past this many it would crowd out the runs' table. */
const MAX_ANSWER_ROWS = 20;

const moreLine = (n: number) => `… ${n} more run${n === 1 ? '' : 's'} in report.md`;

function summaryWith(result: ResultFile, shown: number): string {
  const hidden = result.runs.length - shown;
  const runs = result.runs.slice(0, shown);
  // The headline counts every run; the sections list the runs shown.
  const all = verdictLines(result);
  const { reasons, thresholds } = verdictLines({ ...result, runs });
  const name = typeof result.scenario.name === 'string' ? result.scenario.name.slice(0, 200) : 'scenario';
  const strategies = suiteMatrix(result).strategies.length;
  // Each strategy's answer is over all its runs: shown whole, or pointed at when a suite has too many strategies to fit.
  const answers = strategies <= MAX_ANSWER_ROWS ? answersTable(result) : [`Each of the ${strategies} strategies' answers: in report.md.`, ''];
  const out = [`## tokenbench: ${escapeCell(name)}`, '', suiteDescription(result), '', `**verdict: ${all.headline}**`, '', ...answers];
  if (result.interrupted) out.push('> **Interrupted**: this result is partial (the run was stopped before the end).', '');
  const section = (title: string, lines: readonly string[], of: number) => {
    if (of === 0) return;
    out.push(`${title}:`, '', ...lines.map((line) => `- ${line}`));
    if (lines.length < of) out.push(`- ${moreLine(hidden)}`);
    out.push('');
  };
  section('Why', reasons, all.reasons.length);
  if (result.runs.length > 0) {
    out.push(...summaryTable(runs));
    if (hidden > 0) out.push('', moreLine(hidden));
    out.push('');
  }
  section(
    'Thresholds',
    thresholds.map((t) => t.line),
    all.thresholds.length,
  );
  return `${out.join('\n').trimEnd()}\n`;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** Markdown for `$GITHUB_STEP_SUMMARY`: the suite's verdict and why, the headline table, the thresholds; at most SUMMARY_MAX_BYTES. */
export function renderSummary(input: ResultFile): string {
  const result = redactSecrets(input);
  const total = result.runs.length;
  const full = summaryWith(result, total);
  if (bytes(full) <= SUMMARY_MAX_BYTES) return full;
  // More runs shown is never shorter: the most that fit, by bisection.
  let fits = 0;
  let tooMany = total;
  while (tooMany - fits > 1) {
    const mid = Math.floor((fits + tooMany) / 2);
    if (bytes(summaryWith(result, mid)) <= SUMMARY_MAX_BYTES) fits = mid;
    else tooMany = mid;
  }
  return summaryWith(result, fits);
}
