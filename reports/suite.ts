import { formatSeconds } from '../core/format.ts';
import type { FaultFigures } from '../result/checks.ts';
import { isNetworkFault, networkFaultLabel } from '../result/network-faults.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { serverText } from '../result/server.ts';

/**
 * A result is a suite: strategies x topologies x faults x servers. Every report describes it the
 * same way, groups its runs into the same panels and gives a strategy the same colour everywhere,
 * so a reader can follow one scheme across every panel and every chart.
 */

type Run = StrategyRunResult;
type Fault = Run['faults'][number];

/** 'settle' records a failed heal after the load stopped, not a fault anyone injected. */
export function injectedFaults(run: Run): Fault[] {
  return run.faults.filter((f) => f.action !== 'settle').sort((a, b) => a.atMs - b.atMs);
}

/** The unavailability figures of one of the run's faults. perFault is ordered by time, not by the fault list: match on the injection time. */
export function perFaultFigures(run: Run, fault: Fault): FaultFigures | undefined {
  const all = run.checks.unavailability.perFault ?? [];
  return all.find((f) => Math.abs(f.atMs - fault.atMs) < 0.5) ?? all[injectedFaults(run).indexOf(fault)];
}

/** `kill primary (redis-0)`; a network fault names its sides: `partition redis-0 | sentinels, replicas`. */
export function faultLabel(fault: Fault, run: Run): string {
  if (isNetworkFault(fault)) return networkFaultLabel(fault, run.topology.nodes);
  return `${fault.action} ${fault.target}${fault.node && fault.node !== fault.target ? ` (${fault.node})` : ''}`;
}

/** The run's faults in one phrase: `kill primary (redis-0) at 2.00 s`, or `no fault`. */
export function faultsText(run: Run): string {
  const faults = injectedFaults(run);
  return faults.length === 0 ? 'no fault' : faults.map((f) => `${faultLabel(f, run)} at ${formatSeconds(f.atMs)}`).join(', ');
}

/**
 * What the scenario asked for, without the node a fault happened to hit or the exact millisecond:
 * runs of one matrix entry share it, whichever node was primary when the fault came.
 */
function faultSchedule(run: Run): string {
  const faults = injectedFaults(run);
  return faults.length === 0 ? 'no fault' : faults.map((f) => `${f.action} ${f.target}${f.effect ? ` ${f.effect}` : ''}`).join(', ');
}

/** `sentinel`, or `sentinel · failoverDetector on` for a labelled matrix entry. */
export function topologyName(run: Run): string {
  return run.topology.label ? `${run.topology.kind} · ${run.topology.label}` : run.topology.kind;
}

/** The strategy as the scenario named it (label, WAIT, policy), without the topology entry's label the run label carries. */
export function strategyName(run: Run): string {
  const without = (label: string, suffix: string | undefined) => (suffix && label.endsWith(` · ${suffix}`) ? label.slice(0, -` · ${suffix}`.length) : label);
  // The runner appends the topology entry's label, then (in a servers matrix) the server's.
  return without(without(run.label, run.server && serverText(run.server)), run.topology.label);
}

/** The server a run ran on, as it reported itself (`valkey 8.0.1`); results written before runs named theirs say it once for all. */
export function serverName(run: Run, result: ResultFile): string {
  return run.server ? serverText(run.server) : result.environment.redis;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

export interface SuiteMatrix {
  strategies: string[];
  topologies: string[];
  /** One entry per distinct fault schedule, `no fault` included. */
  faults: string[];
  servers: string[];
  runs: number;
}

export function suiteMatrix(result: ResultFile): SuiteMatrix {
  const runs = result.runs;
  return {
    strategies: unique(runs.map(strategyName)),
    topologies: unique(runs.map(topologyName)),
    faults: unique(runs.map(faultSchedule)),
    servers: unique(runs.map((r) => serverName(r, result))),
    runs: runs.length,
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** How the load was driven, when every run drove it the same way; otherwise says that it varied. */
function loadText(runs: readonly Run[]): string | undefined {
  const texts = unique(
    runs.map((r) => {
      const how = r.load.mode === 'open' ? `open loop at ${r.load.targetRate ?? '?'} ops/s` : `closed loop, ${r.load.concurrency ?? '?'} in flight`;
      return `${how} · ${formatSeconds(r.load.durationMs)} measured after ${formatSeconds(r.load.warmupMs)} warm-up`;
    }),
  );
  if (texts.length === 0) return undefined;
  return texts.length === 1 ? texts[0] : `load varies by run (${texts.length} settings)`;
}

/**
 * The whole suite in one line, e.g. `5 strategies × 3 topologies (single, sentinel, cluster) ×
 * 2 fault schedules (no fault; kill primary) × 1 server (redis 7.0.15) = 15 runs · open loop at 500 ops/s · ...`.
 */
export function suiteDescription(result: ResultFile): string {
  const m = suiteMatrix(result);
  if (m.runs === 0) return 'no strategy ran';
  const list = (values: readonly string[], sep = ', ') => ` (${values.join(sep)})`;
  const parts = [
    `${plural(m.strategies.length, 'strategy', 'strategies')}`,
    `${plural(m.topologies.length, 'topology', 'topologies')}${list(m.topologies)}`,
    `${plural(m.faults.length, 'fault schedule')}${list(m.faults, '; ')}`,
    `${plural(m.servers.length, 'server')}${list(m.servers)}`,
  ];
  const load = loadText(result.runs);
  return `${parts.join(' × ')} = ${plural(m.runs, 'run')}${load ? ` · ${load}` : ''}`;
}

/** Okabe-Ito first: distinguishable with the common colour-vision deficiencies, and on paper. */
export const STRATEGY_PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#8C564B', '#4D4D4D', '#B8860B', '#7F3C8D'];

/** One colour per strategy, in the order strategies first appear, the same in every panel and chart. */
export function strategyColours(runs: readonly Run[]): (run: Run) => string {
  const byName = new Map(unique(runs.map(strategyName)).map((name, i) => [name, STRATEGY_PALETTE[i % STRATEGY_PALETTE.length]!]));
  return (run) => byName.get(strategyName(run)) ?? STRATEGY_PALETTE[0]!;
}

export interface Panel {
  /** Stable and safe in an HTML id: `panel-1`. */
  id: string;
  topology: string;
  server: string;
  /** The first run's faults with their times and nodes (runs of a panel share the schedule). */
  faults: string;
  hasFault: boolean;
  runs: Run[];
}

/** One panel per topology entry, fault schedule and server, in the order the suite ran them. */
export function suitePanels(result: ResultFile): Panel[] {
  const panels = new Map<string, Panel>();
  for (const run of result.runs) {
    const server = serverName(run, result);
    const key = JSON.stringify([topologyName(run), faultSchedule(run), server]);
    let panel = panels.get(key);
    if (!panel) {
      panel = {
        id: `panel-${panels.size + 1}`,
        topology: topologyName(run),
        server,
        faults: faultsText(run),
        hasFault: injectedFaults(run).length > 0,
        runs: [],
      };
      panels.set(key, panel);
    }
    panel.runs.push(run);
  }
  return [...panels.values()];
}

/** `sentinel · kill primary (redis-0) at 2.00 s`, with the server when the suite has several. */
export function panelTitle(panel: Panel, matrix: SuiteMatrix): string {
  return `${panel.topology} · ${panel.faults}${matrix.servers.length > 1 ? ` · ${panel.server}` : ''}`;
}

/** The topology events that end a failover: the moment a new primary exists. */
export const FAILOVER_EVENTS: ReadonlySet<string> = new Set(['+switch-master', 'role-change']);

/** The first new primary at or after `atMs`: the end of a failover. */
export function firstFailoverAfter(run: Run, atMs: number): Run['events'][number] | undefined {
  return run.events.filter((e) => e.atMs >= atMs && FAILOVER_EVENTS.has(e.type)).sort((a, b) => a.atMs - b.atMs)[0];
}

/** How long after the fault a new primary took over (the first failover event), or null when none was seen. */
export function newPrimaryAfterMs(run: Run, fault: Fault): number | null {
  const first = firstFailoverAfter(run, fault.atMs);
  return first ? first.atMs - fault.atMs : null;
}
