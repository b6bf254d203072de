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

/** Verifies every stepMs from fromMs while below untilMs, each of its own token (never revoked). */
function verifies(worker: number, stepMs: number, fromMs: number, untilMs: number, make: typeof accept | typeof storeDown): Op[] {
  const ops: Op[] = [];
  for (let ms = fromMs; ms < untilMs; ms += stepMs) ops.push(make(ms - 1, ms, t(`w${worker}-${ms}`), { worker }));
  return ops;
}

const storeDown = (invokeMs: number, completeMs: number, tokenFields: Parameters<typeof accept>[2], fields: Parameters<typeof accept>[3] = {}) =>
  reject(invokeMs, completeMs, tokenFields, 'ERR_STORE_UNAVAILABLE', { degraded: true, ...fields });

/**
 * Verifies by side of the same partition (blacklist, fail-closed), counted by hand in
 * SIDES_BY_HAND: `far` (worker 1, cut off with redis-0) answered every 100 ms at x30 until
 * 1930, then is refused by the store from 2030 to 5830, and answered again from 5930: no definite
 * answer for 4000 ms. `near` (worker 2) at x70 loses 2070-2470 to the store (600 ms from 1970 to
 * 2570), one entry lost at 8070 and one rejection at 9070 that a revocation (by `far`, invoked
 * at 9000, completed after the verify) explains. The default group (worker 0) answers every 50 ms
 * and is refused once, at 4025: the run as a whole never goes more than 50 ms without an answer
 * (2000 to 2050, the first 50 ms gap).
 */
export function sidesOps(): Op[] {
  return [
    ...verifies(1, 100, 30, 2000, accept),
    ...verifies(1, 100, 2030, 5900, storeDown),
    ...verifies(1, 100, 5930, 10_000, accept),
    ...verifies(2, 100, 70, 2000, accept),
    ...verifies(2, 100, 2070, 2500, storeDown),
    ...verifies(2, 100, 2570, 8000, accept),
    reject(8069, 8070, t('lost-entry'), 'ERR_NOT_ALLOWLISTED', { worker: 2 }),
    accept(8169, 8170, t('w2-8170'), { worker: 2 }),
    ...verifies(2, 100, 8270, 9000, accept),
    reject(9069, 9070, t('revoked'), 'ERR_REVOKED', { worker: 2 }),
    revoke(9000, 9100, t('revoked'), { worker: 1 }),
    ...verifies(2, 100, 9170, 10_000, accept),
    ...verifies(0, 50, 50, 4025, accept),
    storeDown(4024, 4025, t('w0-4025'), { worker: 0 }),
    ...verifies(0, 50, 4050, 10_000, accept),
  ];
}

/** What sidesOps gives, counted from its description. */
export const SIDES_BY_HAND = {
  unavailability: {
    far: { longestWindowMs: 4000, windowStartMs: 1930, longestWindowOpenAtEnd: false, verifies: 100, definite: 61 },
    near: { longestWindowMs: 600, windowStartMs: 1970, longestWindowOpenAtEnd: false, verifies: 100, definite: 95 },
    default: { longestWindowMs: 50, windowStartMs: 0, longestWindowOpenAtEnd: false, verifies: 200, definite: 199 },
  },
  runWide: { longestWindowMs: 50, windowStartMs: 2000, ops: 400, definite: 355, errors: 45 },
  validRejected: {
    far: { verdicts: 100, rejected: 39, storeUnavailable: 39, entryLost: 0, touchedByRevocation: 0 },
    near: { verdicts: 100, rejected: 7, storeUnavailable: 5, entryLost: 1, touchedByRevocation: 1 },
    default: { verdicts: 200, rejected: 1, storeUnavailable: 1, entryLost: 0, touchedByRevocation: 0 },
  },
};

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
 * groups, and the checkers' results over the history (partitionOps unless given), with the
 * anomalies they lead to.
 */
export function withPartition(result: ResultFile, ops: Op[] = partitionOps()): ResultFile {
  const copy = structuredClone(result);
  const run = copy.runs[0]!;
  const info = partitionRun();
  const checks = runCheckers(
    [...ops].sort((a, b) => a.completeMs - b.completeMs),
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
