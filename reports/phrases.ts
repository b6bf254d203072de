import { formatBytes, formatElapsed, formatNumber, formatShare, formatMs as ms, formatSeconds as seconds } from '../core/format.ts';
import type { FaultFigures } from '../result/checks.ts';
import { headlineFigures, worstSideUnavailability } from '../result/figures.ts';
import { clientGroupSideText, type NetworkFaultWindow, networkFaultWindows } from '../result/network-faults.ts';
import type { FaultRecord, ResultFile, StrategyRunResult } from '../result/schema.ts';
import { faultLabel, injectedFaults, newPrimaryAfterMs, perFaultFigures, strategyName } from './suite.ts';

/** How figures read in words, the same in every report. */

type Run = StrategyRunResult;

/**
 * The longest unavailability; a window still open at the end is a lower bound and says so. With
 * client groups, the group that waited longer than the run as a whole is named next to it (short:
 * `0.02 s (minority: 3.97 s)`; sentence: `0.02 s (clients minority: 3.97 s, cut off with redis-0)`):
 * the run-wide figure is kept short by the groups that went on answering.
 */
export function unavailabilityText(run: Run, form: 'short' | 'sentence' = 'sentence'): string {
  const { longestWindowMs, longestWindowOpenAtEnd } = run.checks.unavailability.figures;
  const open = longestWindowOpenAtEnd && longestWindowMs > 0;
  const worst = worstSideUnavailability(run);
  const worstFigure = worst && `${worst.longestWindowOpenAtEnd ? '≥ ' : ''}${seconds(worst.longestWindowMs)}`;
  if (form === 'short') {
    const notes = [open && 'open at the end', worst && `${worst.group}: ${worstFigure}`].filter(Boolean);
    return `${open ? '≥ ' : ''}${seconds(longestWindowMs)}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  }
  const runWide = open ? `≥ ${seconds(longestWindowMs)}, still unavailable when the measured phase ended` : seconds(longestWindowMs);
  if (!worst) return runWide;
  const side = clientGroupSideText(worst.group, run.faults, run.topology.nodes);
  return `${runWide} (clients ${worst.group}: ${worstFigure}${worst.longestWindowOpenAtEnd ? ', still unavailable at the end' : ''}${side ? `, ${side}` : ''})`;
}

/**
 * Fail-closed rejections of valid tokens by client group, most first, each of the group's verifies:
 * `minority 556 of 2,345 verifies, majority 209 of 2,379, default 2 of 4,787`. undefined: no split.
 */
export function storeRejectedBySideText(run: Run): string | undefined {
  const bySide = run.checks['valid-rejected'].bySide;
  if (!bySide) return undefined;
  const sides = Object.entries(bySide).sort((a, b) => b[1].storeUnavailable - a[1].storeUnavailable || a[0].localeCompare(b[0]));
  return sides
    .map(([group, counts], i) => `${group} ${formatNumber(counts.storeUnavailable)} of ${formatNumber(counts.verdicts)}${i === 0 ? ' verifies' : ''}`)
    .join(', ');
}

export function steadyText(run: Run): string {
  const spread = run.checks.unavailability.figures.steadySpread;
  return spread
    ? `verify p99 back within its steady spread (${ms(spread.lowMs)}-${ms(spread.highMs)} ms over ${spread.windows} windows)`
    : 'verify p99 back within 1.5x of its pre-fault value';
}

/**
 * The suite's verdict in lines: the headline, then one line per reason, broken threshold and
 * anomaly, each naming its run. The same lines in the terminal, the Markdown report and the HTML.
 */
export function verdictLines(result: ResultFile): { headline: string; reasons: string[]; thresholds: { ok: boolean; line: string }[]; anomalies: string[] } {
  const v = result.verdict;
  const total = result.runs.length;
  const where = (run: Run) => `${run.label} on ${run.topology.kind}`;
  const checked = result.runs.reduce((n, r) => n + r.thresholds.length, 0);
  const headline =
    v.valid === true
      ? `valid: no checker found a violation in ${total === 1 ? 'the run' : `any of the ${total} runs`}`
      : v.valid === false
        ? `invalid: ${v.runs.invalid} of ${total} run${total === 1 ? '' : 's'} broke a guarantee`
        : `unknown: ${total === 0 ? 'no run completed' : `${v.runs.unknown} of ${total} run${total === 1 ? '' : 's'} could not be checked for everything`}`;
  return {
    headline: `${headline}${checked > 0 ? `; thresholds: ${v.thresholdsBroken} of ${checked} broken` : ''}`,
    reasons: result.runs.flatMap((run) => run.verdict.reasons.map((reason) => `${where(run)}: ${reason}`)),
    thresholds: result.runs.flatMap((run) => run.thresholds.map((t) => ({ ok: t.ok, line: `${where(run)}: ${t.ok ? 'ok' : 'BROKEN'} ${t.sentence}` }))),
    anomalies: result.runs.flatMap((run) => run.anomalies.map((a) => `${where(run)}: ${a.sentence}`)),
  };
}

/** The network-fault windows of a fault of the run (result/network-faults.ts); undefined for any other fault. */
export function networkWindowOf(run: Run, fault: FaultRecord): NetworkFaultWindow | undefined {
  return networkFaultWindows(run.faults, run.events).find((w) => w.fault === fault);
}

/** What a network fault did to writes, in one line: the demotion after the heal and the acks in each window. */
export function networkFaultFiguresText(fault: FaultRecord, figures: FaultFigures | undefined): string | undefined {
  if (figures?.acksDuringFault === undefined) return undefined;
  const node = fault.node ?? fault.target;
  const byNode = (n: number | undefined) => (n === undefined ? '' : ` (${formatNumber(n)} by ${node})`);
  const demoted =
    figures.demotedAfterHealMs === null || figures.demotedAfterHealMs === undefined
      ? `${node} not seen demoted`
      : `${node} demoted ${figures.demotedAfterHealMs < 0 ? `${formatElapsed(-figures.demotedAfterHealMs)} before` : `${formatElapsed(figures.demotedAfterHealMs)} after`} the heal`;
  return `${demoted}; ${formatNumber(figures.acksDuringFault)} revocations acknowledged while the fault was in effect${byNode(figures.acksByNode?.duringFault)}, ${formatNumber(figures.acksAfterHealBeforeDemotion ?? 0)} after the heal before the demotion${byNode(figures.acksByNode?.afterHealBeforeDemotion)}`;
}

export const DURABILITY_COLUMNS = [
  'run',
  'lost revocations',
  'acknowledged during a network fault',
  'after the heal, before the demotion',
  'at other times',
  'by acknowledging node',
  'by client group',
];

const splitText = (record: Record<string, number>) =>
  Object.entries(record)
    .sort((a, b) => Number(a[0] === 'unknown') - Number(b[0] === 'unknown') || b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([key, n]) => `${key} ${formatNumber(n)}`)
    .join(', ') || '-';

/** One row per run that split its losses by network-fault window (lost.byWindow); the same cells in both reports. */
export function durabilityRow(run: Run): string[] | undefined {
  const lost = run.checks['lost-revocations'].lost;
  if (!lost?.byWindow) return undefined;
  const { duringFault, afterHealBeforeDemotion, outside, unknown } = lost.byWindow;
  return [
    `${run.label} on ${run.topology.kind}`,
    formatNumber(lost.total),
    formatNumber(duringFault),
    formatNumber(afterHealBeforeDemotion),
    `${formatNumber(outside)}${unknown > 0 ? ` (+${formatNumber(unknown)} against no acknowledged revocation)` : ''}`,
    splitText(lost.byNode ?? {}),
    splitText(lost.bySide ?? {}),
  ];
}

export const DURABILITY_INTRO =
  'Each lost revocation is placed by its earliest acknowledgement: when it was made (while a network fault was in effect, after its heal before the isolated node was demoted, or at other times), which node acknowledged it and which client group sent it. Each split adds up to the lost revocations.';

/**
 * Propagation across verifier instances (load.verifiers) in one sentence: `across 2 other verifier
 * instances: lag p50 0.31 ms, p99 0.90 ms, max 2.10 ms (upper bounds; probes began 0.08 ms after the
 * ack, p50); 0 never rejected; 3 stale accepts`. undefined: the run had none.
 */
export function acrossInstancesText(run: Run): string | undefined {
  const across = run.checks['propagation-lag'].acrossInstances;
  if (!across) return undefined;
  const instances = `${across.instances} other verifier instance${across.instances === 1 ? '' : 's'}`;
  if (across.probes === 0) return `across ${instances}: no acknowledged revocation was probed`;
  return `across ${instances}: lag p50 ${ms(across.p50Ms)} ms, p99 ${ms(across.p99Ms)} ms, max ${ms(across.maxMs)} ms (upper bounds; probes began ${ms(across.relayP50Ms)} ms after the ack, p50); ${formatNumber(across.neverRejected)} never rejected; ${formatNumber(across.staleAccepts)} stale accept${across.staleAccepts === 1 ? '' : 's'}`;
}

/**
 * `the replica held 2,512 entries (~248.1 KiB, estimated), loaded 3 times, the last in 0.8 ms` or
 * `the cache answered 83% of reads (5,000 hits, 1,000 misses), held 3,000 entries, dropped 2 times`:
 * what each load generator's instance kept in its own memory at the end of the run.
 */
export function localStateText(run: Run): string | undefined {
  const states = run.localState;
  if (!states || states.length === 0) return undefined;
  const parts = states.map((s) => {
    const where = states.length > 1 ? `generator ${s.worker}: ` : '';
    if (s.hits !== null && s.misses !== null) {
      const reads = s.hits + s.misses;
      const share = reads > 0 ? `${formatShare(s.hits / reads)} of reads` : 'no read';
      return `${where}the cache answered ${share} (${formatNumber(s.hits)} hits, ${formatNumber(s.misses)} misses), held ${formatNumber(s.entries)} entries, dropped ${formatNumber(s.clears ?? 0)} time${s.clears === 1 ? '' : 's'}`;
    }
    const bytes = s.bytesEstimate === null ? '' : ` (~${formatBytes(s.bytesEstimate)}, estimated)`;
    const loads =
      s.reloads === null
        ? ''
        : `, loaded ${formatNumber(s.reloads)} time${s.reloads === 1 ? '' : 's'}${s.lastReloadMs === null ? '' : `, the last in ${ms(s.lastReloadMs)} ms`}`;
    return `${where}the replica held ${formatNumber(s.entries)} entries${bytes}${loads}`;
  });
  return `local state: ${parts.join('; ')}`;
}

/** Windows of at least this many verifies: fewer make a round-trips ratio one request's noise. */
const MISS_STORM_MIN_VERIFIES = 50;
const MISS_STORM_WINDOW_MS = 1000;

/**
 * A cache refilling after a fault: round trips per verify before the first fault against the
 * highest 1 s window after it, from the timeline. `the cache refilled after kill redis-0: 0.17
 * Redis round trips per verify before it, up to 1.00 in the second from +2.10 s`. Only for a
 * strategy whose verify usually avoids Redis (a steady ratio below 0.5).
 */
export function missStormText(run: Run): string | undefined {
  const fault = run.faults.filter((f) => f.action !== 'settle').sort((a, b) => a.atMs - b.atMs)[0];
  if (!fault || run.timeline.some((b) => b.verifyRedisOps === undefined)) return undefined;
  const ratio = (buckets: readonly Run['timeline'][number][]) => {
    const verifies = buckets.reduce((n, b) => n + b.verifies, 0);
    return verifies >= MISS_STORM_MIN_VERIFIES ? buckets.reduce((n, b) => n + b.verifyRedisOps!, 0) / verifies : undefined;
  };
  const steady = ratio(run.timeline.filter((b) => b.t + bucketMs(run) <= fault.atMs));
  if (steady === undefined || steady >= 0.5) return undefined;
  let peak: { at: number; value: number } | undefined;
  for (const start of run.timeline.filter((b) => b.t >= fault.atMs)) {
    const value = ratio(run.timeline.filter((b) => b.t >= start.t && b.t < start.t + MISS_STORM_WINDOW_MS));
    if (value !== undefined && (!peak || value > peak.value)) peak = { at: start.t, value };
  }
  if (!peak || peak.value < steady + 0.2) return undefined;
  return `after ${fault.action} ${fault.node ?? fault.target} its verifies went to Redis again: ${steady.toFixed(2)} round trips per verify before the fault, up to ${peak.value.toFixed(2)} in the second from +${seconds(peak.at - fault.atMs)} (the cache or replica refilling)`;
}

function bucketMs(run: Run): number {
  return run.timeline.length > 1 ? run.timeline[1]!.t - run.timeline[0]!.t : 100;
}

export const FAULT_COMPARISON_COLUMNS = [
  'strategy',
  'fault',
  'new primary after',
  'clients noticed after',
  'answered again after',
  'verify p99 steady after',
  'lost revocations',
] as const;

/**
 * The runs of one panel side by side, one row per fault: what the topology did and what its clients
 * saw. The fault column is left out when every row names the same fault (the panel's title does).
 */
export function faultComparison(runs: readonly Run[]): { columns: string[]; rows: string[][] } {
  const rows = faultComparisonRows(runs);
  if (new Set(rows.map((row) => row[1])).size > 1) return { columns: [...FAULT_COMPARISON_COLUMNS], rows };
  return { columns: FAULT_COMPARISON_COLUMNS.filter((_, i) => i !== 1), rows: rows.map((row) => row.filter((_, i) => i !== 1)) };
}

function faultComparisonRows(runs: readonly Run[]): string[][] {
  const after = (value: number | null | undefined, missing: string) => (typeof value === 'number' ? `+${seconds(value)}` : missing);
  return runs.flatMap((run) =>
    injectedFaults(run).map((fault) => {
      const figures = perFaultFigures(run, fault);
      return [
        strategyName(run),
        `${faultLabel(fault, run)} at ${seconds(fault.atMs)}`,
        after(newPrimaryAfterMs(run, fault), 'none seen'),
        after(figures?.detectMs, 'no outage seen'),
        figures?.detectMs === null ? '-' : after(figures?.recoverMs, 'not within the run'),
        after(figures?.steadyP99Ms, 'not settled by the end'),
        String(headlineFigures(run).lostRevocations ?? '-'),
      ];
    }),
  );
}
