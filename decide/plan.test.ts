import { describe, expect, it } from 'vitest';
import { normalizeScenario } from '../harness/scenario.ts';
import { requirements } from '../test/support/decide-fixtures.ts';
import { DEFAULT_TOPOLOGY_OPTIONS } from '../topologies/options.ts';
import {
  faultAtMs,
  formatEstimate,
  PARTITION_MS,
  PAUSE_MS,
  partitionRunDurationMs,
  pausedInsteadNote,
  pauseRunDurationMs,
  planFaultsNote,
  planLine,
  planRuns,
} from './plan.ts';
import type { RequirementsInput } from './requirements.ts';

describe('plan', () => {
  it('runs only what the requirements do not rule out by design, with a kill on HA topologies, and a capacity probe', () => {
    const plan = planRuns(requirements({ revocation: { mode: 'logout', revokeAllDevices: true }, redis: { topologies: ['single', 'sentinel'] } }), 3000);
    expect([faultAtMs(3000), faultAtMs(8000), faultAtMs(30_000)]).toEqual([900, 4000, 15_000]);
    expect(plan.scenarios.map((s) => [s.name, s.schemes])).toEqual([
      ['single', ['blacklist', 'compact-blacklist', 'whitelist', 'double-token']],
      ['single-verifiers', ['replicated-blacklist', 'cached-blacklist']],
      ['sentinel', ['blacklist', 'compact-blacklist', 'whitelist', 'double-token']],
      ['sentinel-verifiers', ['replicated-blacklist', 'cached-blacklist']],
      ['capacity', ['blacklist']],
    ]);
    // The local denylists run apart, with two more verifiers probing each revocation; the others as before.
    const fleet = plan.scenarios[3]!.scenario;
    expect(fleet.load).toEqual({ rate: 500, warmup: 500, duration: 3000, verifiers: 2 });
    expect(fleet.strategies).toEqual([
      { name: 'replicated-blacklist', label: 'replicated denylist', wait: null },
      { name: 'cached-blacklist', label: 'cached denylist', wait: null },
    ]);
    expect(fleet.faults).toEqual([{ at: 900, action: 'kill', target: 'primary' }]);
    expect(plan.scenarios[2]!.scenario.load).not.toHaveProperty('verifiers');
    expect(plan.skipped).toContain("pure JWT: cannot revoke before expiry; fails 'revocation on logout'");
    expect(plan.skipped).toContain('blacklist + WAIT: not needed (redis.ackedRevocationsMayBeLost is true)');
    const sentinel = normalizeScenario(plan.scenarios[2]!.scenario);
    expect(sentinel.faults).toEqual([{ at: 900, action: 'kill', target: 'primary' }]);
    expect(sentinel.load.duration).toBe(3000);
    expect(normalizeScenario(plan.scenarios[4]!.scenario).load.mode).toBe('closed');
    // Losing a revocation is acceptable here: no hung-primary runs.
    expect(plan.scenarios.map((s) => s.fault)).toEqual(['none', 'none', 'kill', 'kill', 'capacity']);
    expect(plan.runs).toBe(13);
    // single: 6 x (200 + 500 + 3000 + 2500); sentinel: 6 x (2500 + 500 + 3000 + 2500 + 7000); probe: 6200.
    expect(plan.estimateMs).toBe(6 * 6200 + 6 * 15_500 + 6200);
    expect(planLine(plan)).toBe('decide: running 12 strategy runs on single, sentinel plus a closed-loop capacity probe on single (about 2 min 17 s)');
  });

  const bank: RequirementsInput = {
    revocation: { mode: 'immediate', maxSessionsPerUser: 3, neverAcceptRevoked: true },
    redis: { ackedRevocationsMayBeLost: false, topologies: ['sentinel', 'cluster'] },
  };
  const noNft = 'nft not found (install nftables)';

  it('a bank: only whitelist + WAIT survives the design rules, killed and cut off by a partition on each; with an assumed capacity no probe', () => {
    const plan = planRuns(requirements({ ...bank, assumptions: { redisOpsPerNode: 50_000 } }));
    expect(plan.scenarios.map((s) => [s.name, s.fault, s.schemes])).toEqual([
      ['sentinel', 'kill', ['whitelist-wait']],
      ['cluster', 'kill', ['whitelist-wait']],
      ['sentinel-partition', 'partition', ['whitelist-wait']],
      ['cluster-partition', 'partition', ['whitelist-wait']],
    ]);
    expect(plan.pausedInsteadBecause).toBeNull();
    expect(pausedInsteadNote(plan)).toBeNull();
    const entry = plan.scenarios[0]!.scenario.strategies![0];
    expect(entry).toEqual({ name: 'whitelist', label: 'whitelist + WAIT', wait: { replicas: 1, timeoutMs: 100 }, whitelist: { maxSessions: 3 } });

    // The cut outlasts failure detection, the promotion and the clients' switch (about 3 s here).
    const { downAfterMs } = DEFAULT_TOPOLOGY_OPTIONS.sentinel;
    const { nodeTimeoutMs } = DEFAULT_TOPOLOGY_OPTIONS.cluster;
    expect(PARTITION_MS).toBe(5000);
    expect(PARTITION_MS).toBeGreaterThan(Math.max(downAfterMs, nodeTimeoutMs) + 3000);
    const sentinel = normalizeScenario(plan.scenarios[2]!.scenario);
    expect(sentinel.faults).toEqual([{ at: 4000, action: 'partition', target: 'primary', for: 5000 }]);
    // The demotion (Sentinel: 10.9 s after the heal here) falls inside the measured phase.
    expect(sentinel.load.duration).toBe(4000 + 5000 + 12_000);
    expect(sentinel.load.warmup).toBe(normalizeScenario(plan.scenarios[0]!.scenario).load.warmup);
    expect(sentinel.topology.addresses).toBe('per-node');
    const cluster = normalizeScenario(plan.scenarios[3]!.scenario);
    expect(cluster.topology.kind).toBe('cluster');
    expect(cluster.load.duration).toBe(4000 + 5000 + nodeTimeoutMs + 1000);
    expect(plan.scenarios[2]!.scenario.name).toContain('primary cut off');
    // Long enough already: a 40 s run keeps its length; a 3 s one grows to fit the cut and the demotion.
    expect([partitionRunDurationMs('sentinel', 40_000), partitionRunDurationMs('sentinel', 3000), partitionRunDurationMs('cluster', 3000)]).toEqual([
      40_000,
      900 + 5000 + 12_000,
      900 + 5000 + 2000,
    ]);

    // The default decide of the bank: kills 2 x (startup + 500 + 8000 + 2500 + 7000); partitions
    // settle inside their measured phase (24.6 s and 14.5 s in all here): startup + 500 + 21 s
    // or 11 s + 2500; and the probe (200 + 500 + 8000 + 2500).
    const full = planRuns(requirements(bank));
    expect(full.runs).toBe(5);
    expect(full.estimateMs).toBe(20_500 + 20_300 + 26_500 + 16_300 + 11_200);
    expect(planLine(full)).toBe(
      'decide: running 4 strategy runs on sentinel, cluster (2 with the primary cut off by a partition) plus a closed-loop capacity probe on single (about 1 min 35 s)',
    );
    expect(planFaultsNote(full, 8000)).toBe(
      '8 s measured each, primary killed at 4 s on Sentinel and Cluster, and cut off from every other node by a partition at 4 s for 5 s, then healed, on Sentinel (21 s runs) and Cluster (11 s runs)',
    );
  });

  it('where this machine cannot cut links, the durability runs of the bank hang the primary instead, and say why', () => {
    const plan = planRuns(requirements(bank), 8000, { cannotCutLinks: noNft });
    expect(plan.scenarios.map((s) => [s.name, s.fault])).toEqual([
      ['sentinel', 'kill'],
      ['cluster', 'kill'],
      ['sentinel-pause', 'pause'],
      ['cluster-pause', 'pause'],
      ['capacity', 'capacity'],
    ]);
    expect(plan.pausedInsteadBecause).toBe(noNft);
    expect(pausedInsteadNote(plan)).toBe(
      'No partition on this machine (nft not found (install nftables)): the primary was hung (paused) through the failover instead.',
    );

    // The hang outlasts failure detection plus a promotion, and the resume leaves load to write to the old primary.
    const { downAfterMs } = DEFAULT_TOPOLOGY_OPTIONS.sentinel;
    const { nodeTimeoutMs } = DEFAULT_TOPOLOGY_OPTIONS.cluster;
    expect(PAUSE_MS).toBe(3500);
    expect(PAUSE_MS).toBeGreaterThan(Math.max(downAfterMs, nodeTimeoutMs) + 2000);
    const hung = normalizeScenario(plan.scenarios[2]!.scenario);
    expect(hung.faults).toEqual([{ at: 4000, action: 'pause', target: 'primary', for: 3500 }]);
    expect(hung.load.duration).toBe(9000);
    expect(hung.topology.addresses).toBe('shared');
    expect(normalizeScenario(plan.scenarios[3]!.scenario).topology.kind).toBe('cluster');
    // Long enough already: a 30 s run keeps its length; a 3 s one grows to fit the hang.
    expect([pauseRunDurationMs(30_000), pauseRunDurationMs(3000)]).toEqual([30_000, 900 + 3500 + 1500]);

    // Kills 2 x (startup + 500 + 8000 + 2500 + 7000), hangs with 9000, and the probe (200 + 500 + 8000 + 2500).
    expect(plan.estimateMs).toBe(20_500 + 20_300 + 21_500 + 21_300 + 11_200);
    expect(planLine(plan)).toBe(
      'decide: running 4 strategy runs on sentinel, cluster (2 with the primary hung through a failover) plus a closed-loop capacity probe on single (about 1 min 35 s)',
    );
    expect(planFaultsNote(plan, 8000)).toBe(
      '8 s measured each, primary killed at 4 s on Sentinel and Cluster, and, in 9 s runs, hung (paused) at 4 s for 3.5 s, then resumed, on Sentinel and Cluster',
    );
  });

  it('no durability runs: nothing paused instead, whatever the machine', () => {
    const plan = planRuns(requirements({ redis: { topologies: ['sentinel'] } }), 8000, { cannotCutLinks: noNft });
    expect(plan.scenarios.map((s) => s.fault)).toEqual(['kill', 'kill', 'capacity']);
    expect(plan.pausedInsteadBecause).toBeNull();
  });

  it('every scheme left on a topology is cut off (or hung) there, in one scenario', () => {
    const r = requirements({
      revocation: { mode: 'immediate', neverAcceptRevoked: true },
      redis: { ackedRevocationsMayBeLost: false, topologies: ['sentinel'] },
    });
    expect(
      planRuns(r)
        .scenarios.filter((s) => s.fault === 'partition')
        .map((s) => [s.name, s.schemes]),
    ).toEqual([['sentinel-partition', ['blacklist-wait', 'whitelist-wait']]]);
    expect(
      planRuns(r, 8000, { cannotCutLinks: noNft })
        .scenarios.filter((s) => s.fault === 'pause')
        .map((s) => [s.name, s.schemes]),
    ).toEqual([['sentinel-pause', ['blacklist-wait', 'whitelist-wait']]]);
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
