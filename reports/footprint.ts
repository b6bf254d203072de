import { formatShare as pct } from '../core/format.ts';
import { type Footprint, type FootprintFigures, footprintFigures, SHORT_OF_CPU } from '../result/footprint.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';

/**
 * The measurement's footprint in words, for the Markdown and HTML reports alike: the same cells
 * and the same warning in both. Shares of one core read "97% of a core"; of the machine, "52%".
 */

type Run = StrategyRunResult;

export const FOOTPRINT_INTRO =
  'CPU used during each measured phase (from the end of warm-up to the end of the load; settling and reconciliation not included), as a share of one core (100% is a whole core) or of the whole machine.';

export const FOOTPRINT_COLUMNS = [
  'run',
  'load generator (busiest thread)',
  'tokenbench process',
  'Redis servers',
  'other processes',
  'steal',
  'machine busy + steal (peak)',
  'load average 1 min',
] as const;

const runName = (run: Run) => `${run.label} on ${run.topology.kind}`;
const ofCore = (share: number) => `${pct(share)} of a core`;

function notMeasured(footprint: Footprint): string {
  return `not measured (${footprint.procUnavailable ?? 'no /proc'})`;
}

/** One row per run whose footprint was measured, in FOOTPRINT_COLUMNS order. */
export function footprintRow(run: Run, footprint: Footprint): string[] {
  const f = footprintFigures(footprint, run.load.workers);
  const machine = footprint.machine;
  const threads = footprint.tokenbench.generatorThreads;
  const generator =
    f.busiestGeneratorCoreShare === null
      ? notMeasured(footprint)
      : `${ofCore(f.busiestGeneratorCoreShare)}${threads && threads.length > 1 ? ` (of ${threads.length} threads)` : ''}`;
  const helpers = f.helperThreadShares?.length ? `; ${f.helperThreadShares.map(helperText).join(', ')}` : '';
  const process = `${ofCore(f.tokenbenchCoreShare)}${f.tokenbenchMachineShare === null ? '' : `, ${pct(f.tokenbenchMachineShare)} of ${machine!.cpus} CPUs`} (peak ${pct(footprint.tokenbench.peakCoreShare)}${helpers})`;
  return [
    runName(run),
    generator,
    process,
    redisCell(footprint, f),
    f.otherMachineShare === null ? '-' : pct(f.otherMachineShare),
    f.stealShare === null ? notMeasured(footprint) : pct(f.stealShare),
    machine ? `${pct(f.notIdleShare)} (${pct(machine.peakNotIdleShare)})` : notMeasured(footprint),
    // Two decimals, as uptime and top print it.
    machine ? `${machine.loadAverage1m.start.toFixed(2)} → ${machine.loadAverage1m.end.toFixed(2)}` : notMeasured(footprint),
  ];
}

/** `timer thread 3%`, `2 history writers ≥1%` (of a core, as the cell's other figures; ≥: one ended or was first seen during the phase). */
function helperText(helper: NonNullable<FootprintFigures['helperThreadShares']>[number]): string {
  const what = helper.threads === 1 ? helper.kind : `${helper.threads} ${helper.kind}s`;
  return `${what} ${helper.lowerBound ? '≥' : ''}${pct(helper.coreShare)}`;
}

function redisCell(footprint: Footprint, f: FootprintFigures): string {
  const { unmeasured, servers } = footprint.redis;
  if (unmeasured !== null) return `not measured (${unmeasured})`;
  if (f.redisCoreShare === null) return 'not measured';
  const busiest = [...servers].filter((s) => s.cpuSeconds !== null).sort((a, b) => b.cpuSeconds! - a.cpuSeconds!)[0];
  const wallSeconds = footprint.wallMs / 1000;
  const atLeast = servers.some((s) => s.lowerBound) ? 'at least ' : '';
  const busiestText = busiest && servers.length > 1 && wallSeconds > 0 ? `; busiest ${busiest.id} ${pct(busiest.cpuSeconds! / wallSeconds)}` : '';
  return `${atLeast}${ofCore(f.redisCoreShare)}, ${servers.length} server${servers.length === 1 ? '' : 's'}${busiestText}`;
}

/** Why a run has no footprint: a result file can say no more than this. */
export function footprintMissingReason(result: ResultFile): string {
  return result.mergedFrom
    ? 'not kept in a merged result (each load generator measured its own machine: see the inputs)'
    : 'not in this result (written before result schemaVersion 3, or stopped before its measured phase)';
}

export interface FootprintWarning {
  title: string;
  text: string;
}

/**
 * A warning when a run's generator or its whole machine was short of CPU (SHORT_OF_CPU), with
 * the highest figures of the runs concerned; undefined when none was, or nothing was measured.
 */
export function footprintWarning(runs: readonly Run[]): FootprintWarning | undefined {
  const short = runs.flatMap((run) => {
    if (!run.footprint) return [];
    const f = footprintFigures(run.footprint, run.load.workers);
    return f.generatorShort || f.machineShort ? [{ run, f }] : [];
  });
  if (short.length === 0) return undefined;
  const max = (values: (number | null)[]) => Math.max(...values.filter((v): v is number => v !== null));
  const names = short.map((s) => runName(s.run)).join(', ');
  const which =
    runs.length === 1
      ? names
      : `${short.length === runs.length ? `all ${runs.length} runs` : `${short.length} of ${runs.length} runs`}${short.length <= 3 ? ` (${names})` : ''}`;
  const clauses: string[] = [];
  const generator = short.filter((s) => s.f.generatorShort);
  if (generator.length > 0) {
    const share = max(generator.map((s) => s.f.busiestGeneratorCoreShare ?? s.f.tokenbenchCoreShare));
    // Results written before the scheduler was recorded spun too.
    const polls = generator.some((s) => s.run.load.mode === 'open' && (s.run.load.scheduler ?? 'spin') === 'spin');
    clauses.push(
      `the load generator's busiest thread used up to ${ofCore(share)}${polls ? ' (the open loop busy-waits close to each due time, so part of that is waiting; the schedule slip says whether it launched late)' : ''}`,
    );
  }
  const machine = short.filter((s) => s.f.machineShort);
  if (machine.length > 0) {
    const parts = [
      `tokenbench up to ${pct(max(machine.map((s) => s.f.tokenbenchMachineShare)))}`,
      ...(machine.some((s) => s.f.redisCoreShare !== null)
        ? [`Redis up to ${pct(max(machine.map((s) => s.f.redisCoreShare && s.f.redisCoreShare / s.run.footprint!.machine!.cpus)))}`]
        : []),
      ...(machine.some((s) => s.f.otherMachineShare !== null) ? [`other processes up to ${pct(max(machine.map((s) => s.f.otherMachineShare)))}`] : []),
      `steal up to ${pct(max(machine.map((s) => s.f.stealShare)))}`,
    ];
    clauses.push(`the machine was up to ${pct(max(machine.map((s) => s.f.notIdleShare)))} busy (of its CPUs: ${parts.join(', ')})`);
  }
  return {
    title: 'Short of CPU',
    text: `In ${which}, ${clauses.join(', and ')} during the measured phase (limits: ${pct(SHORT_OF_CPU.generatorCoreShare)} of a core for a generator thread, ${pct(SHORT_OF_CPU.machineNotIdleShare)} of the machine). Latencies may then include time spent waiting for a CPU, in the generator or in Redis.`,
  };
}

/** The suite in one line: the highest figure of any run, for the HTML header; undefined when no run was measured. */
export function footprintSuiteSummary(runs: readonly Run[]): string | undefined {
  const measured = runs.flatMap((run) => (run.footprint ? [footprintFigures(run.footprint, run.load.workers)] : []));
  if (measured.length === 0) return undefined;
  const highest = (pick: (f: FootprintFigures) => number | null): number | null => {
    const values = measured.map(pick).filter((v): v is number => v !== null);
    return values.length === 0 ? null : Math.max(...values);
  };
  const upTo = measured.length > 1 ? 'up to ' : '';
  const parts = [
    ['load generator', highest((f) => f.busiestGeneratorCoreShare), ofCore],
    ['tokenbench', highest((f) => f.tokenbenchCoreShare), ofCore],
    ['Redis', highest((f) => f.redisCoreShare), ofCore],
    ['machine busy + steal', highest((f) => f.notIdleShare), pct],
    ['steal', highest((f) => f.stealShare), pct],
  ] as const;
  return parts
    .filter(([, value]) => value !== null)
    .map(([what, value, format]) => `${what} ${upTo}${format(value!)}`)
    .join(', ');
}
