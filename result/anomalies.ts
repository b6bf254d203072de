import { z } from 'zod';
import { formatMs, formatNumber, formatSeconds } from '../core/format.ts';
import { isNetworkFault, type NetworkFaultWindow, networkFaultWindows, sideText } from './network-faults.ts';
import type { EventRecord, FaultRecord, StrategyRunResult } from './schema.ts';

/**
 * What happened that the scenario did not ask for, read from a run's ground truth (faults, topology
 * events, the generator's own lateness): named, dated and said in one sentence each. An anomaly
 * does not make a run invalid; it tells the reader why its figures look the way they do.
 */
export const ANOMALY_KINDS = [
  'second-failover',
  'failover-aborted',
  'unexpected-promotion',
  'stale-primary',
  'rate-not-held',
  'lost-after-network-fault',
] as const;

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

/** Faults that end with exactly one new primary on an HA topology; the others should promote nobody. */
const FAILS_OVER = new Set(['kill', 'pause', 'failover']);

/**
 * A partition fails the node over when it cuts it from those who decide: the sentinels, or on a
 * cluster the other nodes. Loss and delay only slow packets down: no failover is asked for.
 */
function failsOver(fault: FaultRecord, kind: string): boolean {
  if (FAILS_OVER.has(fault.action)) return true;
  if (fault.action !== 'partition' || !fault.sides) return false;
  return fault.sides.from.some((id) => (kind === 'cluster' ? id.startsWith('redis-') : id.startsWith('sentinel-')));
}

const promotions = (events: readonly EventRecord[]) =>
  events.filter((e) => e.source === 'role' && e.type === 'role-change' && e.detail === 'replica -> primary' && e.node !== undefined);
const after = (ms: number, since: number) => `+${formatSeconds(ms - since)}`;

export function findAnomalies(
  run: Pick<StrategyRunResult, 'faults' | 'events' | 'topology' | 'load' | 'slip'> & Partial<Pick<StrategyRunResult, 'checks'>>,
): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const faults = run.faults.filter((f) => f.action !== 'settle').sort((a, b) => a.atMs - b.atMs);
  const shardOf = new Map(run.topology.nodes.map((n) => [n.id, n.shard]));
  const ha = run.topology.kind === 'sentinel' || run.topology.kind === 'cluster';

  faults.forEach((fault, i) => {
    const untilMs = faults[i + 1]?.atMs ?? Infinity;
    const inWindow = run.events.filter((e) => e.atMs >= fault.atMs && e.atMs < untilMs);
    const label = `${fault.action} ${fault.node ?? fault.target}`;
    const promoted = promotions(inWindow);
    const expected = ha && failsOver(fault, run.topology.kind) ? 1 : 0;
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
  anomalies.push(...lostAfterNetworkFault(run));

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
    if (node === undefined || !failsOver(fault, run.topology.kind) || seen.has(node)) continue;
    const promotion = promoted.find((e) => e.atMs > fault.atMs && e.node !== node);
    if (!promotion) continue;
    const backTypes = isNetworkFault(fault) ? [`${fault.action}-healed`] : ['restart', 'resume'];
    const back = run.events.find((e) => e.source === 'fault' && backTypes.includes(e.type) && e.node === node && e.atMs > fault.atMs);
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
      sentence: `${node} answered as a primary for ${demoted ? '' : 'at least '}${formatSeconds(untilMs - back.atMs)} after its ${back.type.endsWith('-healed') ? 'heal' : back.type}${back.atMs >= run.load.durationMs ? ' (the heal after the load)' : ''}, while ${promotion.node} was the primary: clients still connected to it could write there${demoted ? '' : ' (not demoted by the last event recorded)'}.`,
    });
  }
  return out;
}

/** While a network fault was in effect, in words: who was cut from whom, or what the packets suffered. */
function duringText(window: NetworkFaultWindow, nodes: StrategyRunResult['topology']['nodes']): string {
  const { fault } = window;
  const node = fault.node ?? fault.target;
  const from = fault.sides ? sideText(fault.sides.from, nodes, fault.sides.isolated, 'sentence') : 'the others';
  if (fault.action === 'partition' && (fault.effect === undefined || fault.effect === 'drop')) return `while ${node} was cut off from ${from}`;
  return `while ${fault.effect ?? fault.action} was applied between ${node} and ${from}`;
}

/**
 * Losses of a run with a network fault, by when their acknowledgement was made (lost.byWindow),
 * which node made it (lost.byNode) and from which client group (lost.bySide): the checker's counts,
 * said once.
 */
function lostAfterNetworkFault(run: Pick<StrategyRunResult, 'faults' | 'events' | 'topology'> & Partial<Pick<StrategyRunResult, 'checks'>>): Anomaly[] {
  const lost = run.checks?.['lost-revocations'].lost;
  if (!lost?.byWindow || lost.total === 0) return [];
  const windows = networkFaultWindows(run.faults, run.events);
  const first = windows[0];
  if (!first) return [];
  const only = windows.length === 1 ? first : undefined;
  const { duringFault, afterHealBeforeDemotion, outside, unknown } = lost.byWindow;
  const node = first.fault.node ?? first.fault.target;
  const demotion = !only
    ? 'after a heal, before the node was demoted'
    : only.demotedAtMs !== null && only.healedAtMs !== null
      ? `after the heal before ${node} was demoted (${formatSeconds(only.demotedAtMs - only.healedAtMs)} after the heal)`
      : `after the heal, ${node} not seen demoted`;
  const windowParts = [
    `${formatNumber(duringFault)} acknowledged ${only ? duringText(only, run.topology.nodes) : 'while a network fault was in effect'}`,
    `${formatNumber(afterHealBeforeDemotion)} ${demotion}`,
    `${formatNumber(outside)} at other times`,
    ...(unknown > 0 ? [`${formatNumber(unknown)} against no acknowledged revocation`] : []),
  ];
  const split = (record: Record<string, number> | undefined) =>
    Object.entries(record ?? {})
      .filter(([, n]) => n > 0)
      // Most first; 'unknown' after every named one.
      .sort((a, b) => Number(a[0] === 'unknown') - Number(b[0] === 'unknown') || b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([key, n]) => `${key} ${formatNumber(n)}`)
      .join(', ');
  const groups = Object.keys(lost.bySide ?? {}).length > 1 ? `; by client group: ${split(lost.bySide)}` : '';
  return [
    {
      kind: 'lost-after-network-fault',
      atMs: first.atMs,
      ...(first.fault.node && { node: first.fault.node }),
      sentence: `${formatNumber(lost.total)} acknowledged revocation${lost.total === 1 ? '' : 's'} lost: ${windowParts.join(', ')}; by acknowledging node: ${split(lost.byNode)}${groups}.`,
    },
  ];
}
