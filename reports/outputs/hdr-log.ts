import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import hdr from 'hdr-histogram-js';
import { TokenbenchError } from '../../core/errors.ts';
import { redactUrls } from '../../core/secrets.ts';
import { mergeHistories } from '../../harness/history-file.ts';
import { OP_FUNCTIONS, type OpFunction } from '../../result/checks.ts';
import { type Histogram, newHistogram } from '../../result/histogram.ts';
import type { ResultFile, StrategyRunResult } from '../../result/schema.ts';
import { ciRunNames, labelSlug } from './run-names.ts';

/**
 * HdrHistogram interval logs (the format of HdrHistogram's HistogramLogWriter, read by
 * HistogramLogReader, HistogramLogAnalyzer, hdr-plot...), one per run: per second of the measured
 * phase and per op type (`Tag=verify`), the histogram of the corrected latency (completion minus
 * intended start, in microseconds, the settings of the result's own histograms). An op goes into
 * the second it completed in, as HdrHistogram's recorders do; warm-up and final reconciliation
 * ops are left out and so are verifier probes, as in the result's histograms, so each tag's counts
 * add up to the result's `latency[op].all.count`. The result holds no histogram per second, so
 * the logs are built from the run's history files.
 */

const INTERVAL_MS = 1000;

/** A run's history file is not where result.json's directory says it is (a result copied without them). */
export class HistoryFileMissingError extends TokenbenchError {
  readonly file: string;
  constructor(file: string, run: string, resultDir: string) {
    super(
      'ERR_HISTORY_FILE',
      `${file}: history file of run '${run}' not found (nor beside result.json in ${resultDir}); hdr-log needs the run's history files next to its result.json`,
    );
    this.file = file;
  }
}

/** A file one CI output writes, its path relative to where the output goes. */
export interface CiOutputFile {
  path: string;
  text: string;
}

/** Where a run's history file is: as recorded (against the result's directory when relative), else beside result.json (a result directory moved or copied whole). */
function historyPath(file: string, run: string, resultDir: string): string {
  const recorded = isAbsolute(file) ? file : resolve(resultDir, file);
  if (existsSync(recorded)) return recorded;
  const beside = join(resultDir, basename(file));
  if (existsSync(beside)) return beside;
  throw new HistoryFileMissingError(file, run, resultDir);
}

const measured = (op: { phase: string; probe?: boolean }) => op.phase !== 'warmup' && op.phase !== 'final' && op.probe !== true;

async function runLog(result: ResultFile, run: StrategyRunResult, name: string, resultDir: string): Promise<string> {
  const files = run.historyFiles.map((file) => historyPath(file, name, resultDir));
  // Every op type the result has a histogram of gets a line each second, an empty one included: a second without a completion shows as one.
  const tags = OP_FUNCTIONS.filter((op) => run.latency[op] !== undefined);
  const histograms = new Map<OpFunction, Histogram>();
  for (const tag of tags) histograms.set(tag, newHistogram());
  // The shards of one run know when their measured phase began, all at once: their logs line up.
  const sharedStart = run.shard?.startAt ?? result.mergedFrom?.shards?.startAt;
  const created = Date.parse(sharedStart ?? result.createdAt);
  const startMs = Number.isFinite(created) ? created : 0;
  const lines: string[] = [];
  const writer = new hdr.HistogramLogWriter((text: string) => lines.push(text));
  writer.outputComment(
    `[tokenbench ${result.tokenbenchVersion}: ${redactUrls(name).replace(/\s+/g, ' ')}; corrected latency (completion - intended start) in microseconds, one interval a second by completion, measured phase only; Interval_Max in ms]`,
  );
  writer.outputComment(
    sharedStart
      ? "[Timestamps are seconds from the start of the run's measured phase; StartTime and BaseTime are that start, the shared --start-at of the run's shards]"
      : "[Timestamps are seconds from the start of the run's measured phase; StartTime and BaseTime are when the result was created (before the run: the result holds no wall-clock start per run)]",
  );
  writer.outputLogFormatVersion();
  writer.outputComment(`[StartTime: ${(startMs / 1000).toFixed(3)} (seconds since epoch), ${new Date(startMs).toUTCString()}]`);
  writer.outputComment(`[BaseTime: ${(startMs / 1000).toFixed(3)} (seconds since epoch)]`);
  writer.outputLegend();
  let interval = 0;
  const flushUpTo = (next: number) => {
    for (; interval < next; interval++) {
      for (const tag of tags) {
        const h = histograms.get(tag)!;
        // After each reset: reset() clears the tag too.
        h.tag = tag;
        writer.outputIntervalHistogram(h, interval, interval + 1, 1000);
        h.reset();
      }
    }
  };
  let any = false;
  for await (const op of mergeHistories(files)) {
    if (!measured(op)) continue;
    const h = histograms.get(op.f);
    if (!h) continue;
    any = true;
    // Completion order: once an op completes in a later second, every earlier one is complete.
    flushUpTo(Math.max(0, Math.floor(op.completeMs / INTERVAL_MS)));
    h.recordValue(Math.max(1, Math.round((op.completeMs - op.intendedMs) * 1000)));
  }
  if (any) flushUpTo(interval + 1);
  return lines.join('');
}

/** One interval log per run, `<run index>-<label slug>.hlog`, from the history files next to result.json in `resultDir`. */
export async function renderHdrLogs(result: ResultFile, resultDir: string): Promise<CiOutputFile[]> {
  const names = ciRunNames(result.runs);
  const files: CiOutputFile[] = [];
  for (const [i, run] of result.runs.entries()) {
    files.push({ path: `${i}-${labelSlug(run.label)}.hlog`, text: await runLog(result, run, names[i]!, resultDir) });
  }
  return files;
}
