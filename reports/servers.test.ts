import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { renderMarkdown } from './markdown.ts';
import { serverCellText, serverComparison } from './servers.ts';

const suite = loadResult(fileURLToPath(new URL('./fixtures/default-suite.json', import.meta.url)));

/** The fixture's runs as Redis, and a copy as Valkey whose failovers came `laterMs` later and whose entries are `bytesRatio` the size. */
function onTwoServers(laterMs: number, bytesRatio: number): ResultFile {
  const result = structuredClone(suite);
  const redis = suite.runs.map((run) => ({ ...structuredClone(run), label: `${run.label} · redis 7.0.15`, server: { name: 'redis', version: '7.0.15' } }));
  const valkey = suite.runs.map((run) => {
    const copy = structuredClone(run);
    copy.label = `${run.label} · valkey 8.0.1`;
    copy.server = { name: 'valkey', version: '8.0.1' };
    const faultAt = copy.faults[0]?.atMs;
    if (faultAt !== undefined) for (const e of copy.events) if (e.atMs >= faultAt) e.atMs += laterMs;
    if (copy.redis.bytesPerEntry !== null) copy.redis.bytesPerEntry *= bytesRatio;
    return copy;
  });
  result.runs = [...redis, ...valkey];
  return result;
}

describe('servers side by side', () => {
  it('says nothing for a single server', () => {
    expect(serverComparison(suite)).toBeUndefined();
    expect(renderMarkdown(suite)).not.toContain('## Servers side by side');
  });

  it('puts each strategy and topology on both servers in one row, the values from each run', () => {
    const result = onTwoServers(0, 1);
    const comparison = serverComparison(result)!;
    expect(comparison.servers).toEqual(['redis 7.0.15', 'valkey 8.0.1']);
    expect(comparison.rows).toHaveLength(12);
    const row = comparison.rows.find((r) => r.strategy === 'blacklist' && r.topology === 'sentinel')!;
    const run = suite.runs.find((r) => r.label === 'blacklist' && r.topology.kind === 'sentinel')!;
    expect(row.figures.lost.values).toEqual([0, 0]);
    expect(row.figures.bytesPerEntry.values).toEqual([run.redis.bytesPerEntry, run.redis.bytesPerEntry]);
    // Identical runs: nothing beyond noise.
    for (const r of comparison.rows) for (const cell of Object.values(r.figures)) expect(cell.beyondNoise).not.toBe(true);
  });

  it('marks a failover 3 s later and entries 20% larger as beyond noise, and not a spread within the strategies’ own', () => {
    const comparison = serverComparison(onTwoServers(3000, 1.2))!;
    const sentinel = comparison.rows.filter((r) => r.topology === 'sentinel');
    for (const row of sentinel) expect(row.figures.failover.beyondNoise).toBe(true);
    const blacklist = sentinel.find((r) => r.strategy === 'blacklist')!;
    expect(blacklist.figures.bytesPerEntry.beyondNoise).toBe(true);
    expect(serverCellText('failover', blacklist.figures.failover)).toMatch(/^\+\d\.\d\d s \/ \+\d\.\d\d s$/);
    expect(comparison.rows.filter((r) => r.topology === 'single').every((r) => r.figures.failover.beyondNoise === null)).toBe(true);
    // 50 ms later is inside the spread of failover times over the four strategies on one server.
    const small = serverComparison(onTwoServers(50, 1.01))!;
    for (const row of small.rows.filter((r) => r.topology === 'sentinel')) expect(row.figures.failover.beyondNoise).toBe(false);
    expect(small.rows.find((r) => r.strategy === 'blacklist' && r.topology === 'sentinel')!.figures.bytesPerEntry.beyondNoise).toBe(false);
  });

  it('is a section of the Markdown report, with what is beyond noise in bold', () => {
    const md = renderMarkdown(onTwoServers(3000, 1.2));
    expect(md).toContain('## Servers side by side: redis 7.0.15 / valkey 8.0.1');
    expect(md).toMatch(/\| blacklist \| sentinel \| \*\*\+\d\.\d\d s \/ \+\d\.\d\d s\*\* \(beyond noise\) \|/);
  });
});
