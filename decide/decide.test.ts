import { describe, expect, it } from 'vitest';
import { figures, fixtureEvidence, fixtureResults, requirements } from '../test/support/decide-fixtures.ts';
import { estimateCost, nodeCapacity } from './cost.ts';
import { type Decision, decide, disqualifiedByDesign } from './decide.ts';
import { type Evidence, extractEvidence, type RunFigures } from './evidence.ts';
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
    // 907 verifies in 1999 ms on one primary: the best any run reached.
    expect(evidence.capacity).toEqual({ opsPerSecPerPrimary: 454, source: 'single-quick.json › run 2 (blacklist, single)', closedLoop: false });

    const [first] = fixtureResults();
    const closed = structuredClone(first!.result);
    closed.runs = [{ ...closed.runs[1]!, load: { ...closed.runs[1]!.load, mode: 'closed', durationMs: 1000 } }];
    const probe = extractEvidence([{ path: 'probe.json', result: closed }]);
    expect(probe.schemes).toEqual([]);
    expect(probe.capacity).toEqual({ opsPerSecPerPrimary: 907, source: 'probe.json › run 1 (blacklist, single)', closedLoop: true });
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
    const measured = { opsPerSecPerPrimary: 454, source: 'x › run 2', closedLoop: false };
    expect(nodeCapacity(r, { ...evidence, capacity: measured }).note).toContain('an ASSUMPTION (requirements: assumptions.redisOpsPerNode), not measured here');
    const fromRun = nodeCapacity(requirements(), { ...evidence, capacity: measured });
    expect(fromRun).toMatchObject({ opsPerSec: 454, kind: 'measured' });
    expect(fromRun.note).toContain('a lower bound on what one Redis primary can do, not its ceiling');
    expect(estimateCost('blacklist', requirements(), evidence).nodes).toBeNull();
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
      "2 lost despite WAIT (measured); fails 'no acknowledged revocation lost on failover'",
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
      "3 accepted, 0 lost (measured, with failover); fails 'no revoked token ever accepted'",
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
    expect(d.options.map((o) => o.scheme)).toEqual(['pure', 'blacklist', 'compact-blacklist', 'whitelist', 'double-token']);
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
    expect(d.recommendation).toMatchObject({ scheme: 'whitelist-wait', topology: 'sentinel', unmeasured: [] });
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
    ]);
    expect(option(d, 'whitelist').disqualification).toContain("fails 'no acknowledged revocation lost on failover'");
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
    expect(md).toContain('a lower bound on what one Redis primary can do, not its ceiling');
    expect(md).toMatch(/memory: 400,000 entries × 132\.9 B \(measured\) = 50\.7 MiB/);
  });
});
