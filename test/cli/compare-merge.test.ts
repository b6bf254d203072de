import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResult, parseResult, type ResultFile } from '../../result/schema.ts';
import { tokenbench } from './helpers.ts';

const SINGLE = new URL('../../reports/fixtures/single-quick.json', import.meta.url).pathname;
const SENTINEL = new URL('../../reports/fixtures/sentinel-kill.json', import.meta.url).pathname;

const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-compare-merge-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function write(name: string, data: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data));
  return path;
}

function expectOneLineUsageError(r: { exitCode: number | undefined; stderr: string }, message: string): void {
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('tokenbench compare', () => {
  it.each([[['compare', '--help']], [['merge', '--help']]])('%j prints help with examples and exits 0', async (args) => {
    const r = await tokenbench(args);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tokenbench (compare|merge)/);
    expect(r.stdout).toContain('Examples:');
  });

  it('exit 0 for a result against itself', async () => {
    const r = await tokenbench(['compare', SINGLE, SINGLE]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('no threshold crossed');
  });

  it('exit 1 with a line per crossed threshold; --markdown prints a GitHub table', async () => {
    const slower = structuredClone(loadResult(SENTINEL)) as ResultFile;
    slower.runs[0]!.latency.verify!.all.p99 *= 1.5;
    slower.runs[1]!.load.achievedRate = 400;
    const current = write('slower.json', slower);
    const r = await tokenbench(['compare', SENTINEL, current]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('regression: blacklist (sentinel) verify p99');
    expect(r.stdout).toContain('regression: whitelist (sentinel) throughput: 500 -> 400 ops/s (-20.0%, limit -5%)');
    const md = await tokenbench(['compare', SENTINEL, current, '--markdown', '--max-regression', 'p99=60%,throughput=25%']);
    expect(md.exitCode).toBe(0);
    expect(md.stdout).toMatch(/^### tokenbench compare: ok/);
    expect(md.stdout).toContain('|---|---|--:|--:|--:|--:|---|---|---|');
  });

  it('--json: the comparison with its regressions listed, the same exit codes', async () => {
    const slower = structuredClone(loadResult(SENTINEL)) as ResultFile;
    slower.runs[1]!.load.achievedRate = 400;
    const current = write('slower-json.json', slower);
    const r = await tokenbench(['compare', SENTINEL, current, '--json']);
    expect(r.exitCode).toBe(1);
    const comparison = JSON.parse(r.stdout) as {
      baseline: string;
      rows: { run: string; metric: string }[];
      regressions: { run: string; metric: string; baseline: number; current: number }[];
    };
    expect(comparison.baseline).toBe(SENTINEL);
    expect(comparison.rows.length).toBeGreaterThan(comparison.regressions.length);
    expect(comparison.regressions).toEqual([expect.objectContaining({ run: 'whitelist (sentinel)', metric: 'throughput', baseline: 500, current: 400 })]);
    const same = await tokenbench(['compare', SENTINEL, SENTINEL, '--json']);
    expect(same.exitCode).toBe(0);
    expect((JSON.parse(same.stdout) as { regressions: unknown[] }).regressions).toEqual([]);
    expectOneLineUsageError(await tokenbench(['compare', SENTINEL, SENTINEL, '--json', '--markdown']), 'compare: --json and --markdown: choose one');
  });

  it.each([
    ['a truncated file', () => write('truncated.json', readFileSync(SINGLE, 'utf8').slice(0, 3000)), 'not valid JSON (truncated or hand-edited?)'],
    ['a newer schemaVersion', () => write('newer.json', { ...loadResult(SINGLE), schemaVersion: 99 }), 'written by a newer tokenbench (schemaVersion 99)'],
    [
      'a missing histogram',
      () => {
        const data = JSON.parse(readFileSync(SINGLE, 'utf8')) as { runs: { latency: { verify: { histogram?: string } } }[] };
        delete data.runs[0]!.latency.verify.histogram;
        return write('no-histogram.json', data);
      },
      'field runs[0].latency.verify.histogram is missing',
    ],
  ])('%s: one line naming the file and the field, exit 2 (compare and merge)', async (_name, make, message) => {
    const bad = make();
    expectOneLineUsageError(await tokenbench(['compare', SINGLE, bad]), `tokenbench: ${bad}: ${message}`);
    expectOneLineUsageError(await tokenbench(['merge', SINGLE, bad]), `tokenbench: ${bad}: ${message}`);
  });

  it('different scenarios: exit 2 naming the differing field', async () => {
    const faster = loadResult(SINGLE) as ResultFile & { scenario: { load: { rate: number } } };
    faster.scenario.load.rate = 2000;
    const path = write('faster.json', faster);
    expectOneLineUsageError(await tokenbench(['compare', SINGLE, path]), `compare: scenario differs between ${SINGLE} and ${path}: load.rate 500 vs 2000`);
    expectOneLineUsageError(await tokenbench(['merge', SINGLE, path]), `merge: scenario differs between ${SINGLE} and ${path}: load.rate 500 vs 2000`);
  });

  it('a bad --max-regression is a usage error', async () => {
    expectOneLineUsageError(await tokenbench(['compare', SINGLE, SINGLE, '--max-regression', 'p42=1%']), '--max-regression: expected a metric among');
  });
});

describe('tokenbench merge', () => {
  it('prints a merged result on stdout that compare and the schema accept', async () => {
    const r = await tokenbench(['merge', SENTINEL, SENTINEL]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const merged = parseResult(JSON.parse(r.stdout), 'stdout');
    expect(merged.runs.map((run) => run.load.achievedRate)).toEqual([1000, 1000]);
    const path = write('merged.json', r.stdout);
    // Twice the load is a different result, not a different scenario: compare accepts it.
    const c = await tokenbench(['compare', SENTINEL, path]);
    expect(c.exitCode).toBe(0);
  });

  it('--out writes the file', async () => {
    const out = join(scratch, 'out.json');
    const r = await tokenbench(['merge', SINGLE, SINGLE, '--out', out]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`merged 2 results (4 runs) into ${out}`);
    expect(loadResult(out).runs[0]!.load.workers).toBe(2);
  });
});
