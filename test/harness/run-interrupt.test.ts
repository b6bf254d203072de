import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../harness/run-scenario.ts';
import type { ScenarioInput } from '../../harness/scenario.ts';
import type { ResultFile } from '../../result/schema.ts';
import { serversOwnedBy } from '../cli/helpers.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-run-interrupt-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SCENARIO: ScenarioInput = { strategies: ['blacklist'], workload: { users: 100 }, load: { rate: 200, warmup: '200ms', duration: '1s' } };
const onDisk = (dir: string) => JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as ResultFile;

describe('runScenario interrupted', () => {
  it('during the first topology start: returns (does not throw) a result with no runs, marked interrupted, also on disk', async () => {
    const outDir = join(scratch, 'at-start');
    const abort = new AbortController();
    const result = await runScenario(SCENARIO, {
      outDir,
      signal: abort.signal,
      onStage: ({ stage }) => stage.startsWith('starting') && abort.abort(),
    });
    expect(result).toMatchObject({ interrupted: true, runs: [] });
    expect(onDisk(outDir)).toMatchObject({ interrupted: true, runs: [] });
    expect(serversOwnedBy(process.pid)).toEqual([]);
  });

  it('a failure of its own that coincides with the abort is thrown, not taken for the interrupt', async () => {
    const outDir = join(scratch, 'coinciding-failure');
    const abort = new AbortController();
    const run = runScenario(SCENARIO, {
      outDir,
      signal: abort.signal,
      onStage: ({ stage }) => {
        if (!stage.startsWith('logging in')) return;
        abort.abort();
        throw new Error('the progress display broke');
      },
    });
    await expect(run).rejects.toThrow('the progress display broke');
    // What there was is still written, and says it was interrupted; the topology is gone.
    expect(onDisk(outDir)).toMatchObject({ interrupted: true, runs: [] });
    expect(serversOwnedBy(process.pid)).toEqual([]);
  });
});
