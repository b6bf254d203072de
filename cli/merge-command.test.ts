import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ResultFileError } from '../core/errors.ts';
import { loadResult, parseResult, type ResultFile } from '../result/schema.ts';
import { commandHarness } from '../test/support/command-harness.ts';
import { MERGE_HELP, mergeCommand } from './merge-command.ts';
import { UsageError } from './usage-error.ts';

const SENTINEL = new URL('../reports/fixtures/sentinel-kill.json', import.meta.url).pathname;
const SINGLE = new URL('../reports/fixtures/single-quick.json', import.meta.url).pathname;
const single = loadResult(SINGLE);
const copy = (result: ResultFile): ResultFile => structuredClone(result);

describe('mergeCommand', () => {
  const { dir, write, run, remove } = commandHarness('tokenbench-merge-', mergeCommand);
  afterAll(remove);
  afterEach(() => vi.restoreAllMocks());

  it('prints the merged result as JSON that reads back as a result', async () => {
    const r = await run([SINGLE, SINGLE, SINGLE]);
    expect(r.code).toBe(0);
    const merged = parseResult(JSON.parse(r.out), 'stdout');
    expect(merged.runs.map((x) => x.load.workers)).toEqual([3, 3, 3, 3]);
    expect((JSON.parse(r.out) as { mergedFrom: { files: string[] } }).mergedFrom.files).toEqual([SINGLE, SINGLE, SINGLE]);
  });

  it('--out writes the file and says so', async () => {
    const out = join(dir, 'merged.json');
    const r = await run([SENTINEL, SENTINEL, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`merged 2 results (2 runs) into ${out}\n`);
    expect(loadResult(out).runs[0]!.load.completedOps).toBe(6000);
  });

  it('--help prints usage with examples', async () => {
    const r = await run(['-h']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(MERGE_HELP);
    expect(MERGE_HELP).toContain('Examples:');
  });

  it('unusable input is a usage error (exit 2) naming the file and the field', async () => {
    await expect(run([SINGLE])).rejects.toThrow(new UsageError('merge: expected at least two result files, got 1 (see: tokenbench merge --help)'));
    await expect(run([SINGLE, SENTINEL])).rejects.toThrow(`merge: scenario differs between ${SINGLE} and ${SENTINEL}: topology.kind single vs sentinel`);
    const truncated = write('truncated.json', readFileSync(SINGLE, 'utf8').slice(0, 1000));
    await expect(run([SINGLE, truncated])).rejects.toThrow(
      new ResultFileError(`${truncated}: not valid JSON (truncated or hand-edited?): ${errorOf(() => JSON.parse(readFileSync(truncated, 'utf8')))}`),
    );
    const newer = write('newer.json', { ...copy(single), schemaVersion: 99 });
    await expect(run([SINGLE, newer])).rejects.toThrow(`${newer}: written by a newer tokenbench (schemaVersion 99)`);
    const noHistogram = copy(single) as { runs: { latency: Record<string, { histogram?: string }> }[] };
    delete noHistogram.runs[1]!.latency.issue!.histogram;
    const missing = write('no-histogram.json', noHistogram);
    await expect(run([SINGLE, missing])).rejects.toThrow(new ResultFileError(`${missing}: field runs[1].latency.issue.histogram is missing`));
    const corrupt = copy(single);
    corrupt.runs[0]!.latency.verify!.histogram = 'AAAA';
    const bad = write('corrupt.json', corrupt);
    await expect(run([SINGLE, bad])).rejects.toThrow(`${bad}: field runs[0].latency.verify.histogram is not a valid HdrHistogram`);
  });
});

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('did not throw');
}
