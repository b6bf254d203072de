import { formatElapsed, formatMs } from '../core/format.ts';
import type { ProgressInfo, RunStep, StageInfo } from '../harness/runner.ts';
import { expandTopologies, type Scenario } from '../harness/scenario.ts';

/** One run of a plan as known before it starts. */
export interface PlannedRun {
  /** Which scenario of the plan (decide runs several) and which of its topology entries: runs of one entry cost alike. */
  scenario: number;
  entry: number;
  /** Warm-up and measured phase: the part of a run the scenario fixes. */
  warmupMs: number;
  durationMs: number;
  /** What a run of this kind takes beyond its load, before any has finished (PRIOR_OVERHEAD_MS); absent: unknown. */
  priorOverheadMs?: number;
}

/**
 * Time beyond warm-up and measured phase per run, measured here (2 cores, Redis 7.0.15, npm start):
 * single about 1 s; Sentinel with a primary killed about 13.5 s (the restarted primary's demotion is
 * waited for); Cluster with one about 2.5 s. Without a fault an HA topology still starts and settles
 * its nodes. Only a first guess: finished runs of the same topology entry replace it.
 */
const PRIOR_OVERHEAD_MS: Record<string, { fault: number; none: number }> = {
  single: { fault: 1500, none: 1000 },
  sentinel: { fault: 13_500, none: 3000 },
  cluster: { fault: 2500, none: 2000 },
};

const loadMs = (run: PlannedRun) => run.warmupMs + run.durationMs;

/** Every run the scenarios will make, in the order runScenario makes them (each topology entry, each strategy). */
export function plannedRuns(scenarios: readonly Scenario[]): PlannedRun[] {
  return scenarios.flatMap((scenario, s) =>
    expandTopologies(scenario).flatMap((part, entry) =>
      part.strategies.map(() => {
        const prior = PRIOR_OVERHEAD_MS[part.topology.kind];
        return {
          scenario: s,
          entry,
          warmupMs: part.load.warmup,
          durationMs: part.load.duration,
          ...(prior && { priorOverheadMs: part.faults.length > 0 ? prior.fault : prior.none }),
        };
      }),
    ),
  );
}

export interface Estimate {
  leftMs: number;
  /**
   * Where the time beyond warm-up and measured phase (topology start, login, settle,
   * reconciliation, checks) came from: nothing finished yet and no first guess (planned phases
   * only, so a lower bound); some runs' guessed (PRIOR_OVERHEAD_MS) or borrowed from runs on
   * another topology entry; every run's learned from finished runs on its own entry.
   */
  basis: 'planned' | 'borrowed' | 'learned';
}

/**
 * What is left of `plan` when the runs before `doneMs.length` took `doneMs` each (wall time, all
 * included) and the current one has taken `currentMs` so far. A run's overhead is the mean of its
 * topology entry's finished runs: a Sentinel failover settles for seconds where a single server
 * has nothing to settle, so one mean for all would mislead.
 */
export function estimateLeft(plan: readonly PlannedRun[], doneMs: readonly number[], currentMs: number): Estimate {
  const overheads = doneMs.map((ms, i) => ({ run: plan[i]!, ms: Math.max(0, ms - loadMs(plan[i]!)) }));
  const mean = (xs: readonly { ms: number }[]) => xs.reduce((sum, x) => sum + x.ms, 0) / xs.length;
  let borrowed = false;
  const overheadOf = (run: PlannedRun): number => {
    const own = overheads.filter((o) => o.run.scenario === run.scenario && o.run.entry === run.entry);
    if (own.length > 0) return mean(own);
    borrowed = true;
    // A topology's own first guess beats another topology's mean: a single server has nothing to settle.
    if (run.priorOverheadMs !== undefined) return run.priorOverheadMs;
    return overheads.length > 0 ? mean(overheads) : 0;
  };
  let leftMs = 0;
  for (let i = doneMs.length; i < plan.length; i++) {
    const expectedMs = loadMs(plan[i]!) + overheadOf(plan[i]!);
    leftMs += i === doneMs.length ? Math.max(0, expectedMs - currentMs) : expectedMs;
  }
  const guessed = plan.slice(doneMs.length).some((run) => run.priorOverheadMs !== undefined);
  return { leftMs, basis: overheads.length === 0 && !guessed ? 'planned' : borrowed ? 'borrowed' : 'learned' };
}

/** A wall-clock span as a stopwatch shows it: `0:42`, `12:05`, `1:02:03`. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** `≥1:45 left (rough)` from the planned phases alone, `~2:10 left (rough)` while some overhead is guessed or borrowed, `~2:10 left`. */
export function formatLeft(estimate: Estimate): string {
  const clock = formatClock(estimate.leftMs);
  if (estimate.basis === 'planned') return `≥${clock} left (rough)`;
  return `~${clock} left${estimate.basis === 'borrowed' ? ' (rough)' : ''}`;
}

const seconds = (ms: number) => String(Number((ms / 1000).toFixed(2)));

/** Where a run is in its load: `warm-up 0.4/1s` (tenths: a warm-up is short), then `3/6s fault` (whole seconds done, and the phase). */
export function formatRunClock(p: Pick<ProgressInfo, 'elapsedMs' | 'warmupMs' | 'durationMs' | 'phase'>): string {
  if (p.elapsedMs < 0) {
    const intoWarmup = Math.min(p.warmupMs, Math.max(0, p.warmupMs + p.elapsedMs));
    return `warm-up ${(Math.floor(intoWarmup / 100) / 10).toFixed(1)}/${seconds(p.warmupMs)}s`;
  }
  const done = Math.floor(Math.min(p.elapsedMs, p.durationMs) / 1000);
  // The phase of a tick taken just before 0 is still 'warmup'; the measured phase has its own by the next one.
  return `${done}/${seconds(p.durationMs)}s${p.phase === 'warmup' ? '' : ` ${p.phase}`}`;
}

/** The figures of the last progress tick: `512 ops/s  p99 2.10 ms  errors 0  degraded 0  last fault: kill redis-0 @2.0s`. */
export function formatFigures(p: Pick<ProgressInfo, 'opsPerSec' | 'p99Ms' | 'errors' | 'degraded' | 'lastFault'>): string {
  return `${p.opsPerSec} ops/s  p99 ${formatMs(p.p99Ms)} ms  errors ${p.errors}  degraded ${p.degraded}${p.lastFault ? `  last fault: ${p.lastFault}` : ''}`;
}

/** Where the whole plan is: `run 3/15 · 0:42 elapsed · ~2:10 left`. */
export function formatSuite(s: { run: number; runs: number; elapsedMs: number; estimate: Estimate }): string {
  return `run ${s.run}/${s.runs} · ${formatClock(s.elapsedMs)} elapsed · ${formatLeft(s.estimate)}`;
}

/** What the current run is doing, and where the plan is, at one moment. */
export interface Status {
  /** 1-based, as shown. */
  run: number;
  runs: number;
  elapsedMs: number;
  estimate: Estimate;
  /** `blacklist on sentinel` */
  title: string;
  /** `healing faults and settling`, `warm-up 0.4/1s`, `3/6s steady  512 ops/s  ...` */
  doing: string;
}

/** The terminal's in-place line: the plan first, so that a narrow terminal cuts the figures, not the estimate. */
export function liveLine(s: Status): string {
  return `[${formatSuite(s)}] ${s.title}: ${s.doing}`;
}

/**
 * A line for a log (CI, TOKENBENCH_STAGES=1): `[blacklist on sentinel] healing faults and settling`
 * as before, so what reads stage lines keeps reading them, and where the plan is after it.
 */
export function logLine(s: Status): string {
  return `[${s.title}] ${s.doing}  (${formatSuite(s)})`;
}

/** A line fits a terminal `columns` wide (in place, a wrapped line could not be overwritten). */
export function fitColumns(line: string, columns: number | undefined): string {
  const chars = [...line];
  if (!columns || chars.length < columns) return line;
  return `${chars.slice(0, Math.max(0, columns - 2)).join('')}…`;
}

interface CurrentRun {
  index: number;
  startedAt: number;
  title: string;
  step: RunStep;
  stage: string;
  loadStartedAt?: number;
  /** The last tick: the run clock. */
  progress?: { info: ProgressInfo; at: number };
  /** The last tick whose figures cover enough of the measured phase to be a rate. */
  figures?: ProgressInfo;
}

/**
 * A tick's figures are a rate over the measured time since the tick before: one taken just after
 * the warm-up covers a few ms of it (a handful of ops, or none), which reads as nonsense.
 */
const FIGURES_MIN_WINDOW_MS = 500;

/**
 * The progress of a plan of runs (one scenario's, or all of decide's), fed with the harness's
 * stage and progress events by the plan's run index; knows nothing of terminals. A run starts at
 * its first stage and ends when the next one starts (or at finish()), so the runs' times add up
 * to the time elapsed.
 */
export class SuiteProgress {
  readonly #plan: readonly PlannedRun[];
  readonly #now: () => number;
  #startedAt: number | undefined;
  readonly #doneMs: number[] = [];
  #current: CurrentRun | undefined;

  constructor(plan: readonly PlannedRun[], now: () => number = () => performance.now()) {
    this.#plan = plan;
    this.#now = now;
  }

  /** Where the runs of the plan's `scenario`-th scenario start: their events count from there. */
  firstRunOf(scenario: number): number {
    const index = this.#plan.findIndex((run) => run.scenario === scenario);
    return index < 0 ? this.#plan.length : index;
  }

  /** A stage of the `index`-th run; when it starts that run, the one before is done and its last status is returned. */
  stage(index: number, info: StageInfo): Status | undefined {
    const now = this.#now();
    this.#startedAt ??= now;
    const finished = this.#current && this.#current.index !== index ? this.finish() : undefined;
    if (this.#current?.index !== index) this.#current = { index, startedAt: now, title: '', step: info.step, stage: info.stage };
    const current = this.#current;
    current.title = `${info.label} on ${info.topology}`;
    current.step = info.step;
    current.stage = info.stage;
    if (info.step === 'load') current.loadStartedAt = now;
    return finished;
  }

  progress(index: number, info: ProgressInfo): void {
    if (this.#current?.index !== index) return;
    this.#current.progress = { info, at: this.#now() };
    if (info.windowMs >= FIGURES_MIN_WINDOW_MS) this.#current.figures = info;
  }

  /** The current run is done (the plan's last, or the next has not started): its status as it ended, `done in 14.2 s`. */
  finish(): Status | undefined {
    const current = this.#current;
    if (!current) return undefined;
    const tookMs = this.#now() - current.startedAt;
    this.#doneMs[current.index] = tookMs;
    this.#current = undefined;
    return { ...this.#suite(current.index, current.index + 1, 0), title: current.title, doing: `done in ${formatElapsed(tookMs)}` };
  }

  /** What to show now; undefined before the first stage and between runs. */
  status(): Status | undefined {
    const current = this.#current;
    if (!current) return undefined;
    const now = this.#now();
    return { ...this.#suite(current.index, current.index, now - current.startedAt), title: current.title, doing: this.#doing(current, now) };
  }

  #suite(index: number, done: number, currentMs: number): Pick<Status, 'run' | 'runs' | 'elapsedMs' | 'estimate'> {
    // Every earlier run has ended here; a hole (a run whose stages never came) counts as planned rather than as nothing.
    const doneMs = Array.from({ length: done }, (_, i) => this.#doneMs[i] ?? (this.#plan[i] ? loadMs(this.#plan[i]) : 0));
    return {
      run: index + 1,
      runs: this.#plan.length,
      elapsedMs: this.#startedAt === undefined ? 0 : this.#now() - this.#startedAt,
      estimate: estimateLeft(this.#plan, doneMs, currentMs),
    };
  }

  #doing(current: CurrentRun, now: number): string {
    const planned = this.#plan[current.index];
    if (current.step !== 'load' || !planned) return current.stage;
    // The run clock is wall time from the end of the warm-up: between ticks (a second apart) it moves on with ours.
    const { progress, figures } = current;
    if (progress) {
      const clock = formatRunClock({ ...progress.info, elapsedMs: progress.info.elapsedMs + (now - progress.at) });
      return figures ? `${clock}  ${formatFigures(figures)}` : clock;
    }
    // Before the first tick the load stage is the start of the warm-up.
    return formatRunClock({ ...planned, elapsedMs: now - current.loadStartedAt! - planned.warmupMs, phase: 'warmup' });
  }
}
