import { resolve } from 'node:path';
import { EXIT_CODES, isAbortError } from '../core/errors.ts';
import { runScenario } from '../harness/run-scenario.ts';
import type { ProgressInfo, StageInfo } from '../harness/runner.ts';
import { expandTopologies, type Scenario, scenarioWarnings } from '../harness/scenario.ts';
import { writeReports } from '../reports/write-reports.ts';
import type { ResultFile } from '../result/schema.ts';
import { ensureRedisServer } from './install-redis.ts';
import { fitColumns, liveLine, logLine, plannedRuns, type Status, SuiteProgress } from './suite-progress.ts';

export interface ShownRun {
  result: ResultFile;
  resultPath: string;
  reports: string[];
}

/** Set to 1, every stage of a run is a line on stderr even off a terminal: for CI logs, and for tests that act at a stage. */
export const STAGES_ENV = 'TOKENBENCH_STAGES';

/** A command's Ctrl-C and SIGTERM: the first aborts `signal`, a second quits at once with 130. */
export interface Interrupts {
  readonly signal: AbortSignal;
  /**
   * The command is done; the process may still take a moment to exit (connections closing). A
   * signal from now on quits at once with 130: there is nothing left to stop or write.
   */
  finish(): void;
}

/**
 * Installed for the whole of a command (`run`, `decide`), before anything slow, so that a signal
 * at any moment (installing Redis, between two scenarios, writing reports) is ours and says one line.
 * Servers still die on the second signal: topologies/exit-cleanup.ts kills them on exit.
 */
export function catchInterrupts(): Interrupts {
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\n${signal}: stopping the load, healing faults, writing the partial result (again to quit at once)\n`);
      abort.abort();
    } else {
      process.exit(EXIT_CODES.interrupted);
    }
  };
  const quit = () => process.exit(EXIT_CODES.interrupted);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    finish: () => {
      for (const name of ['SIGINT', 'SIGTERM'] as const) {
        process.off(name, onSignal);
        process.on(name, quit);
      }
    },
  };
}

/** Where a scenario's runs sit in a longer plan (decide's scenarios): they count across all of it. */
export interface PlanProgress {
  suite: SuiteProgress;
  /** This scenario's place in the plan given to the suite. */
  scenario: number;
}

/** Off a terminal, a progress line at most this often between stage lines: a CI log gets a pulse, not a flood. */
const LOG_PROGRESS_EVERY_MS = 5000;
/** On a terminal the line moves on between the harness's ticks (a second apart): a warm-up may last only one. */
const REPAINT_EVERY_MS = 250;

interface ProgressDisplay {
  onStage(stage: StageInfo): void;
  onProgress(progress: ProgressInfo): void;
  /** The scenario is over; `completed`: its last run ran to the end (not cut short by a signal or an error). */
  close(completed: boolean): void;
}

/** One line, rewritten in place; a line of its own for each run as it ends. */
function liveDisplay(suite: SuiteProgress, firstRun: number, stream: NodeJS.WriteStream): ProgressDisplay {
  let shown = '';
  const paint = () => {
    const status = suite.status();
    const line = status ? fitColumns(liveLine(status), stream.columns) : '';
    if (line === shown) return;
    shown = line;
    stream.write(`\r\x1b[K${line}`);
  };
  const ended = (status: Status | undefined) => {
    if (!status) return;
    stream.write(`\r\x1b[K${fitColumns(liveLine(status), stream.columns)}\n`);
    shown = '';
  };
  const repaint = setInterval(paint, REPAINT_EVERY_MS);
  repaint.unref();
  return {
    onStage: (stage) => {
      ended(suite.stage(firstRun + stage.run.index, stage));
      paint();
    },
    onProgress: (progress) => {
      suite.progress(firstRun + progress.run.index, progress);
      paint();
    },
    close: (completed) => {
      clearInterval(repaint);
      if (completed) ended(suite.finish());
      stream.write('\r\x1b[K');
    },
  };
}

/** A line per stage (the stage's own words first, as tests and CI logs read them), a progress line every few seconds, a line as each run ends. */
function logDisplay(suite: SuiteProgress, firstRun: number, stream: NodeJS.WriteStream, now = () => performance.now()): ProgressDisplay {
  let lastLineAt = Number.NEGATIVE_INFINITY;
  const write = (status: Status | undefined) => {
    if (!status) return;
    stream.write(`${logLine(status)}\n`);
    lastLineAt = now();
  };
  return {
    onStage: (stage) => {
      write(suite.stage(firstRun + stage.run.index, stage));
      const status = suite.status();
      write(status && { ...status, doing: stage.stage });
    },
    onProgress: (progress) => {
      suite.progress(firstRun + progress.run.index, progress);
      if (now() - lastLineAt >= LOG_PROGRESS_EVERY_MS) write(suite.status());
    },
    close: (completed) => {
      if (completed) write(suite.finish());
    },
  };
}

/** Off a terminal by default: a line as each run ends, so a CI log shows the suite moving without a flood. */
function runsDisplay(suite: SuiteProgress, firstRun: number, stream: NodeJS.WriteStream): ProgressDisplay {
  const write = (status: Status | undefined) => status && stream.write(`${logLine(status)}\n`);
  return {
    onStage: (stage) => write(suite.stage(firstRun + stage.run.index, stage)),
    onProgress: (progress) => suite.progress(firstRun + progress.run.index, progress),
    close: (completed) => {
      if (completed) write(suite.finish());
    },
  };
}

/**
 * Runs a scenario as the CLI shows it (run, decide): Redis installed if it can be, progress on
 * stderr (a line in place on a terminal; off one a line per finished run, or with
 * TOKENBENCH_STAGES=1 a line per stage; none with --json), and the reports written beside result.json.
 * With `signal` aborted (see catchInterrupts) the load stops, faults are healed and the partial
 * result is written and returned, marked interrupted; undefined only when the signal came while
 * Redis was being installed, before there was anything to write.
 */
export async function runShown(
  scenario: Scenario,
  outDir: string,
  { quiet = false, signal, plan }: { quiet?: boolean; signal: AbortSignal; plan?: PlanProgress },
): Promise<ShownRun | undefined> {
  // Only the default redis-server is ever installed; any other binary runScenario checks, naming its servers entry.
  const processTopology = expandTopologies(scenario).find(
    (part) => part.topology.backend === 'process' && part.topology.redisServer === 'redis-server',
  )?.topology;
  if (processTopology?.backend === 'process') {
    try {
      await ensureRedisServer(processTopology.redisServer, signal);
    } catch (error) {
      if (signal.aborted && isAbortError(error)) return undefined;
      throw error;
    }
  }
  for (const warning of scenarioWarnings(scenario)) process.stderr.write(`tokenbench: warning: ${warning}\n`);
  const interactive = Boolean(process.stderr.isTTY) && !quiet && process.env.CI !== 'true';
  const suite = plan?.suite ?? new SuiteProgress(plannedRuns([scenario]));
  const firstRun = plan ? suite.firstRunOf(plan.scenario) : 0;
  const display = interactive
    ? liveDisplay(suite, firstRun, process.stderr)
    : process.env[STAGES_ENV] === '1'
      ? logDisplay(suite, firstRun, process.stderr)
      : quiet
        ? undefined
        : runsDisplay(suite, firstRun, process.stderr);
  let result: ResultFile | undefined;
  try {
    result = await runScenario(scenario, {
      outDir,
      signal,
      ...(display && { onStage: display.onStage, onProgress: display.onProgress }),
    });
  } finally {
    display?.close(result !== undefined && !result.interrupted);
  }
  const reports = writeReports(result, outDir, (file, error) => process.stderr.write(`tokenbench: ${file} not written: ${error.message}\n`));
  return { result, resultPath: resolve(outDir, 'result.json'), reports };
}
