import { describe, expect, it } from 'vitest';
import { normalizeScenario } from '../harness/scenario.ts';
import { requirements } from '../test/support/decide-fixtures.ts';
import { DEFAULT_TOPOLOGY_OPTIONS } from '../topologies/options.ts';
import { faultAtMs, formatEstimate, PAUSE_MS, pauseRunDurationMs, planFaultsNote, planLine, planRuns } from './plan.ts';
import type { RequirementsInput } from './requirements.ts';

describe('plan', () => {
  it('runs only what the requirements do not rule out by design, with a kill on HA topologies, and a capacity probe', () => {
    const plan = planRuns(requirements({ revocation: { mode: 'logout', revokeAllDevices: true }, redis: { topologies: ['single', 'sentinel'] } }), 3000);
    expect([faultAtMs(3000), faultAtMs(8000), faultAtMs(30_000)]).toEqual([900, 4000, 15_000]);
    expect(plan.scenarios.map((s) => [s.name, s.schemes])).toEqual([
      ['single', ['blacklist', 'compact-blacklist', 'whitelist', 'double-token']],
      ['sentinel', ['blacklist', 'compact-blacklist', 'whitelist', 'double-token']],
      ['capacity', ['blacklist']],
    ]);
    expect(plan.skipped).toContain("pure JWT: cannot revoke before expiry; fails 'revocation on logout'");
    expect(plan.skipped).toContain('blacklist + WAIT: not needed (redis.ackedRevocationsMayBeLost is true)');
    const sentinel = normalizeScenario(plan.scenarios[1]!.scenario);
    expect(sentinel.faults).toEqual([{ at: 900, action: 'kill', target: 'primary' }]);
    expect(sentinel.load.duration).toBe(3000);
    expect(normalizeScenario(plan.scenarios[2]!.scenario).load.mode).toBe('closed');
    // Losing a revocation is acceptable here: no hung-primary runs.
    expect(plan.scenarios.map((s) => s.fault)).toEqual(['none', 'kill', 'capacity']);
    expect(plan.runs).toBe(9);
    // single: 4 x (200 + 500 + 3000 + 2500); sentinel: 4 x (2500 + 500 + 3000 + 2500 + 7000); probe: 6200.
    expect(plan.estimateMs).toBe(4 * 6200 + 4 * 15_500 + 6200);
    expect(planLine(plan)).toBe('decide: running 8 strategy runs on single, sentinel plus a closed-loop capacity probe on single (about 1 min 33 s)');
  });

  it('a bank: only whitelist + WAIT survives the design rules, killed and hung on each; with an assumed capacity no probe', () => {
    const bank: RequirementsInput = {
      revocation: { mode: 'immediate', maxSessionsPerUser: 3, neverAcceptRevoked: true },
      redis: { ackedRevocationsMayBeLost: false, topologies: ['sentinel', 'cluster'] },
    };
    const plan = planRuns(requirements({ ...bank, assumptions: { redisOpsPerNode: 50_000 } }));
    expect(plan.scenarios.map((s) => [s.name, s.fault, s.schemes])).toEqual([
      ['sentinel', 'kill', ['whitelist-wait']],
      ['cluster', 'kill', ['whitelist-wait']],
      ['sentinel-pause', 'pause', ['whitelist-wait']],
      ['cluster-pause', 'pause', ['whitelist-wait']],
    ]);
    const entry = plan.scenarios[0]!.scenario.strategies![0];
    expect(entry).toEqual({ name: 'whitelist', label: 'whitelist + WAIT', wait: { replicas: 1, timeoutMs: 100 }, whitelist: { maxSessions: 3 } });

    // The hang outlasts failure detection plus a promotion, and the resume leaves load to write to the old primary.
    const { downAfterMs } = DEFAULT_TOPOLOGY_OPTIONS.sentinel;
    const { nodeTimeoutMs } = DEFAULT_TOPOLOGY_OPTIONS.cluster;
    expect(PAUSE_MS).toBe(3500);
    expect(PAUSE_MS).toBeGreaterThan(Math.max(downAfterMs, nodeTimeoutMs) + 2000);
    const hung = normalizeScenario(plan.scenarios[2]!.scenario);
    expect(hung.faults).toEqual([{ at: 4000, action: 'pause', target: 'primary', for: 3500 }]);
    expect(hung.load.duration).toBe(9000);
    expect(hung.load.warmup).toBe(normalizeScenario(plan.scenarios[0]!.scenario).load.warmup);
    expect(normalizeScenario(plan.scenarios[3]!.scenario).topology.kind).toBe('cluster');
    // Long enough already: a 30 s run keeps its length; a 3 s one grows to fit the hang.
    expect([pauseRunDurationMs(30_000), pauseRunDurationMs(3000)]).toEqual([30_000, 900 + 3500 + 1500]);

    // The default decide of the bank: kills 2 x (startup + 500 + 8000 + 2500 + 7000), hangs with 9000,
    // and the probe (200 + 500 + 8000 + 2500).
    const full = planRuns(requirements(bank));
    expect(full.runs).toBe(5);
    expect(full.estimateMs).toBe(20_500 + 20_300 + 21_500 + 21_300 + 11_200);
    expect(planLine(full)).toBe(
      'decide: running 4 strategy runs on sentinel, cluster (2 with the primary hung through a failover) plus a closed-loop capacity probe on single (about 1 min 35 s)',
    );
    expect(planFaultsNote(full, 8000)).toBe(
      '8 s measured each, primary killed at 4 s on Sentinel and Cluster, and, in 9 s runs, hung (paused) at 4 s for 3.5 s, then resumed, on Sentinel and Cluster',
    );
  });

  it('every scheme left on a topology is hung there, in one scenario', () => {
    const plan = planRuns(
      requirements({ revocation: { mode: 'immediate', neverAcceptRevoked: true }, redis: { ackedRevocationsMayBeLost: false, topologies: ['sentinel'] } }),
    );
    expect(plan.scenarios.filter((s) => s.fault === 'pause').map((s) => [s.name, s.schemes])).toEqual([
      ['sentinel-pause', ['blacklist-wait', 'whitelist-wait']],
    ]);
  });

  it('no early revocation: only pure, on a single node, and no capacity probe', () => {
    for (const topologies of [[], ['single', 'sentinel', 'cluster']] as const) {
      const plan = planRuns(requirements({ revocation: { mode: 'none' }, redis: { topologies: [...topologies] } }));
      expect(plan.scenarios.map((s) => [s.name, s.schemes])).toEqual([['single', ['pure']]]);
    }
    expect(planRuns(requirements({ revocation: { mode: 'none' } })).skipped).toContain('whitelist: not needed (a pure JWT meets every requirement by design)');
  });

  it('formats estimates', () => {
    expect(formatEstimate(59_100)).toBe('1 min');
    expect(formatEstimate(100_000)).toBe('1 min 40 s');
    expect(formatEstimate(4_000)).toBe('4 s');
  });
});
