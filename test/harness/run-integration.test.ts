import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeHistories } from '../../harness/history-file.ts';
import { runStrategy } from '../../harness/runner.ts';
import { normalizeScenario } from '../../harness/scenario.ts';

const out = mkdtempSync(join(tmpdir(), 'tokenbench-harness-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const ctx = (index: number) => ({ outDir: out, index, signal: new AbortController().signal });

describe('a run under a fault (sentinel, kill -9 of the primary)', () => {
  it('sees the outage: degraded verdicts inside an unavailability window, then recovery', async () => {
    const scenario = normalizeScenario({
      topology: { kind: 'sentinel' },
      strategies: ['blacklist'],
      workload: { users: 500 },
      load: { rate: 300, warmup: '500ms', duration: '9s' },
      faults: [{ at: '2s', action: 'kill', target: 'primary' }],
    });
    const run = await runStrategy(scenario, 0, ctx(0));
    expect(run.faults).toMatchObject([{ action: 'kill', target: 'primary', node: 'redis-0' }]);
    expect(run.events.some((e) => e.type === '+switch-master')).toBe(true);
    const unavailability = run.checks.unavailability!;
    // down-after-milliseconds is 1000: the window cannot be shorter; it must end before the run does.
    expect(unavailability.figures!.longestWindowMs).toBeGreaterThan(900);
    expect(unavailability.figures!.longestWindowMs).toBeLessThan(7000);
    const [kill] = unavailability.perFault!;
    expect(kill!.detectMs).not.toBeNull();
    expect(kill!.recoverMs).not.toBeNull();
    expect(run.timeline.reduce((a, b) => a + b.degraded, 0)).toBeGreaterThan(0);
    expect(run.checks['valid-rejected']!.counts.storeUnavailable).toBeGreaterThan(0);
    expect(run.latency.verify!.byPhase.fault!.count).toBeGreaterThan(0);
    expect(run.reconciledTokens).toBeGreaterThan(0);
    // Every verify counted once: history and histograms agree.
    expect(run.latency.verify!.all.count).toBe(run.timeline.reduce((a, b) => a + b.verifies, 0));
  });
});

describe('two load generator threads', () => {
  it('split the rate and users, merge histograms and check the merged history', async () => {
    const scenario = normalizeScenario({
      strategies: ['whitelist'],
      workload: { users: 400 },
      load: { rate: 600, warmup: '300ms', duration: '2s', workers: 2 },
    });
    const run = await runStrategy(scenario, 0, ctx(1));
    expect(run.load.workers).toBe(2);
    expect(run.historyFiles).toHaveLength(2);
    for (const file of run.historyFiles) expect(existsSync(file)).toBe(true);
    // 600/s for 2 s, from both threads together.
    expect(run.load.completedOps).toBeGreaterThan(1000);
    expect(run.load.completedOps).toBeLessThan(1400);
    expect(run.checks['revoked-accepted']!.counts.violations).toBe(0);
    expect(run.checks['valid-rejected']!.counts.entryLost).toBe(0);
    expect(run.redis.roundTripsPerVerify).toBe(1);

    // Service time travelled from both threads: each verify's completeMs - invokeMs, counted again from the history.
    const verify = run.latency.verify!;
    const service = verify.serviceTime!;
    expect(service.all.p50).toBeLessThanOrEqual(verify.all.p50);
    expect(service.all.p99).toBeLessThanOrEqual(verify.all.p99);
    const byHandUs: number[] = [];
    for await (const op of mergeHistories(run.historyFiles)) {
      if (op.f === 'verify' && op.phase !== 'warmup' && op.phase !== 'final') byHandUs.push(Math.max(1, Math.round((op.completeMs - op.invokeMs) * 1000)));
    }
    byHandUs.sort((a, b) => a - b);
    expect(service.all.count).toBe(byHandUs.length);
    expect(service.all.count).toBe(verify.all.count);
    const nearestRankMs = (p: number) => byHandUs[Math.max(1, Math.ceil((p / 100) * byHandUs.length)) - 1]! / 1000;
    // Equal to within the histogram's resolution (3 significant digits) and the history's rounding of each time to 1 ns.
    for (const [p, figure] of [
      [50, service.all.p50],
      [99, service.all.p99],
      [100, service.all.max],
    ] as const) {
      const expected = nearestRankMs(p);
      expect(Math.abs(figure - expected), `p${p}: ${figure} vs ${expected} by hand`).toBeLessThanOrEqual(Math.max(0.001, expected / 1000) + 1e-9);
    }
  });
});
