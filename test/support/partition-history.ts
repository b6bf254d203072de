/**
 * Test-only: a hand-made history of a partition that isolates the primary. Sentinel topology:
 * redis-0 (port 7000) the primary, cut off at 2 s from redis-1 (7001), redis-2 (7002) and the
 * sentinels; redis-1 promoted at 4 s; healed at 6 s; redis-0 demoted at 8 s. Worker 1 is the
 * client group `far` (on redis-0's side of the cut), worker 2 the group `near` (on the others'
 * side), every other worker the default group.
 * The tests that use it count by hand, in the comments next to each revocation.
 */
import { runCheckers } from '../../harness/checkers/index.ts';
import type { FaultRecord, Op, RunInfo } from '../../harness/history.ts';
import { findAnomalies } from '../../result/anomalies.ts';
import type { EventRecord, ResultFile } from '../../result/schema.ts';
import { runVerdict, suiteVerdict } from '../../result/verdict.ts';
import { accept, reject, revoke, runInfo, token } from './history.ts';

const FINAL = { phase: 'final' as const, replay: true };
const OLD = 7000;
const NEW = 7001;
const far = { worker: 1 };

export const partitionNodes = [
  { id: 'redis-0', role: 'primary', port: OLD },
  { id: 'redis-1', role: 'replica', port: NEW },
  { id: 'redis-2', role: 'replica', port: 7002 },
  { id: 'sentinel-0', role: 'sentinel', port: 7100 },
  { id: 'sentinel-1', role: 'sentinel', port: 7101 },
  { id: 'sentinel-2', role: 'sentinel', port: 7102 },
];

export const partitionFault: FaultRecord = {
  action: 'partition',
  target: 'primary',
  node: 'redis-0',
  atMs: 2000,
  healedAtMs: 6000,
  sides: { isolated: ['redis-0', 'clients:far'], from: ['redis-1', 'redis-2', 'sentinel-0', 'sentinel-1', 'sentinel-2'], direction: 'both' },
  effect: 'drop',
};

export const partitionEvents: EventRecord[] = [
  { atMs: 2000.5, source: 'fault', type: 'partition', node: 'redis-0', detail: 'redis-0, clients:far | redis-1, redis-2, sentinels' },
  { atMs: 3900, source: 'sentinel', type: '+switch-master', node: 'redis-1', detail: 'sentinel-0: mymaster' },
  { atMs: 4000, source: 'role', type: 'role-change', node: 'redis-1', detail: 'replica -> primary' },
  { atMs: 6000.5, source: 'fault', type: 'partition-healed', node: 'redis-0' },
  { atMs: 8000, source: 'role', type: 'role-change', node: 'redis-0', detail: 'primary -> replica' },
];

const t = (jti: string) => token(jti, 0, 120_000);

/** Every lost token, by hand: [jti, window, side, node]. */
export const PARTITION_LOSSES = [
  ['b', 'duringFault', 'far', 'redis-0'],
  ['c', 'duringFault', 'default', 'redis-0'],
  ['i', 'duringFault', 'near', 'unknown'],
  ['j', 'duringFault', 'far', 'redis-0'],
  ['e', 'afterHealBeforeDemotion', 'far', 'redis-0'],
  ['f', 'afterHealBeforeDemotion', 'default', 'redis-0'],
  ['h', 'outside', 'default', 'redis-1'],
] as const;

export function partitionOps(): Op[] {
  return [
    // a: acked by redis-0 before the cut; it replicated: still rejected at reconciliation.
    revoke(900, 1000, t('a'), { ackedByPort: OLD }),
    reject(11_000, 11_001, t('a'), 'ERR_REVOKED', FINAL),
    // j: first acked by redis-0 during the cut (far), then again by redis-1 after the demotion; lost.
    revoke(2050, 2100, t('j'), { ackedByPort: OLD, ...far }),
    revoke(9450, 9500, t('j'), { ackedByPort: NEW }),
    accept(11_000, 11_001, t('j'), FINAL),
    // i: during the cut (near), with no ack port; lost.
    revoke(2150, 2200, t('i'), { worker: 2 }),
    accept(11_000, 11_001, t('i'), FINAL),
    // b: redis-0 during the cut (far); lost.
    revoke(2450, 2500, t('b'), { ackedByPort: OLD, ...far }),
    accept(11_000, 11_001, t('b'), FINAL),
    // c: redis-0 during the cut, by worker 5, in no group (default); lost.
    revoke(2950, 3000, t('c'), { ackedByPort: OLD, worker: 5 }),
    accept(11_000, 11_001, t('c'), FINAL),
    // d: redis-0 during the cut (far), yet still rejected at reconciliation: not lost.
    revoke(3450, 3500, t('d'), { ackedByPort: OLD, ...far }),
    reject(11_000, 11_001, t('d'), 'ERR_REVOKED', FINAL),
    // g: redis-1, the new primary, during the cut (by time); not lost.
    revoke(4450, 4500, t('g'), { ackedByPort: NEW }),
    reject(11_000, 11_001, t('g'), 'ERR_REVOKED', FINAL),
    // e: redis-0 after the heal, before its demotion (far); lost.
    revoke(6450, 6500, t('e'), { ackedByPort: OLD, ...far }),
    accept(11_000, 11_001, t('e'), FINAL),
    // f: redis-0 after the heal (default); rejected, then accepted again during the run: resurrected (and accepted at reconciliation: one loss).
    revoke(6950, 7000, t('f'), { ackedByPort: OLD }),
    reject(7100, 7101, t('f'), 'ERR_REVOKED'),
    accept(7500, 7501, t('f')),
    accept(11_000, 11_001, t('f'), FINAL),
    // h: redis-1 after the demotion, lost anyway (it is still the primary).
    revoke(8950, 9000, t('h'), { ackedByPort: NEW }),
    accept(11_000, 11_001, t('h'), FINAL),
  ];
}

export function partitionRun(overrides: Partial<RunInfo> = {}): RunInfo {
  return runInfo({
    faults: [partitionFault],
    events: partitionEvents,
    finalPrimaryPorts: [NEW],
    nodes: partitionNodes.map(({ id, port }) => ({ id, port })),
    clientGroups: [
      { name: 'far', worker: 1, address: '127.77.0.101', share: 0.25 },
      { name: 'near', worker: 2, address: '127.77.0.102', share: 0.25 },
    ],
    durationMs: 10_000,
    ...overrides,
  });
}

/**
 * A copy of a result whose first run had the hand-made partition: its faults, events, nodes, client
 * groups, and the checkers' results over the history, with the anomalies they lead to.
 */
export function withPartition(result: ResultFile): ResultFile {
  const copy = structuredClone(result);
  const run = copy.runs[0]!;
  const info = partitionRun();
  const checks = runCheckers(
    partitionOps().sort((a, b) => a.completeMs - b.completeMs),
    info,
  );
  Object.assign(run, {
    faults: info.faults,
    events: info.events,
    clientGroups: info.clientGroups,
    topology: { ...run.topology, nodes: partitionNodes },
    checks,
    verdict: runVerdict(checks),
  });
  run.anomalies = findAnomalies(run);
  copy.verdict = suiteVerdict(copy.runs);
  return copy;
}
