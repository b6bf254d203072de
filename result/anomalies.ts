import { z } from 'zod';
import { formatMs, formatSeconds } from '../core/format.ts';
import type { EventRecord, FaultRecord, StrategyRunResult } from './schema.ts';

/**
 * What happened that the scenario did not ask for, read from a run's ground truth (faults, topology
 * events, the generator's own lateness): named, dated and said in one sentence each. An anomaly
 * does not make a run invalid; it tells the reader why its figures look the way they do.
 */
export const ANOMALY_KINDS = ['second-failover', 'failover-aborted', 'unexpected-promotion', 'stale-primary', 'rate-not-held'] as const;

export const anomalySchema = z.strictObject({
  kind: z.enum(ANOMALY_KINDS),
  /** Run ms, when it began; null for the whole run (rate-not-held). */
  atMs: z.number().nullable(),
  node: z.string().optional(),
  sentence: z.string(),
});

export type Anomaly = z.infer<typeof anomalySchema>;

/**
 * A demoted primary that still says `role:master` this long after it came back is worth a line:
 * clients still connected to it can write there, and Sentinel only converts it at its next INFO
 * (every 10 s); the role poller's own resolution is 100 ms.
 */
const STALE_PRIMARY_MS = 1000;
/** The open loop did not hold its rate: fewer than this share of the target completed... */
const MIN_RATE_SHARE = 0.95;
/** ...or its p99 operation left this late, enough to smooth the queueing it should have shown. */
const MAX_SLIP_P99_MS = 10;

/**
 * Faults that end with exactly one new primary on an HA topology; the others should promote nobody.
 * A network fault may promote one (an isolated primary is replaced) or none (a cut the detectors
 * do not see), never two.
 */
const FAILS_OVER = new Set(['kill', 'pause', 'failover', 'partition', 'loss', 'delay']);
/** How a fault's node comes back: what a stale primary is measured from. */
const COMES_BACK = new Set(['restart', 'resume', 'partition-healed', 'loss-healed', 'delay-healed']);

const promotions = (events: readonly EventRecord[]) =>
  events.filter((e) => e.source === 'role' && e.type === 'role-change' && e.detail === 'replica -> primary' && e.node !== undefined);
const after = (ms: number, since: number) => `+${formatSeconds(ms - since)}`;

export function findAnomalies(run: Pick<StrategyRunResult, 'faults' | 'events' | 'topology' | 'load' | 'slip'>): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const faults = run.faults.filter((f) => f.action !== 'settle').sort((a, b) => a.atMs - b.atMs);
  const shardOf = new Map(run.topology.nodes.map((n) => [n.id, n.shard]));
  const ha = run.topology.kind === 'sentinel' || run.topology.kind === 'cluster';

  faults.forEach((fault, i) => {
    const untilMs = faults[i + 1]?.atMs ?? Infinity;
    const inWindow = run.events.filter((e) => e.atMs >= fault.atMs && e.atMs < untilMs);
    const label = `${fault.action} ${fault.node ?? fault.target}`;
    const promoted = promotions(inWindow);
    const expected = ha && FAILS_OVER.has(fault.action) ? 1 : 0;
    const distinct = [...new Map(promoted.map((e) => [e.node!, e])).values()];
    // Sentinel tries to fail over a node other than the one the fault hit: the new primary itself was given up on.
    const otherAttempt = inWindow.find(
      (e) => (e.type === '+try-failover' || (e.source === 'cluster' && e.type === 'fail')) && e.node !== undefined && e.node !== fault.node,
    );
    if (distinct.length > expected || otherAttempt) {
      const second = otherAttempt ?? distinct[expected]!;
      anomalies.push({
        kind: 'second-failover',
        atMs: second.atMs,
        ...(second.node && { node: second.node }),
        sentence: `A second, unplanned failover after ${label}: ${second.node} ${otherAttempt ? `was given up on (${second.type})` : 'was promoted too'} at ${after(second.atMs, fault.atMs)}${distinct[0] ? `, after ${distinct[0].node} had been promoted at ${after(distinct[0].atMs, fault.atMs)}` : ''}.`,
      });
    }
    for (const abort of inWindow.filter((e) => e.type.startsWith('-failover-abort'))) {
      anomalies.push({
        kind: 'failover-aborted',
        atMs: abort.atMs,
        ...(abort.node && { node: abort.node }),
        sentence: `A failover was aborted (${abort.type}) at ${after(abort.atMs, fault.atMs)} after ${label}.`,
      });
    }
    if (run.topology.kind === 'cluster' && fault.node !== undefined) {
      for (const p of distinct) {
        if (shardOf.get(p.node!) !== shardOf.get(fault.node)) {
          anomalies.push({
            kind: 'unexpected-promotion',
            atMs: p.atMs,
            node: p.node!,
            sentence: `${p.node} (shard ${shardOf.get(p.node!) ?? '?'}) was promoted at ${after(p.atMs, fault.atMs)} after ${label} (shard ${shardOf.get(fault.node) ?? '?'}).`,
          });
        }
      }
    }
  });

  anomalies.push(...stalePrimaries(run, faults));

  const target = run.load.targetRate;
  // A run interrupted before its measured phase has no rate to judge.
  if (run.load.mode === 'open' && target !== null && run.load.durationMs > 0) {
    const late = run.slip?.p99 ?? 0;
    if (run.load.achievedRate < MIN_RATE_SHARE * target || late > MAX_SLIP_P99_MS) {
      anomalies.push({
        kind: 'rate-not-held',
        atMs: null,
        sentence: `The load generator did not hold its rate: ${run.load.achievedRate} of ${target} ops/s achieved, its p99 operation launched ${formatMs(late)} ms late; latencies still count from the intended start, but the arrival pattern was not the one asked for.`,
      });
    }
  }
  return anomalies.sort((a, b) => (a.atMs ?? Infinity) - (b.atMs ?? Infinity));
}

/**
 * A faulted primary that came back (restarted, resumed) after another node was promoted, and kept
 * answering `role:master` until it was demoted (or until the last event recorded).
 */
function stalePrimaries(run: Pick<StrategyRunResult, 'events' | 'topology' | 'load'>, faults: readonly FaultRecord[]): Anomaly[] {
  if (run.topology.kind !== 'sentinel' && run.topology.kind !== 'cluster') return [];
  const out: Anomaly[] = [];
  const lastMs = run.events.at(-1)?.atMs ?? 0;
  const seen = new Set<string>();
  const promoted = promotions(run.events);
  for (const fault of faults) {
    const node = fault.node;
    if (node === undefined || !FAILS_OVER.has(fault.action) || seen.has(node)) continue;
    const promotion = promoted.find((e) => e.atMs > fault.atMs && e.node !== node);
    if (!promotion) continue;
    const back = run.events.find((e) => e.source === 'fault' && COMES_BACK.has(e.type) && e.node === node && e.atMs > fault.atMs);
    if (!back) continue;
    const demoted = run.events.find(
      (e) => e.source === 'role' && e.type === 'role-change' && e.node === node && e.detail === 'primary -> replica' && e.atMs >= back.atMs,
    );
    const untilMs = demoted?.atMs ?? lastMs;
    if (untilMs - back.atMs < STALE_PRIMARY_MS) continue;
    seen.add(node);
    out.push({
      kind: 'stale-primary',
      atMs: back.atMs,
      node,
      sentence: `${node} answered as a primary for ${demoted ? '' : 'at least '}${formatSeconds(untilMs - back.atMs)} after ${back.type.endsWith('-healed') ? `the ${back.type.slice(0, -'-healed'.length)} was healed` : `its ${back.type}`}${back.atMs >= run.load.durationMs ? ' (the heal after the load)' : ''}, while ${promotion.node} was the primary: clients still connected to it could write there${demoted ? '' : ' (not demoted by the last event recorded)'}.`,
    });
  }
  return out;
}
