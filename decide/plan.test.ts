import { describe, expect, it } from 'vitest';
import { normalizeScenario } from '../harness/scenario.ts';
import { requirements } from '../test/support/decide-fixtures.ts';
import { faultAtMs, formatEstimate, planLine, planRuns } from './plan.ts';

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
    expect(plan.runs).toBe(9);
    // single: 4 x (200 + 500 + 3000 + 2500); sentinel: 4 x (2500 + 500 + 3000 + 2500 + 7000); probe: 6200.
    expect(plan.estimateMs).toBe(4 * 6200 + 4 * 15_500 + 6200);
    expect(planLine(plan)).toBe('decide: running 8 strategy runs on single, sentinel plus a closed-loop capacity probe on single (about 1 min 33 s)');
  });

  it('a bank: only whitelist + WAIT survives the design rules; with an assumed capacity no probe', () => {
    const plan = planRuns(
      requirements({
        revocation: { mode: 'immediate', maxSessionsPerUser: 3, neverAcceptRevoked: true },
        redis: { ackedRevocationsMayBeLost: false, topologies: ['sentinel', 'cluster'] },
        assumptions: { redisOpsPerNode: 50_000 },
      }),
    );
    expect(plan.scenarios.map((s) => [s.name, s.schemes])).toEqual([
      ['sentinel', ['whitelist-wait']],
      ['cluster', ['whitelist-wait']],
    ]);
    const entry = plan.scenarios[0]!.scenario.strategies![0];
    expect(entry).toEqual({ name: 'whitelist', label: 'whitelist + WAIT', wait: { replicas: 1, timeoutMs: 100 }, whitelist: { maxSessions: 3 } });
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
