import { describe, expect, it } from 'vitest';
import { lostRevocations } from '../harness/checkers/lost-revocations.ts';
import { check } from '../test/support/history.ts';
import { partitionEvents, partitionFault, partitionNodes, partitionOps, partitionRun } from '../test/support/partition-history.ts';
import { findAnomalies } from './anomalies.ts';
import type { EventRecord, StrategyRunResult } from './schema.ts';

type RunFacts = Pick<StrategyRunResult, 'faults' | 'events' | 'topology' | 'load' | 'slip'>;

const promoted = (atMs: number, node: string): EventRecord => ({ atMs, source: 'role', type: 'role-change', node, detail: 'replica -> primary' });
const demoted = (atMs: number, node: string): EventRecord => ({ atMs, source: 'role', type: 'role-change', node, detail: 'primary -> replica' });
const sentinel = (atMs: number, type: string, node?: string): EventRecord => ({ atMs, source: 'sentinel', type, ...(node && { node }) });

function run(kind: 'sentinel' | 'cluster', events: EventRecord[], overrides: Partial<RunFacts> = {}): RunFacts {
  return {
    faults: [{ action: 'kill', target: 'primary', node: 'redis-0', atMs: 2000 }],
    events,
    topology: {
      kind,
      backend: 'process',
      startupMs: 1,
      nodes: [
        { id: 'redis-0', role: 'replica', port: 1, shard: 0 },
        { id: 'redis-1', role: 'primary', port: 2, shard: kind === 'cluster' ? 1 : 0 },
        { id: 'redis-2', role: 'replica', port: 3, shard: 0 },
      ],
    },
    load: {
      mode: 'open',
      targetRate: 500,
      concurrency: null,
      workers: 1,
      warmupMs: 1000,
      durationMs: 6000,
      completedOps: 3000,
      achievedRate: 500,
      inFlightAtEnd: 0,
    },
    slip: { count: 3000, p50: 0.1, p90: 0.2, p99: 0.4, p999: 1, p9999: 2, max: 3, mean: 0.1 },
    ...overrides,
  };
}

describe('anomalies', () => {
  it('a failover that went as planned is none', () => {
    expect(
      findAnomalies(run('sentinel', [sentinel(3100, '+try-failover', 'redis-0'), promoted(3500, 'redis-2'), sentinel(4200, '+switch-master', 'redis-2')])),
    ).toEqual([]);
  });

  it('names a second, unplanned failover: sentinels giving up on the node just promoted', () => {
    const [second] = findAnomalies(
      run('sentinel', [promoted(3460, 'redis-2'), sentinel(5220, '+odown', 'redis-2'), sentinel(5220, '+try-failover', 'redis-2')]),
    );
    expect(second).toMatchObject({ kind: 'second-failover', atMs: 5220, node: 'redis-2' });
    expect(second!.sentence).toBe(
      'A second, unplanned failover after kill redis-0: redis-2 was given up on (+try-failover) at +3.22 s, after redis-2 had been promoted at +1.46 s.',
    );
  });

  it('names an aborted failover', () => {
    const found = findAnomalies(run('sentinel', [promoted(3500, 'redis-2'), sentinel(4000, '-failover-abort-slave-timeout')]));
    expect(found.map((a) => a.kind)).toEqual(['failover-aborted']);
  });

  it('cluster: a promotion in another shard than the failed primary is unexpected', () => {
    const found = findAnomalies(run('cluster', [promoted(4500, 'redis-1')]));
    expect(found.map((a) => [a.kind, a.node])).toEqual([['unexpected-promotion', 'redis-1']]);
  });

  it('a restarted primary still answering as primary while another is: a stale primary, with how long', () => {
    const events = [promoted(3500, 'redis-2'), { atMs: 6000, source: 'fault', type: 'restart', node: 'redis-0' }, demoted(16_400, 'redis-0')];
    const [stale] = findAnomalies(run('sentinel', events));
    expect(stale).toMatchObject({ kind: 'stale-primary', atMs: 6000, node: 'redis-0' });
    expect(stale!.sentence).toBe(
      'redis-0 answered as a primary for 10.40 s after its restart (the heal after the load), while redis-2 was the primary: clients still connected to it could write there.',
    );
    // Demoted within the role poll's resolution: nothing to say.
    expect(findAnomalies(run('sentinel', [...events.slice(0, 2), demoted(6300, 'redis-0')]))).toEqual([]);
  });

  it('a generator that did not hold its rate', () => {
    const slow = run('sentinel', [], { faults: [], load: { ...run('sentinel', []).load, achievedRate: 430 } });
    expect(findAnomalies(slow).map((a) => a.kind)).toEqual(['rate-not-held']);
    const late = run('sentinel', [], { faults: [], slip: { ...run('sentinel', []).slip!, p99: 25 } });
    expect(findAnomalies(late)[0]!.sentence).toContain('its p99 operation launched 25.0 ms late');
  });
});

describe('acknowledged revocations lost across a network fault', () => {
  const checks = (faults = [partitionFault]) => ({
    'lost-revocations': check(lostRevocations, partitionOps(), partitionRun({ faults })),
  });
  const facts = (faults = [partitionFault]) => ({
    ...run('sentinel', partitionEvents, { faults, topology: { kind: 'sentinel', backend: 'process', startupMs: 1, nodes: partitionNodes } }),
    checks: checks(faults) as unknown as StrategyRunResult['checks'],
  });

  it('says how many were lost, in which window, by which node and from which client group: the checker counts of the hand-made history', () => {
    const found = findAnomalies(facts());
    expect(found.map((a) => a.kind)).toEqual(['lost-after-network-fault', 'stale-primary']);
    expect(found[0]).toMatchObject({ atMs: 2000, node: 'redis-0' });
    expect(found[0]!.sentence).toBe(
      '7 acknowledged revocations lost: 4 acknowledged while redis-0 was cut off from the sentinels and the replicas, 2 after the heal before redis-0 was demoted (2.00 s after the heal), 1 at other times; by acknowledging node: redis-0 5, redis-1 1, unknown 1; by client group: default 3, far 3, near 1.',
    );
  });

  it('a partition from the sentinels is expected to fail over: the promotion is no second failover, the late demotion a stale primary', () => {
    const found = findAnomalies({ ...facts(), checks: undefined });
    expect(found.map((a) => a.kind)).toEqual(['stale-primary']);
    expect(found[0]!.sentence).toContain('redis-0 answered as a primary for 2.00 s after its heal');
  });

  it('a loss fault between replicas expects no failover and says what the packets suffered', () => {
    const loss = { ...partitionFault, action: 'loss', effect: 'loss 10%' };
    const found = findAnomalies(facts([loss]));
    expect(found.map((a) => a.kind)).toEqual(['lost-after-network-fault', 'second-failover']);
    expect(found[0]!.sentence).toContain('4 acknowledged while loss 10% was applied between redis-0 and the sentinels and the replicas');
  });
});
