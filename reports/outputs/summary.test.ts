import { describe, expect, it } from 'vitest';
import { findingsResult, manyRunsResult } from '../../test/support/ci-results.ts';
import { answersTable, summaryTable } from '../markdown.ts';
import { verdictLines } from '../phrases.ts';
import { suiteDescription } from '../suite.ts';
import { renderSummary, SUMMARY_MAX_BYTES } from './summary.ts';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
/** The rows (not header, not rule) of the runs' table: the one whose header names the topology. */
const tableRows = (text: string) => {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith('| strategy | topology |'));
  if (start === -1) return [];
  const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
  return lines.slice(start + 2, end === -1 ? undefined : end);
};

describe('renderSummary', () => {
  it('the verdict and why, the headline table, the thresholds', () => {
    const result = findingsResult();
    const text = renderSummary(result);
    const { headline, reasons, thresholds } = verdictLines(result);
    expect(text.startsWith(`## tokenbench: scenario\n\n${suiteDescription(result)}\n\n**verdict: ${headline}**\n`)).toBe(true);
    expect(text).toContain(answersTable(result).join('\n'));
    for (const reason of reasons) expect(text).toContain(`- ${reason}\n`);
    expect(text).toContain(summaryTable(result.runs).join('\n'));
    for (const t of thresholds) expect(text).toContain(`- ${t.line}`);
    expect(text).not.toContain('more run');
  });

  it(`a result of many runs stays within ${SUMMARY_MAX_BYTES / 1024} KiB (GitHub takes 1 MiB a step): whole rows dropped, the count of the rest said`, () => {
    const result = manyRunsResult(1000);
    const text = renderSummary(result);
    expect(bytes(text)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
    // Far from empty: the budget is used.
    expect(bytes(text)).toBeGreaterThan(SUMMARY_MAX_BYTES * 0.9);
    const rows = tableRows(text);
    const shown = rows.length;
    expect(shown).toBeGreaterThan(10);
    expect(shown).toBeLessThan(1000);
    // Never a table cut in two: header, rule, then exactly the first `shown` runs' rows, whole.
    expect(text).toContain(summaryTable(result.runs.slice(0, shown)).join('\n'));
    const columns = summaryTable(result.runs.slice(0, 1))[0]!.split(' | ').length;
    for (const row of rows) expect(row.split(' | ').length).toBe(columns);
    expect(text).toContain(`\n… ${1000 - shown} more runs in report.md\n`);
    // The headline still counts every run.
    expect(text).toContain(`**verdict: ${verdictLines(result).headline}**`);
    expect(verdictLines(result).headline).toContain('1000 of 1000 runs');
  });

  it('a result without runs says so and has no table', () => {
    const result = findingsResult();
    result.runs = [];
    result.verdict = { valid: 'unknown', runs: { valid: 0, invalid: 0, unknown: 0 }, thresholdsBroken: 0, reasons: [] };
    const text = renderSummary(result);
    expect(text).toContain('**verdict: unknown: no run completed**');
    expect(tableRows(text)).toEqual([]);
  });
});
