import { describe, expect, it } from 'vitest';
import type { StrategyRunResult } from '../result/schema.ts';
import { figures, fixtureEvidence, fixtureResults, requirements } from '../test/support/decide-fixtures.ts';
import { TEAM_VERIFIER_UNKNOWN } from './cost.ts';
import { type Decision, decide, NOT_SHOWN_BY_FAULTS, type OptionAssessment } from './decide.ts';
import { type Evidence, extractEvidence, type RunFigures, type VerifierEvidence, type VerifierKind } from './evidence.ts';
import { renderDecisionRecord } from './record.ts';

const meta = { requirementsFile: 'r.yaml', date: '2024-01-01', tokenbenchVersion: '0.0.0', evidenceNote: 'given' };
const teamOption = (d: Decision, label: string) => d.options.find((o) => o.verifier?.label === label);
const cellOf = (o: OptionAssessment | undefined, row: string) => o?.cells[row as keyof OptionAssessment['cells']];

/** A revocation that must hold at once and survive a failover, on Sentinel, as a bank would state it. */
const strict = () =>
  requirements({
    revocation: { mode: 'immediate', revokeAllDevices: true, maxSessionsPerUser: 3, onlineUserCount: true, neverAcceptRevoked: true },
    latency: { verifyP99: '10ms', verifyP999: '25ms', peakVerifyRate: 2000 },
    redis: { onFailure: 'deny', ackedRevocationsMayBeLost: false, topologies: ['sentinel'], maxUnavailability: '5s' },
  });

/** A partition of the primary that outlasted failure detection, healed in the run: a 0 lost then says something. */
const partitioned: Partial<RunFigures> = { faultActions: ['partition'], durabilityFault: 'partition', roundTripsPerVerify: null, bytesPerEntry: null };

function withTeam(base: Evidence, label: string, kind: VerifierKind, change: Partial<RunFigures>): Evidence {
  const verifier: VerifierEvidence = {
    label,
    kind,
    topology: 'sentinel',
    runs: [figures({ source: `${label}.json › run 1 (${label}, sentinel)`, ...change })],
  };
  return { ...base, verifiers: [...(base.verifiers ?? []), verifier], files: [...base.files, `${label}.json`] };
}

describe("a team's verifier as a decide option", () => {
  it('reads an HTTP run and a module run as team verifiers, not as one of our schemes', () => {
    const [, sentinel] = fixtureResults();
    const result = structuredClone(sentinel!.result);
    const [blacklist] = result.runs as [StrategyRunResult];
    result.runs = [
      { ...blacklist, strategy: 'http', engine: 'service', label: 'orders-api', redis: { ...blacklist.redis, roundTripsPerVerify: null } },
      { ...blacklist, strategy: 'team-denylist', engine: 'team-denylist', label: 'auth-bench' },
    ];
    const evidence = extractEvidence([{ path: 'team.json', result }]);
    expect(evidence.schemes).toEqual([]);
    expect(evidence.verifiers!.map((v) => [v.label, v.kind, v.topology, v.runs[0]!.source])).toEqual([
      ['orders-api', 'http', 'sentinel', 'team.json › run 1 (orders-api, sentinel)'],
      ['auth-bench', 'module', 'sentinel', 'team.json › run 2 (auth-bench, sentinel)'],
    ]);
    expect(evidence.verifiers![0]!.runs[0]).toMatchObject({ guarantee: 'immediate', roundTripsPerVerify: null });
  });

  it('an HTTP service that meets everything measurable under a partition is an option, judged by measurement, and its cells say why', () => {
    const evidence = withTeam(fixtureEvidence(), 'orders-api', 'http', partitioned);
    const d = decide(strict(), evidence);
    const orders = teamOption(d, 'orders-api')!;
    expect(orders).toMatchObject({ scheme: null, verifier: { label: 'orders-api', kind: 'http' }, topology: 'sentinel', notMet: 0 });
    expect(cellOf(orders, 'revocation')).toEqual({
      status: 'met',
      figure:
        '0 of 100 revoked replays accepted after the ack, max lag 0.00 ms on the writing instance (across instances not measured) (measured; the run states immediate revocation)',
    });
    expect(cellOf(orders, 'neverAcceptRevoked')).toMatchObject({
      status: 'met',
      figure: expect.stringContaining('1 run with the primary cut off by a partition'),
    });
    expect(cellOf(orders, 'noLostRevocations')).toMatchObject({ status: 'met', figure: expect.stringContaining('0 lost in 1 failover run') });
    expect(cellOf(orders, 'p99')).toMatchObject({ status: 'met' });
    expect(cellOf(orders, 'onFailure')).toEqual({ status: 'met', figure: '600 valid tokens rejected, 0 revoked accepted in the outage (measured)' });
    expect(cellOf(orders, 'maxUnavailability')).toEqual({ status: 'met', figure: '2.40 s (measured failover)' });
    // What only its design could tell stays unknown, and says so.
    for (const row of ['sessionLimit', 'onlineCount', 'peakRate', 'revokeAll'])
      expect(cellOf(orders, row)).toMatchObject({ status: 'not measured', figure: expect.stringContaining(TEAM_VERIFIER_UNKNOWN) });
    expect(orders.cost).toMatchObject({ scheme: null, memoryBytes: null, opsPerSec: null, nodes: null });

    const record = renderDecisionRecord(d, meta);
    expect(record).toContain('| orders-api (HTTP service, sentinel) |');
    expect(record).toContain('never plans it: give its results with `--result`');
    expect(record).toContain('- orders-api.json › run 1 (orders-api, sentinel): ');
  });

  it('a module with a violation fails the revocation rows', () => {
    const d = decide(strict(), withTeam(fixtureEvidence(), 'auth-bench', 'module', { ...partitioned, violations: 2, revokedAccepted: 2 }));
    const auth = teamOption(d, 'auth-bench')!;
    expect(cellOf(auth, 'revocation')).toEqual({
      status: 'not met',
      figure: '2 revoked tokens accepted after the ack beyond what the run states immediate revocation (measured)',
    });
    expect(cellOf(auth, 'neverAcceptRevoked')).toMatchObject({ status: 'not met', figure: '2 accepted, 0 lost (measured, with partition)' });
    expect(auth.disqualification).toMatch(/^auth-bench \(strategy module\) on sentinel: 2 revoked tokens accepted/);
    expect(renderDecisionRecord(d, meta)).toContain('| auth-bench (strategy module, sentinel) |');
  });

  it('without a partition or a pause, durability is not measured', () => {
    const d = decide(strict(), withTeam(fixtureEvidence(), 'auth-bench', 'module', { faultActions: ['kill'], durabilityFault: null }));
    const auth = teamOption(d, 'auth-bench')!;
    expect(cellOf(auth, 'noLostRevocations')).toEqual({ status: 'not measured', figure: `0 lost under kill: ${NOT_SHOWN_BY_FAULTS}` });
    expect(cellOf(auth, 'neverAcceptRevoked')).toEqual({ status: 'not measured', figure: `0 accepted, 0 lost under kill: ${NOT_SHOWN_BY_FAULTS}` });
  });

  it('a bounded promise is not immediate, and a bounded requirement is judged by the measured lag', () => {
    const bounded = { ...partitioned, guarantee: { boundedByMs: 1000 }, propagationMaxMs: 40 } as const;
    const immediate = decide(strict(), withTeam(fixtureEvidence(), 'orders-api', 'http', bounded));
    expect(cellOf(teamOption(immediate, 'orders-api'), 'revocation')).toMatchObject({
      status: 'not met',
      figure: expect.stringContaining('the run states revocation within 1.00 s, not immediate'),
    });
    const within = requirements({ revocation: { mode: 'bounded', within: '100ms' }, redis: { topologies: ['sentinel'] } });
    expect(cellOf(teamOption(decide(within, withTeam(fixtureEvidence(), 'orders-api', 'http', bounded)), 'orders-api'), 'revocation')).toMatchObject({
      status: 'met',
      figure: expect.stringContaining('max lag 40.0 ms'),
    });
  });

  it('leaves our options as they were, and is recommended when it alone meets every requirement with measurements', () => {
    const ours = decide(strict(), fixtureEvidence());
    const withOrders = decide(strict(), withTeam(fixtureEvidence(), 'orders-api', 'http', partitioned));
    expect(withOrders.options.filter((o) => o.verifier === null)).toEqual(ours.options);
    expect(withOrders.options).toHaveLength(ours.options.length + 1);

    // Ours unmeasured: the measured team verifier ranks first.
    const none: Evidence = { schemes: [], capacity: null, files: [] };
    const d = decide(
      requirements({ revocation: { mode: 'immediate', neverAcceptRevoked: true }, redis: { ackedRevocationsMayBeLost: false, topologies: ['sentinel'] } }),
      withTeam(none, 'orders-api', 'http', partitioned),
    );
    expect(d.recommendation).toMatchObject({ scheme: null, verifier: { label: 'orders-api', kind: 'http' }, topology: 'sentinel' });
    const record = renderDecisionRecord(d, meta);
    expect(record).toContain('**Use orders-api (HTTP service) on sentinel Redis.**');
    expect(record).toContain("Not measured (a team's verifier: only what was measured is known)");
  });

  it('is not an option on a topology the requirements do not allow', () => {
    const d = decide(requirements({ redis: { topologies: ['cluster'] } }), withTeam(fixtureEvidence(), 'orders-api', 'http', partitioned));
    expect(teamOption(d, 'orders-api')).toBeUndefined();
  });
});
