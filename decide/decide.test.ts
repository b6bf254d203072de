import { describe, expect, it } from 'vitest';
import { headlineFigures } from '../result/figures.ts';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { figures, fixtureEvidence, fixtureResults, requirements } from '../test/support/decide-fixtures.ts';
import { CAPACITY_PROBE_HINT, estimateCost, nodeCapacity } from './cost.ts';
import { type Decision, decide, disqualifiedByDesign, NOT_SHOWN_BY_FAULTS } from './decide.ts';
import { durabilityFaultOf, type Evidence, extractEvidence, type RunFigures } from './evidence.ts';
import { pausedInsteadNote, planFaultsNote, planRuns } from './plan.ts';
import { renderDecisionRecord } from './record.ts';
import { loadRequirementsFile, type RequirementsInput } from './requirements.ts';
import type { SchemeId } from './schemes.ts';

const example = (name: string) => loadRequirementsFile(new URL(`../examples/decide/${name}.yaml`, import.meta.url).pathname);
const option = (d: Decision, scheme: SchemeId) => d.options.find((o) => o.scheme === scheme)!;

/** Evidence of one scheme on one topology, from figures made for the test. */
function evidenceOf(entries: [SchemeId, Partial<RunFigures>][], capacity: Evidence['capacity'] = null): Evidence {
  return {
    schemes: entries.map(([scheme, change]) => ({ scheme, topology: change.topology ?? 'sentinel', runs: [figures(change)] })),
    capacity,
    files: ['test.json'],
  };
}

describe('evidence', () => {
  it('matches runs to schemes: strategy name, bucketed layout = compact blacklist, wait = + WAIT; closed loop only feeds capacity', () => {
    const evidence = fixtureEvidence();
    const keys = evidence.schemes.map((e) => `${e.scheme}/${e.topology}`).sort();
    expect(keys).toEqual([
      'blacklist-wait/sentinel',
      'blacklist/sentinel',
      'blacklist/single',
      'compact-blacklist/sentinel',
      'double-token/sentinel',
      'double-token/single',
      'pure/single',
      'whitelist-wait/sentinel',
      'whitelist/sentinel',
      'whitelist/single',
    ]);
    const blacklist = evidence.schemes.find((e) => e.scheme === 'blacklist' && e.topology === 'sentinel')!.runs[0]!;
    expect(blacklist).toMatchObject({
      failover: true,
      verifyP99Ms: 3.385,
      verifyP99AllMs: 804.351,
      roundTripsPerVerify: 1,
      bytesPerEntry: 84.4,
      validRejectedStoreUnavailable: 624,
      lostRevocations: 0,
    });
    expect(blacklist.longestUnavailabilityMs).toBeCloseTo(2384.5, 1);
    // Every fixture run is open loop at 500 ops/s: the rate it was asked for, not a capacity.
    expect(evidence.capacity).toBeNull();

    const [first] = fixtureResults();
    const closed = structuredClone(first!.result);
    closed.runs = [{ ...closed.runs[1]!, load: { ...closed.runs[1]!.load, mode: 'closed', durationMs: 1000 } }];
    const probe = extractEvidence([{ path: 'probe.json', result: closed }]);
    expect(probe.schemes).toEqual([]);
    // 907 verifies × 1 round trip in 1000 ms on one primary.
    expect(closed.runs[0]!.latency.verify!.all.count).toBe(907);
    expect(probe.capacity).toEqual({ opsPerSecPerPrimary: 907, source: 'probe.json › run 1 (blacklist, single)' });
  });

  it('reads the bucketed layout from the scenario when a label does not say it', () => {
    const [first] = fixtureResults();
    const result = structuredClone(first!.result);
    result.runs = [{ ...result.runs[1]!, label: 'bl-b' }];
    result.scenario = { ...result.scenario, strategies: [{ name: 'blacklist', label: 'bl-b', blacklist: { layout: 'bucketed' } }] };
    expect(extractEvidence([{ path: 'x.json', result }]).schemes[0]!.scheme).toBe('compact-blacklist');
  });
});

describe('cost model', () => {
  const r = requirements({
    latency: { peakVerifyRate: 2000 },
    tokens: { accessTtl: '10m', leeway: 0 },
    scale: { activeUsers: 1000, tokensPerUser: 3, revocationsPerDay: 86_400 },
    assumptions: { redisOpsPerNode: 1000 },
  });
  const evidence = evidenceOf([
    ['blacklist', {}],
    ['compact-blacklist', {}],
    ['whitelist', {}],
    ['double-token', { roundTripsPerVerify: 0 }],
  ]);

  it('blacklist: revocations/s × lifetime entries, verify rate × round trips, primaries at the assumed rate', () => {
    const c = estimateCost('blacklist', r, evidence);
    expect(c).toMatchObject({ liveEntries: 600, bytesPerEntry: 100, memoryBytes: 60_000, opsPerSec: 2001, nodes: 3 });
    expect(c.entriesArithmetic).toBe(
      "86,400 revocations/day ÷ 86,400 s × 600 s (access 600 s + leeway 0 s) = 600 live entries (upper bound: an entry lives the token's remaining lifetime, at most all of it)",
    );
    expect(c.memoryArithmetic).toBe('600 entries × 100 B (measured) = 58.6 KiB');
    expect(c.opsArithmetic).toBe('2,000 verifies/s × 1 round trips/verify = 2,000 + 86,400 revocations/day ÷ 86,400 s = 1 → 2,001 Redis ops/s');
    expect(c.nodesArithmetic).toBe('⌈2,001 ÷ 1,000 (assumed)⌉ = 3 primaries');
  });

  it('compact blacklist keeps entries one bucket longer; whitelist holds every live token and writes each login', () => {
    expect(estimateCost('compact-blacklist', r, evidence)).toMatchObject({ liveEntries: 660, memoryBytes: 66_000 });
    const whitelist = estimateCost('whitelist', r, evidence);
    expect(whitelist).toMatchObject({ liveEntries: 3000, memoryBytes: 300_000, opsPerSec: 2006, nodes: 3 });
    expect(whitelist.opsArithmetic).toContain('3,000 live tokens ÷ 600 s access lifetime = 5 logins/s');
  });

  it('double-token: sessions in Redis, no verify traffic, refreshes once per access lifetime; pure: nothing', () => {
    expect(estimateCost('double-token', r, evidence)).toMatchObject({ liveEntries: 3000, memoryBytes: 300_000, opsPerSec: 6, nodes: 1 });
    expect(estimateCost('pure', r, evidence)).toMatchObject({ liveEntries: 0, memoryBytes: 0, opsPerSec: 0, nodes: 0, nodesArithmetic: 'no Redis' });
  });

  it('an unmeasured scheme says so instead of inventing bytes; round trips fall back to the design, labelled', () => {
    const c = estimateCost('whitelist-wait', r, evidence);
    expect(c.memoryBytes).toBeNull();
    expect(c.memoryArithmetic).toBe('3,000 entries × bytes per entry (not measured) = unknown');
    expect(c.opsArithmetic).toContain('1 round trips/verify (by design, not measured)');
  });

  it('per-node throughput: an assumption is marked as one; a measurement is called a lower bound; neither gives no node count', () => {
    const measured = { opsPerSecPerPrimary: 454, source: 'x › run 2' };
    expect(nodeCapacity(r, { ...evidence, capacity: measured }).note).toContain('an ASSUMPTION (requirements: assumptions.redisOpsPerNode), not measured here');
    const fromRun = nodeCapacity(requirements(), { ...evidence, capacity: measured });
    expect(fromRun).toMatchObject({ opsPerSec: 454, kind: 'measured' });
    expect(fromRun.note).toContain('(closed loop, x › run 2): the rate the harness reached, a lower bound on what one Redis primary can do, not its ceiling');
    // Divided by a lower bound, the node count is a ceiling.
    expect(estimateCost('blacklist', requirements({ latency: { peakVerifyRate: 2000 } }), { ...evidence, capacity: measured }).nodesArithmetic).toBe(
      '⌈2,000.12 ÷ 454 (measured lower bound)⌉ = at most 5 primaries',
    );
    const none = estimateCost('blacklist', requirements(), evidence);
    expect(none.nodes).toBeNull();
    expect(none.nodesArithmetic).toBe('not measured: run the capacity probe (see per-node throughput above)');
  });
});

describe('disqualification rules', () => {
  it.each<[string, RequirementsInput, SchemeId, 'single' | 'sentinel' | 'cluster' | null, string]>([
    ['pure cannot revoke', { revocation: { mode: 'immediate' } }, 'pure', null, "pure JWT: cannot revoke before expiry; fails 'immediate revocation'"],
    ['pure cannot revoke on logout', { revocation: { mode: 'logout' } }, 'pure', null, "pure JWT: cannot revoke before expiry; fails 'revocation on logout'"],
    [
      'double-token is not immediate',
      { revocation: { mode: 'immediate' }, tokens: { accessTtl: '15m' } },
      'double-token',
      'sentinel',
      "double-token on sentinel: a revoked session's access token lives up to 905 s; fails 'immediate revocation'",
    ],
    [
      'double-token beyond the bound',
      { revocation: { mode: 'bounded', within: '1m' }, tokens: { accessTtl: '5m' } },
      'double-token',
      'sentinel',
      'lives up to 305 s; shorten tokens.accessTtl to 55 s to qualify',
    ],
    [
      'blacklist has no session limit',
      { revocation: { maxSessionsPerUser: 3 } },
      'blacklist',
      'sentinel',
      "stores only revocations: does not know a user's live tokens; fails 'at most 3 sessions per user'",
    ],
    [
      'double-token has no session limit here',
      { revocation: { maxSessionsPerUser: 3 } },
      'double-token',
      'sentinel',
      'no limit on refresh families in tokenbench',
    ],
    [
      'blacklist cannot count online users',
      { revocation: { onlineUserCount: true } },
      'blacklist',
      'sentinel',
      "stores only revocations; fails 'online-user count'",
    ],
    [
      'no WAIT, lost on failover',
      { redis: { ackedRevocationsMayBeLost: false } },
      'blacklist',
      'sentinel',
      "asynchronous replication can lose an acknowledged revocation; fails 'no acknowledged revocation lost on failover'",
    ],
    [
      'one node loses everything',
      { redis: { ackedRevocationsMayBeLost: false } },
      'whitelist',
      'single',
      'one node, no replica: a crash loses every revocation (persistence off)',
    ],
    [
      'one node has no failover',
      { redis: { maxUnavailability: '5s' } },
      'blacklist',
      'single',
      "one node: no failover, an outage lasts until it restarts; fails 'unavailable ≤ 5 s when a node fails'",
    ],
    [
      'too few nodes at an assumed rate',
      { latency: { peakVerifyRate: 50_000 }, assumptions: { redisOpsPerNode: 20_000 } },
      'blacklist',
      'sentinel',
      'needs 3 primaries at the assumed 20,000 ops/s each; sentinel has one',
    ],
  ])('%s', (_, input, scheme, topology, expected) => {
    expect(disqualifiedByDesign(scheme, topology, requirements(input))).toContain(expected);
  });

  it('by design, WAIT on sentinel and a whitelist with a session limit qualify', () => {
    expect(disqualifiedByDesign('blacklist-wait', 'sentinel', requirements({ redis: { ackedRevocationsMayBeLost: false } }))).toBeNull();
    expect(disqualifiedByDesign('whitelist', 'cluster', requirements({ revocation: { maxSessionsPerUser: 3, onlineUserCount: true } }))).toBeNull();
  });

  it.each<[string, RequirementsInput, SchemeId, Partial<RunFigures>, string]>([
    [
      'revoked tokens accepted after the ack',
      { revocation: { mode: 'immediate' } },
      'blacklist',
      { violations: 4 },
      "4 revoked tokens accepted after the ack (measured); fails 'immediate revocation'",
    ],
    [
      'p99 over budget',
      { latency: { verifyP99: '10ms' } },
      'whitelist',
      { verifyP99Ms: 12.5 },
      "12.5 ms steady at 500 ops/s > 10 ms; fails 'verify p99 ≤ 10 ms'",
    ],
    [
      'p99.9 over budget',
      { latency: { verifyP99: '10ms', verifyP999: '20ms' } },
      'whitelist',
      { verifyP999Ms: 31 },
      "31.0 ms steady at 500 ops/s > 20 ms; fails 'verify p99.9 ≤ 20 ms'",
    ],
    [
      'lost despite WAIT',
      { redis: { ackedRevocationsMayBeLost: false } },
      'blacklist-wait',
      { lostRevocations: 2 },
      "2 lost despite WAIT (measured, with kill); fails 'no acknowledged revocation lost on failover'",
    ],
    [
      'failover too slow',
      { redis: { maxUnavailability: '2s' } },
      'blacklist',
      { longestUnavailabilityMs: 2400 },
      "2.40 s measured > 2 s; fails 'unavailable ≤ 2 s when a node fails'",
    ],
    [
      'revoked accepted with never-accept',
      { revocation: { mode: 'immediate', neverAcceptRevoked: true }, redis: { ackedRevocationsMayBeLost: false } },
      'blacklist-wait',
      { revokedAccepted: 3 },
      "3 accepted, 0 lost (measured, with kill); fails 'no revoked token ever accepted'",
    ],
  ])('measured: %s', (_, input, scheme, change, expected) => {
    const d = decide(requirements({ ...input, redis: { topologies: ['sentinel'], ...input.redis } }), evidenceOf([[scheme, change]]));
    expect(option(d, scheme).disqualification).toContain(expected);
  });

  it('a scheme without a run is "not measured", never met and never disqualified for it', () => {
    const d = decide(requirements({ redis: { topologies: ['sentinel'] } }), evidenceOf([]));
    const blacklist = option(d, 'blacklist');
    expect(blacklist.cells.p99).toEqual({ status: 'not measured', figure: 'not measured' });
    expect(blacklist.disqualification).toBeNull();
  });

  it('WAIT schemes never run on a single node', () => {
    const d = decide(requirements({ redis: { topologies: ['single'] } }), fixtureEvidence());
    expect(d.options.map((o) => o.scheme)).toEqual([
      'pure',
      'blacklist',
      'compact-blacklist',
      'whitelist',
      'double-token',
      'replicated-blacklist',
      'cached-blacklist',
    ]);
  });
});

describe('recommendation on fixture evidence', () => {
  it('internal tool: a pure JWT, no Redis, and says why', () => {
    const d = decide(example('internal-tool'), fixtureEvidence());
    expect(d.recommendation).toMatchObject({ scheme: 'pure', topology: null });
    expect(d.recommendation!.redisNeeded).toContain('Redis is not needed: no requirement asks to revoke a token before it expires');
  });

  it('shop that bans: double-token on sentinel; Redis for login, refresh and logout, never for verify', () => {
    const d = decide(example('shop-bans'), fixtureEvidence());
    expect(d.recommendation).toMatchObject({ scheme: 'double-token', topology: 'sentinel' });
    expect(d.recommendation!.redisNeeded).toBe(
      "Redis is needed for login, refresh and logout, because of 'revocation on logout', 'revoke all devices' (a pure JWT cannot meet them).",
    );
    expect(d.recommendation!.redisNotNeeded).toContain('Verify (every API request) needs no Redis');
    expect(option(d, 'pure').disqualification).toBe("pure JWT: cannot revoke before expiry; fails 'revocation on logout'");
  });

  it('bank: whitelist + WAIT on sentinel, fail-closed, session limit; everything else named as disqualified', () => {
    const r = example('bank-immediate');
    const d = decide({ ...r, assumptions: { redisOpsPerNode: 50_000 } }, fixtureEvidence());
    // The fixtures only kill the primary: durability is left open, not granted.
    expect(d.recommendation).toMatchObject({
      scheme: 'whitelist-wait',
      topology: 'sentinel',
      unmeasured: ['no revoked token ever accepted', 'no acknowledged revocation lost on failover'],
    });
    const settings = Object.fromEntries(d.recommendation!.settings.map((s) => [s.name, s.value]));
    expect(settings.WAIT).toContain('wait: { replicas: 1, timeoutMs: 100 }');
    expect(settings['failure policy']).toContain('fail-closed');
    expect(settings['session limit']).toBe('`whitelist.maxSessions: 3`');
    expect(settings['client (ioredis)']).toContain('failoverDetector: true');
    expect(d.options.filter((o) => o.disqualification).map((o) => o.scheme)).toEqual([
      'pure',
      'blacklist',
      'blacklist-wait',
      'compact-blacklist',
      'whitelist',
      'double-token',
      'replicated-blacklist',
      'cached-blacklist',
    ]);
    expect(option(d, 'whitelist').disqualification).toContain("fails 'no acknowledged revocation lost on failover'");
    expect(option(d, 'replicated-blacklist').disqualification).toBe(
      "replicated denylist on sentinel: bounded by the measured propagation lag, not immediate; fails 'immediate revocation'",
    );
  });

  it('when nothing qualifies it says so and names the closest option and what it fails', () => {
    const d = decide(
      requirements({
        revocation: { mode: 'immediate', maxSessionsPerUser: 2 },
        scale: { tokensPerUser: 1 },
        redis: { topologies: ['single'], maxUnavailability: '5s' },
      }),
      fixtureEvidence(),
    );
    expect(d.recommendation).toBeNull();
    expect(d.closest).toMatchObject({ option: { scheme: 'whitelist', topology: 'single' }, failing: ['unavailable ≤ 5 s when a node fails'] });
  });
});

describe('decision record', () => {
  it('says in one line, beside the evidence, why the primary was paused instead of cut off', () => {
    const plan = planRuns(example('bank-immediate'), 8000, { cannotCutLinks: 'nft not found (install nftables)' });
    const md = renderDecisionRecord(decide(example('bank-immediate'), fixtureEvidence()), {
      requirementsFile: 'examples/decide/bank-immediate.yaml',
      date: '2026-11-28',
      tokenbenchVersion: '0.1.0',
      evidenceNote: `runs made by this decide (${planFaultsNote(plan, 8000)})`,
      faultNote: pausedInsteadNote(plan)!,
    });
    expect(md).toContain(
      'Evidence: runs made by this decide (8 s measured each, primary killed at 4 s on Sentinel and Cluster, and, in 9 s runs, hung (paused) at 4 s for 3.5 s, then resumed, on Sentinel and Cluster). No partition on this machine (nft not found (install nftables)): the primary was hung (paused) through the failover instead.',
    );
  });

  it('has context, options x requirements, disqualifications, decision, consequences, cost arithmetic and evidence', () => {
    const d = decide(example('shop-bans'), fixtureEvidence());
    const md = renderDecisionRecord(d, {
      requirementsFile: 'examples/decide/shop-bans.yaml',
      date: '2026-11-28',
      tokenbenchVersion: '0.1.0',
      evidenceNote: 'fixtures',
    });
    for (const heading of [
      '# Decision record: shop that must ban users',
      '## Context',
      '## Options considered',
      '### Disqualified',
      '## Decision',
      '## Consequences',
      '## Cost model',
      '## Evidence',
    ])
      expect(md).toContain(heading);
    expect(md).toContain(
      '| requirement | pure JWT | blacklist (sentinel) | blacklist + WAIT (sentinel) | compact blacklist (sentinel) | whitelist (sentinel) | whitelist + WAIT (sentinel) | double-token (sentinel) |',
    );
    expect(md).toContain("- pure JWT: cannot revoke before expiry; fails 'revocation on logout'");
    expect(md).toContain('**Use double-token on sentinel Redis.**');
    expect(md).toContain(`Per-node throughput: not measured: no closed-loop run in the evidence`);
    expect(md).toContain(CAPACITY_PROBE_HINT);
    expect(md).toContain('| whitelist (sentinel) | 400,000 | 50.3 MiB | 6,333.9 | not measured |');
    expect(md).toMatch(/memory: 400,000 entries × 132\.9 B \(measured\) = 50\.7 MiB/);
  });
});

/** A copy of a result with its runs' faults replaced: what a run with that fault would have recorded. */
function withFaults(result: ResultFile, faults: ResultFile['runs'][number]['faults']): ResultFile {
  const copy = structuredClone(result);
  copy.scenario = { ...copy.scenario, faults: faults.map((f) => ({ at: Math.round(f.atMs), action: f.action, target: f.target })) };
  for (const run of copy.runs) run.faults = structuredClone(faults);
  return copy;
}

/** n distinct tokens lost at reconciliation in every run of a copy; the expectation reads the headline figure. */
function withLosses(result: ResultFile, n: number): ResultFile {
  const copy = structuredClone(result);
  for (const run of copy.runs) {
    run.checks['lost-revocations'].lost = {
      total: n,
      byCause: { resurrected: 0, refreshAfterRevocation: 0, lostAtReconciliation: n },
      byAck: { ackedByFormerPrimary: n, ackedByCurrentPrimary: 0, ackPortUnknown: 0 },
    };
  }
  return copy;
}

const bankEvidence = (name: string) => loadResult(new URL(`../docs/decisions/evidence/bank-immediate/${name}.json`, import.meta.url).pathname);
const pausedAt4s = (forMs: number) => [{ action: 'pause', target: 'primary', node: 'redis-0', atMs: 4000.4, healedAtMs: 4000.4 + forMs }];
const partitionedAt4s = (forMs: number, target = 'primary') => [
  {
    action: 'partition',
    target,
    node: 'redis-0',
    atMs: 4000.4,
    healedAtMs: 4000.4 + forMs,
    sides: { isolated: ['redis-0'], from: ['redis-1', 'redis-2', 'sentinel-0', 'sentinel-1', 'sentinel-2'], direction: 'both' as const },
    effect: 'drop',
  },
];

describe('durability evidence: only a fault that can lose writes shows it', () => {
  // Sentinel only: otherwise a failing Sentinel option is shown on Cluster, where nothing was measured.
  const bank = () => {
    const r = example('bank-immediate');
    return { ...r, redis: { ...r.redis, topologies: ['sentinel' as const] }, assumptions: { redisOpsPerNode: 50_000 } };
  };
  const cells = (result: ResultFile) => {
    const d = decide(bank(), extractEvidence([{ path: 'sentinel.json', result }]));
    return option(d, 'whitelist-wait').cells;
  };

  it('kill -9 only, 0 lost: not shown, never met', () => {
    const killed = bankEvidence('sentinel');
    expect(killed.runs[0]!.faults.map((f) => f.action)).toEqual(['kill']);
    expect(headlineFigures(killed.runs[0]!).lostRevocations).toBe(0);
    const c = cells(killed);
    expect(c.noLostRevocations).toEqual({ status: 'not measured', figure: `0 lost under kill: ${NOT_SHOWN_BY_FAULTS}` });
    expect(c.neverAcceptRevoked).toEqual({ status: 'not measured', figure: `0 accepted, 0 lost under kill: ${NOT_SHOWN_BY_FAULTS}` });
    expect(NOT_SHOWN_BY_FAULTS).toBe(
      'not shown by the faults run (kill -9 rarely loses writes; a partition or a hung primary does: run decide without --result, or add a partition or pause fault)',
    );
  });

  it('a hung primary through a failover, 0 lost: met', () => {
    const c = cells(withFaults(bankEvidence('sentinel'), pausedAt4s(4000)));
    expect(c.noLostRevocations).toEqual({ status: 'met', figure: '0 lost in 1 failover run, 1 with a hung primary (WAIT 1)' });
    expect(c.neverAcceptRevoked).toEqual({ status: 'met', figure: '0 accepted, 0 lost (measured, with pause; 1 run with a hung primary)' });
  });

  it('a primary cut off by a partition through a failover, 0 lost: met, named as a partition', () => {
    const c = cells(withFaults(bankEvidence('sentinel'), partitionedAt4s(5000)));
    expect(c.noLostRevocations).toEqual({ status: 'met', figure: '0 lost in 1 failover run, 1 with the primary cut off by a partition (WAIT 1)' });
    expect(c.neverAcceptRevoked).toEqual({
      status: 'met',
      figure: '0 accepted, 0 lost (measured, with partition; 1 run with the primary cut off by a partition)',
    });
  });

  it('a partition with losses: not met, with partition named', () => {
    const lossy = withLosses(withFaults(bankEvidence('sentinel'), partitionedAt4s(5000)), 3);
    const lost = headlineFigures(lossy.runs[0]!).lostRevocations;
    expect(cells(lossy).noLostRevocations).toEqual({ status: 'not met', figure: `${lost} lost despite WAIT (measured, with partition)` });
  });

  it('a hung primary with losses: not met, with the headline figure', () => {
    const lossy = withLosses(withFaults(bankEvidence('sentinel'), pausedAt4s(4000)), 3);
    const lost = headlineFigures(lossy.runs[0]!).lostRevocations;
    expect(lost).toBeGreaterThan(0);
    const c = cells(lossy);
    expect(c.noLostRevocations).toEqual({ status: 'not met', figure: `${lost} lost despite WAIT (measured, with pause)` });
    expect(c.neverAcceptRevoked).toEqual({ status: 'not met', figure: `0 accepted, ${lost} lost (measured, with pause)` });
  });

  it('losses under kill -9 alone are not met as well: a loss is a loss', () => {
    const c = cells(withLosses(bankEvidence('sentinel'), 2));
    expect(c.noLostRevocations?.status).toBe('not met');
    expect(c.neverAcceptRevoked?.status).toBe('not met');
  });

  it('kill and hang in two files: met, counting both', () => {
    const d = decide(
      bank(),
      extractEvidence([
        { path: 'sentinel.json', result: bankEvidence('sentinel') },
        { path: 'sentinel-pause.json', result: withFaults(bankEvidence('sentinel'), pausedAt4s(4000)) },
      ]),
    );
    expect(option(d, 'whitelist-wait').cells.noLostRevocations).toEqual({
      status: 'met',
      figure: '0 lost in 2 failover runs, 1 with a hung primary (WAIT 1)',
    });
    const all = decide(
      bank(),
      extractEvidence([
        { path: 'sentinel.json', result: bankEvidence('sentinel') },
        { path: 'sentinel-pause.json', result: withFaults(bankEvidence('sentinel'), pausedAt4s(4000)) },
        { path: 'sentinel-partition.json', result: withFaults(bankEvidence('sentinel'), partitionedAt4s(5000)) },
      ]),
    );
    expect(option(all, 'whitelist-wait').cells.neverAcceptRevoked).toEqual({
      status: 'met',
      figure: '0 accepted, 0 lost (measured, with kill, pause and partition; 1 run with the primary cut off by a partition and 1 with a hung primary)',
    });
  });

  it('a hang counts only when it outlasts failure detection, sees a replica promoted, hits a primary and is resumed in the run', () => {
    const sentinel = bankEvidence('sentinel');
    const hung = (faults: ResultFile['runs'][number]['faults'], result = sentinel) => {
      const copy = withFaults(result, faults);
      return durabilityFaultOf(copy.runs[0]!, copy) === 'pause';
    };
    // down-after is 1000 ms in the scenario as run.
    expect((sentinel.scenario.topology as { downAfterMs: number }).downAfterMs).toBe(1000);
    // The run's own events: redis-1 became primary 1.5 s after 4 s.
    expect(
      sentinel.runs[0]!.events.filter((e) => e.type === 'role-change' && e.detail === 'replica -> primary').map((e) => [e.node, Math.round(e.atMs)]),
    ).toEqual([['redis-1', 5479]]);
    expect(hung(pausedAt4s(4000))).toBe(true);
    expect(hung(pausedAt4s(800))).toBe(false);
    // Resumed before the promotion: only an outage.
    expect(hung(pausedAt4s(1300))).toBe(false);
    const noPromotion = structuredClone(sentinel);
    noPromotion.runs[0]!.events = noPromotion.runs[0]!.events.filter((e) => e.type !== 'role-change');
    expect(hung(pausedAt4s(4000), noPromotion)).toBe(false);
    expect(hung([{ action: 'pause', target: 'primary', node: 'redis-0', atMs: 4000 }])).toBe(false);
    expect(
      hung([
        { action: 'pause', target: 'primary', node: 'redis-0', atMs: 4000 },
        { action: 'resume', target: 'paused', node: 'redis-0', atMs: 7000 },
      ]),
    ).toBe(true);
    expect(hung([{ action: 'pause', target: 'replica', node: 'redis-1', atMs: 4000, healedAtMs: 8000 }])).toBe(false);
    expect(hung([{ action: 'pause', target: 'primary', node: 'redis-0', atMs: 4000, healedAtMs: 8000, error: 'SIGSTOP failed' }])).toBe(false);
    expect(hung([{ action: 'kill', target: 'primary', node: 'redis-0', atMs: 4000, healedAtMs: 8000 }])).toBe(false);
    // Cluster: its own node timeout, read from the scenario as run.
    const cluster = bankEvidence('cluster');
    const slow = structuredClone(cluster);
    slow.scenario = { ...slow.scenario, topology: { ...(slow.scenario.topology as object), nodeTimeoutMs: 5000 } };
    expect(hung([{ action: 'pause', target: 'shard-primary:0', node: 'redis-0', atMs: 4000, healedAtMs: 8000 }], cluster)).toBe(true);
    expect(hung([{ action: 'pause', target: 'shard-primary:0', node: 'redis-0', atMs: 4000, healedAtMs: 8000 }], slow)).toBe(false);
  });

  it('a partition counts the same way: a primary cut off past failure detection, a replica promoted meanwhile, healed in the run', () => {
    const sentinel = bankEvidence('sentinel');
    const fault = (faults: ResultFile['runs'][number]['faults'], result = sentinel) => {
      const copy = withFaults(result, faults);
      return durabilityFaultOf(copy.runs[0]!, copy);
    };
    expect(fault(partitionedAt4s(5000))).toBe('partition');
    // Healed before redis-1's promotion (at 5479 ms): only an outage.
    expect(fault(partitionedAt4s(1300))).toBeNull();
    expect(fault(partitionedAt4s(800))).toBeNull();
    const { healedAtMs: _, ...neverHealed } = partitionedAt4s(5000)[0]!;
    // Never healed in the run, or a replica cut off, or a cut that failed: not shown.
    expect(fault([neverHealed])).toBeNull();
    expect(fault(partitionedAt4s(5000, 'replica'))).toBeNull();
    expect(fault([{ ...partitionedAt4s(5000)[0]!, error: 'nft: Operation not permitted' }])).toBeNull();
    // A later resume heals a pause, not a partition.
    expect(fault([neverHealed, { action: 'resume', target: 'paused', node: 'redis-0', atMs: 9000 }])).toBeNull();
    expect(fault(partitionedAt4s(5000, 'shard-primary:0'), bankEvidence('cluster'))).toBe('partition');
    // A partition is a failover run too.
    const copy = withFaults(sentinel, partitionedAt4s(5000));
    expect(extractEvidence([{ path: 'p.json', result: copy }]).schemes[0]!.runs[0]).toMatchObject({ failover: true, faultActions: ['partition'] });
  });
});

describe('capacity evidence: only a closed-loop run sizes a cluster', () => {
  it('open-loop runs only: per-node capacity and node counts are not measured, and no topology fails on capacity', () => {
    const r = requirements({ latency: { peakVerifyRate: 2000 }, redis: { topologies: ['sentinel'] } });
    const evidence = fixtureEvidence();
    expect(evidence.capacity).toBeNull();
    const d = decide(r, evidence);
    expect(d.capacity.kind).toBe('none');
    expect(d.capacity.note).toBe(
      `not measured: no closed-loop run in the evidence (an open-loop run reaches the rate it was asked for, so it says nothing about capacity); ${CAPACITY_PROBE_HINT}, or set assumptions.redisOpsPerNode`,
    );
    const blacklist = option(d, 'blacklist');
    expect(blacklist.cost.nodes).toBeNull();
    expect(blacklist.cells.peakRate).toEqual({
      status: 'not measured',
      figure: '2,000.1 Redis ops/s; per-node capacity not measured: run the capacity probe (see the cost model)',
    });
    // Even a peak no single primary could serve is "not measured" on open-loop evidence.
    const big = decide(requirements({ latency: { peakVerifyRate: 1_000_000 }, redis: { topologies: ['sentinel'] } }), evidence);
    expect(big.options.every((o) => o.cells.peakRate?.status !== 'not met')).toBe(true);
  });

  it('the closed-loop probe next to open-loop runs gives the figure, called a lower bound', () => {
    const probe = loadResult(new URL('../docs/decisions/evidence/bank-immediate/capacity.json', import.meta.url).pathname);
    const run = probe.runs[0]!;
    expect(run.load.mode).toBe('closed');
    const expected = Math.round(((run.latency.verify!.all.count / run.load.durationMs) * 1000 * run.redis.roundTripsPerVerify!) / 1);
    const evidence = extractEvidence([...fixtureResults(), { path: 'capacity.json', result: probe }]);
    expect(evidence.capacity).toEqual({ opsPerSecPerPrimary: expected, source: 'capacity.json › run 1 (capacity probe (closed loop), single)' });
    const d = decide(requirements({ latency: { peakVerifyRate: 2000 }, redis: { topologies: ['sentinel'] } }), evidence);
    expect(d.capacity).toMatchObject({ kind: 'measured', opsPerSec: expected });
    expect(d.capacity.note).toContain('a lower bound on what one Redis primary can do, not its ceiling');
    expect(option(d, 'blacklist').cells.peakRate).toEqual({ status: 'met', figure: '2,000.1 Redis ops/s: 1 primary' });
  });
});
