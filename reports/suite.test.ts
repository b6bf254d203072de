import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadResult } from '../result/schema.ts';
import { panelTitle, strategyColours, strategyName, suiteDescription, suiteMatrix, suitePanels, topologyName } from './suite.ts';

const suite = loadResult(fileURLToPath(new URL('./fixtures/default-suite.json', import.meta.url)));

describe('a result as a suite', () => {
  it('describes the whole matrix, not the first run', () => {
    expect(suiteMatrix(suite)).toEqual({
      strategies: ['pure', 'blacklist', 'whitelist', 'double-token'],
      topologies: ['single', 'sentinel', 'cluster'],
      faults: ['no fault', 'kill primary'],
      servers: ['redis 7.0.15'],
      runs: 12,
    });
    expect(suiteDescription(suite)).toBe(
      '4 strategies × 3 topologies (single, sentinel, cluster) × 2 fault schedules (no fault; kill primary) × 1 server (redis 7.0.15) = 12 runs · open loop at 500 ops/s · 6.00 s measured after 1.00 s warm-up',
    );
  });

  it('groups the runs into one panel per topology entry and fault schedule, in run order', () => {
    const panels = suitePanels(suite);
    const matrix = suiteMatrix(suite);
    expect(panels.map((p) => panelTitle(p, matrix))).toEqual([
      'single · no fault',
      'sentinel · kill primary (redis-0) at 2.00 s',
      'cluster · kill primary (redis-0) at 2.00 s',
    ]);
    expect(panels.map((p) => p.hasFault)).toEqual([false, true, true]);
    expect(panels.flatMap((p) => p.runs)).toEqual(suite.runs);
  });

  it('gives a strategy the same colour on every topology, and different strategies different colours', () => {
    const colourOf = strategyColours(suite.runs);
    const byStrategy = new Map<string, Set<string>>();
    for (const run of suite.runs) byStrategy.set(strategyName(run), (byStrategy.get(strategyName(run)) ?? new Set()).add(colourOf(run)));
    expect([...byStrategy.values()].every((colours) => colours.size === 1)).toBe(true);
    expect(new Set([...byStrategy.values()].map((c) => [...c][0])).size).toBe(byStrategy.size);
  });

  it('takes a labelled matrix entry apart from the strategy it ran', () => {
    const run = structuredClone(suite.runs[5]!);
    run.label = 'blacklist · failoverDetector on';
    run.topology.label = 'failoverDetector on';
    expect(strategyName(run)).toBe('blacklist');
    expect(topologyName(run)).toBe('sentinel · failoverDetector on');
    const other = { ...suite, runs: [suite.runs[5]!, run] };
    expect(suitePanels(other).map((p) => p.topology)).toEqual(['sentinel', 'sentinel · failoverDetector on']);
    expect(strategyColours(other.runs)(run)).toBe(strategyColours(other.runs)(suite.runs[5]!));
  });
});

describe('a suite on two servers', () => {
  it('keeps one strategy across servers, and gives each server its panels', () => {
    const twoServers = structuredClone(suite);
    const valkeyRuns = structuredClone(suite.runs).map((run) => ({
      ...run,
      label: `${run.label} · valkey 8.0.1`,
      server: { name: 'valkey', version: '8.0.1' },
    }));
    twoServers.runs = [
      ...suite.runs.map((run) => ({ ...run, label: `${run.label} · redis 7.0.15`, server: { name: 'redis', version: '7.0.15' } })),
      ...valkeyRuns,
    ];
    const matrix = suiteMatrix(twoServers);
    expect(matrix.strategies).toEqual(['pure', 'blacklist', 'whitelist', 'double-token']);
    expect(matrix.servers).toEqual(['redis 7.0.15', 'valkey 8.0.1']);
    expect(suitePanels(twoServers).map((p) => panelTitle(p, matrix))).toContain('sentinel · kill primary (redis-0) at 2.00 s · valkey 8.0.1');
    const colourOf = strategyColours(twoServers.runs);
    expect(colourOf(twoServers.runs[5]!)).toBe(colourOf(valkeyRuns[5]!));
  });
});
