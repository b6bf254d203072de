import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runStrategy } from '../../harness/runner.ts';
import { normalizeScenario } from '../../harness/scenario.ts';
import type { Op } from '../../result/checks.ts';
import type { StrategyRunResult } from '../../result/schema.ts';
import { networkFaultSupport } from '../../topologies/network/nft.ts';

const unsupported = await networkFaultSupport({});
if (unsupported) console.warn(`SKIPPED: the partition tests (${unsupported})`);

const out = mkdtempSync(join(tmpdir(), 'tokenbench-partition-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const CUT_AT_MS = 2000;
const CUT_FOR_MS = 5000;

/**
 * The acceptance of issue 16: the Sentinel primary isolated for 5 s under blacklist load, the
 * client (127.0.0.1) outside the cut, so it still reaches the old primary.
 */
async function partitionRun(index: number, client: { failoverDetector: boolean }, topology: Record<string, unknown> = {}): Promise<StrategyRunResult> {
  const scenario = normalizeScenario({
    topology: { kind: 'sentinel', ...topology },
    strategies: ['blacklist'],
    client,
    workload: { users: 1000, mix: { verify: 0.8, issue: 0.02, revoke: 0.15, revokeAll: 0.01, refresh: 0.02 } },
    // Sentinel demotes the old primary at its next INFO, about 10 s after the heal: inside the run.
    load: { rate: 300, warmup: '500ms', duration: '20s' },
    faults: [{ at: CUT_AT_MS, action: 'partition', target: 'primary', for: CUT_FOR_MS }],
  });
  mkdirSync(join(out, String(index)));
  return runStrategy(scenario, 0, { outDir: join(out, String(index)), index, signal: new AbortController().signal });
}

function history(index: number): Op[] {
  const dir = join(out, String(index));
  const file = readdirSync(dir).find((f) => f.startsWith('history-'))!;
  return readFileSync(join(dir, file), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Op);
}

const lostOf = (run: StrategyRunResult) => run.checks['lost-revocations'].lost!.total;
const portOf = (run: StrategyRunResult, id: string) => run.topology.nodes.find((n) => n.id === id)!.port;

describe.skipIf(unsupported)('a partition of the Sentinel primary (blacklist, client outside the cut)', () => {
  let withoutDetector: StrategyRunResult;

  it('without failoverDetector: the old primary acknowledges revocations until its demotion ~10 s after the heal, and they are lost', async () => {
    const run = await partitionRun(0, { failoverDetector: false });
    withoutDetector = run;
    const [fault] = run.faults;
    expect(fault).toMatchObject({ action: 'partition', node: 'redis-0', effect: 'drop' });
    expect(fault!.sides!.isolated).toEqual(['redis-0']);
    expect(fault!.sides!.from).toEqual(expect.arrayContaining(['redis-1', 'redis-2', 'sentinel-0', 'sentinel-1', 'sentinel-2']));
    expect(fault!.healedAtMs! - fault!.atMs).toBeGreaterThan(CUT_FOR_MS - 100);
    const types = run.events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['partition', '+switch-master', 'partition-healed']));
    const healed = run.events.find((e) => e.type === 'partition-healed')!;
    const demoted = run.events.find((e) => e.type === 'role-change' && e.node === 'redis-0' && e.detail === 'primary -> replica')!;
    expect(demoted).toBeDefined();
    // Sentinel reaches the old primary again at its next periodic INFO (every 10 s).
    expect(demoted.atMs - healed.atMs).toBeGreaterThan(500);
    expect(demoted.atMs - healed.atMs).toBeLessThan(13_000);
    const [figures] = run.checks.unavailability.perFault!;
    expect(figures!.demotedAfterHealMs).toBeCloseTo(demoted.atMs - healed.atMs, 0);

    const lost = run.checks['lost-revocations'].lost!;
    expect(lost.total).toBeGreaterThan(0);
    // Counted by hand from the history: the revocations the old primary acknowledged from the cut to its demotion.
    const oldPrimary = portOf(run, 'redis-0');
    const ackedByOldPrimary = history(0).filter(
      (op) =>
        (op.f === 'revoke' || op.f === 'revokeAll') &&
        op.type === 'ok' &&
        op.ackedByPort === oldPrimary &&
        op.completeMs >= fault!.atMs &&
        op.completeMs < demoted.atMs,
    ).length;
    expect(ackedByOldPrimary).toBeGreaterThan(0);
    expect(lost.total).toBeLessThanOrEqual(ackedByOldPrimary + lost.byWindow!.outside + lost.byWindow!.unknown);
    expect(lost.byNode!['redis-0']).toBe(lost.total - (lost.byNode!.unknown ?? 0));
    expect(lost.byWindow!.duringFault + lost.byWindow!.afterHealBeforeDemotion).toBeGreaterThan(0);
    expect(lost.byWindow!.afterHealBeforeDemotion).toBeGreaterThan(0);
  });

  it('with failoverDetector: the client leaves the old primary at +switch-master, so fewer are lost', async () => {
    const run = await partitionRun(1, { failoverDetector: true });
    expect(lostOf(run)).toBeLessThan(lostOf(withoutDetector));
    // Nothing it acknowledged after the heal can be lost: it had moved to the new primary by then.
    expect(run.checks['lost-revocations'].lost!.byWindow!.afterHealBeforeDemotion).toBe(0);
  });

  it('with min-replicas-to-write 1: the old primary refuses writes with NOREPLICAS, which bounds the loss', async () => {
    const run = await partitionRun(2, { failoverDetector: false }, { minReplicasToWrite: 1, minReplicasMaxLag: 2 });
    const refused = history(2).filter((op) => (op.f === 'revoke' || op.f === 'revokeAll') && op.type === 'fail' && /NOREPLICAS/.test(op.error ?? ''));
    expect(refused.length).toBeGreaterThan(0);
    expect(lostOf(run)).toBeLessThan(lostOf(withoutDetector));
  });
});
