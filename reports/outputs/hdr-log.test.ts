import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hdr from 'hdr-histogram-js';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryWriter } from '../../harness/history-file.ts';
import type { Op } from '../../result/checks.ts';
import type { ResultFile } from '../../result/schema.ts';
import { sentinelResult } from '../../test/support/ci-results.ts';
import { op } from '../../test/support/history.ts';
import { HistoryFileMissingError, renderHdrLogs } from './hdr-log.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-hdr-log-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function writeHistory(path: string, ops: Op[]): Promise<string> {
  const writer = new HistoryWriter(path);
  // A history file is in completion order.
  for (const o of [...ops].sort((a, b) => a.completeMs - b.completeMs)) writer.append(o);
  await writer.close();
  return path;
}

/** `op()` with the intended start given apart from the invocation: the corrected latency counts from it. */
const at = (f: Op['f'], intendedMs: number, completeMs: number, fields: Partial<Op> = {}) => op(f, intendedMs, completeMs, { intendedMs, ...fields });

/*
 * A small history, counted by hand. Seconds by completion: [0, 1000) is interval 0, and so on.
 * Counted: steady, fault and recovery ops of the load generators. Not counted: warm-up, the final
 * reconciliation, and a verifier instance's probes (none of them are in the result's histograms).
 */
const GENERATOR_0 = [
  at('verify', -300, -200, { phase: 'warmup' }), // not counted
  at('verify', 0, 10), // interval 0: 10 ms
  at('verify', 100, 500, { invokeMs: 400 }), // interval 0: 400 ms from the intended start, though served in 100
  at('verify', 900, 999.9), // interval 0: 99.9 ms
  at('verify', 950, 1000), // interval 1: a completion on the boundary belongs to the second it starts
  at('revoke', 1100, 1200), // interval 1
  at('verify', 1400, 1500), // interval 1
  at('issue', 2400, 2500), // interval 2, no verify completes in it
  at('verify', 3150, 3200, { phase: 'fault' }), // interval 3
  at('verify', 5000, 5010, { phase: 'final' }), // not counted
];
const GENERATOR_1 = [at('verify', 3000, 3100, { worker: 1, phase: 'recovery' })]; // interval 3
const VERIFIER = [at('verify', 1050, 1100, { worker: 1000, probe: true })]; // not counted

/** By hand from the lists above: per tag, the ops in each interval. */
const EXPECTED_COUNTS: Record<string, number[]> = {
  issue: [0, 0, 1, 0],
  verify: [3, 2, 0, 2],
  revoke: [0, 1, 0, 0],
  revokeAll: [0, 0, 0, 0],
};
/** The largest corrected latency (us) per tag and interval, by hand: verify's first second is the 400 ms op. */
const EXPECTED_VERIFY_MAX_US = [400_000, 100_000, 0, 100_000];

async function resultWithHistory(dir: string): Promise<ResultFile> {
  const result = sentinelResult();
  result.runs = [result.runs[0]!];
  result.runs[0]!.historyFiles = [
    await writeHistory(join(dir, 'history-0-blacklist-w0.ndjson'), GENERATOR_0),
    await writeHistory(join(dir, 'history-0-blacklist-w1.ndjson'), GENERATOR_1),
    await writeHistory(join(dir, 'history-0-blacklist-v0.ndjson'), VERIFIER),
  ];
  return result;
}

interface Interval {
  tag: string;
  startSec: number;
  lengthSec: number;
  count: number;
  maxUs: number;
}

/** The log as HdrHistogram's own reader sees it. */
function readLog(text: string, baseMs: number): Interval[] {
  const reader = new hdr.HistogramLogReader(text);
  const out: Interval[] = [];
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    out.push({
      tag: h.tag,
      startSec: (h.startTimeStampMsec - baseMs) / 1000,
      lengthSec: (h.endTimeStampMsec - h.startTimeStampMsec) / 1000,
      count: h.totalCount,
      maxUs: h.maxValue,
    });
  }
  return out;
}

describe('renderHdrLogs', () => {
  it("one log per run; HdrHistogram's reader reads back each second's counts, equal to a count by hand of the history", async () => {
    const dir = mkdtempSync(join(scratch, 'counts-'));
    const result = await resultWithHistory(dir);
    const [log, ...others] = await renderHdrLogs(result, dir);
    expect(others).toEqual([]);
    expect(log!.path).toBe('0-blacklist.hlog');
    const intervals = readLog(log!.text, Date.parse(result.createdAt));
    for (const [tag, counts] of Object.entries(EXPECTED_COUNTS)) {
      const mine = intervals.filter((i) => i.tag === tag);
      expect(
        mine.map((i) => i.startSec),
        tag,
      ).toEqual([0, 1, 2, 3]);
      expect(
        mine.map((i) => i.count),
        tag,
      ).toEqual(counts);
      for (const i of mine) expect(i.lengthSec).toBeCloseTo(1, 6);
    }
    // Corrected latency, microseconds, at the histogram's 3 significant digits.
    const verifyMax = intervals.filter((i) => i.tag === 'verify').map((i) => i.maxUs);
    for (const [i, max] of verifyMax.entries()) expect(Math.abs(max - EXPECTED_VERIFY_MAX_US[i]!)).toBeLessThanOrEqual(EXPECTED_VERIFY_MAX_US[i]! / 1000);
  });

  it('has the log format: comments, StartTime and BaseTime, the legend, one Tag= line per op type and second', async () => {
    const dir = mkdtempSync(join(scratch, 'format-'));
    const result = await resultWithHistory(dir);
    const [log] = await renderHdrLogs(result, dir);
    const lines = log!.text.trimEnd().split('\n');
    const seconds = (Date.parse(result.createdAt) / 1000).toFixed(3);
    expect(lines).toContain('#[Histogram log format version 1.3]');
    expect(lines.find((l) => l.startsWith('#[StartTime: '))).toMatch(new RegExp(`^#\\[StartTime: ${seconds} \\(seconds since epoch\\), .+\\]$`));
    expect(lines).toContain(`#[BaseTime: ${seconds} (seconds since epoch)]`);
    expect(lines).toContain('"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"');
    const intervals = lines.filter((l) => !l.startsWith('#') && !l.startsWith('"'));
    expect(intervals).toHaveLength(16);
    for (const line of intervals) expect(line).toMatch(/^Tag=(issue|verify|revoke|revokeAll),\d+\.000,1\.000,\d+\.\d{3},HIST[A-Za-z0-9+/=]+$/);
    expect(hdr.listTags(log!.text).sort()).toEqual(['issue', 'revoke', 'revokeAll', 'verify']);
  });

  it('finds the history beside result.json when the result directory was moved', async () => {
    const dir = mkdtempSync(join(scratch, 'moved-'));
    const result = await resultWithHistory(dir);
    result.runs[0]!.historyFiles = result.runs[0]!.historyFiles.map((f) => f.replace(dir, '/somewhere/else'));
    const [log] = await renderHdrLogs(result, dir);
    expect(readLog(log!.text, Date.parse(result.createdAt)).reduce((n, i) => n + i.count, 0)).toBe(9);
  });

  it("no password from a run's label", async () => {
    const dir = mkdtempSync(join(scratch, 'secret-'));
    const result = await resultWithHistory(dir);
    result.runs[0]!.label = 'blacklist via http://svc:Tb-s3cret@127.0.0.1:8080';
    const [log] = await renderHdrLogs(result, dir);
    expect(log!.text).not.toContain('Tb-s3cret');
    expect(log!.text).toContain('http://svc:<redacted>@127.0.0.1:8080');
  });

  it('a missing history file is one line naming it', async () => {
    const dir = mkdtempSync(join(scratch, 'missing-'));
    const result = sentinelResult();
    const error = await renderHdrLogs(result, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryFileMissingError);
    expect((error as HistoryFileMissingError).code).toBe('ERR_HISTORY_FILE');
    expect((error as Error).message).toBe(
      `history/history-0-blacklist.ndjson: history file of run 'blacklist on sentinel' not found (nor beside result.json in ${dir}); hdr-log needs the run's history files next to its result.json`,
    );
    expect((error as Error).message).not.toContain('\n');
  });
});
