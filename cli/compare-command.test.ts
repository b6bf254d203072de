import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError, ResultFileError } from '../core/errors.ts';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { commandHarness } from '../test/support/command-harness.ts';
import { COMPARE_HELP, compareCommand } from './compare-command.ts';
import { UsageError } from './usage-error.ts';

const SENTINEL = new URL('../reports/fixtures/sentinel-kill.json', import.meta.url).pathname;
const SINGLE = new URL('../reports/fixtures/single-quick.json', import.meta.url).pathname;
const single = loadResult(SINGLE);
const copy = (result: ResultFile): ResultFile => structuredClone(result);

describe('compareCommand', () => {
  const { dir, write, run, remove } = commandHarness('tokenbench-compare-', compareCommand);
  afterAll(remove);
  afterEach(() => vi.restoreAllMocks());
  const slower = copy(single);
  slower.runs[1]!.latency.verify!.all.p99 *= 1.5;

  it('exit 0 when no threshold is crossed', async () => {
    const r = await run([SINGLE, write('same.json', single)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('no threshold crossed');
  });

  it('exit 1 when one is, with a line saying which', async () => {
    const r = await run([SINGLE, write('slower.json', slower)]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('regression: blacklist (single) verify p99: 3.75 -> 5.62 ms (+50.0%, limit +10%)');
  });

  it('--max-regression replaces the default limits; --markdown prints a table', async () => {
    expect((await run([SINGLE, join(dir, 'slower.json'), '--max-regression', 'p99=60%'])).code).toBe(0);
    const md = await run([SINGLE, join(dir, 'slower.json'), '--markdown']);
    expect(md.code).toBe(1);
    expect(md.out).toContain('|---|---|--:|');
  });

  it('--help prints usage with examples', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(COMPARE_HELP);
    expect(COMPARE_HELP).toMatch(/^Usage: tokenbench compare/);
    expect(COMPARE_HELP).toContain('Examples:');
  });

  it('a file that does not load is a usage error (exit 2) naming the file and the field', async () => {
    const truncated = write('truncated.json', readFileSync(SINGLE, 'utf8').slice(0, 5000));
    await expect(run([SINGLE, truncated])).rejects.toThrow(ResultFileError);
    await expect(run([SINGLE, truncated])).rejects.toThrow(`${truncated}: not valid JSON (truncated or hand-edited?)`);

    const newer = write('newer.json', { ...copy(single), schemaVersion: 99 });
    await expect(run([newer, SINGLE])).rejects.toThrow(`${newer}: written by a newer tokenbench (schemaVersion 99)`);

    const noHistogram = copy(single) as { runs: { latency: Record<string, { histogram?: string }> }[] };
    delete noHistogram.runs[0]!.latency.verify!.histogram;
    const missing = write('no-histogram.json', noHistogram);
    await expect(run([SINGLE, missing])).rejects.toThrow(new ResultFileError(`${missing}: field runs[0].latency.verify.histogram is missing`));

    await expect(run([SINGLE, join(dir, 'nope.json')])).rejects.toThrow(`${join(dir, 'nope.json')}: cannot read (ENOENT)`);
  });

  it('different scenarios and no run in common are usage errors', async () => {
    await expect(run([SINGLE, SENTINEL])).rejects.toThrow(UsageError);
    await expect(run([SINGLE, SENTINEL])).rejects.toThrow(`compare: scenario differs between ${SINGLE} and ${SENTINEL}: topology.kind single vs sentinel`);
    const renamed = copy(single);
    for (const r of renamed.runs) r.label = `${r.label}-v2`;
    await expect(run([SINGLE, write('renamed.json', renamed)])).rejects.toThrow(/^compare: no run in common/);
  });

  it('wrong arguments are usage errors', async () => {
    await expect(run([SINGLE])).rejects.toThrow(
      new UsageError('compare: expected two result files, <baseline.json> <current.json>, got 1 (see: tokenbench compare --help)'),
    );
    await expect(run([SINGLE, SINGLE, '--max-regression', 'p98=5%'])).rejects.toThrow(InvalidOptionError);
    await expect(run([SINGLE, SINGLE, '--nope'])).rejects.toThrow(UsageError);
  });
});
