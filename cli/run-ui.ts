import { resolve } from 'node:path';
import { EXIT_CODES, isAbortError } from '../core/errors.ts';
import { formatMs } from '../core/format.ts';
import { runScenario } from '../harness/run-scenario.ts';
import { expandTopologies, type Scenario, scenarioWarnings } from '../harness/scenario.ts';
import { writeReports } from '../reports/write-reports.ts';
import type { ResultFile } from '../result/schema.ts';
import { ensureRedisServer } from './install-redis.ts';

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

/**
 * Runs a scenario as the CLI shows it (run, decide): Redis installed if it can be, a progress
 * line on a terminal (quiet in CI and with --json), and the reports written beside result.json.
 * With `signal` aborted (see catchInterrupts) the load stops, faults are healed and the partial
 * result is written and returned, marked interrupted; undefined only when the signal came while
 * Redis was being installed, before there was anything to write.
 */
export async function runShown(
  scenario: Scenario,
  outDir: string,
  { quiet = false, signal }: { quiet?: boolean; signal: AbortSignal },
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
  const stageLines = !interactive && process.env[STAGES_ENV] === '1';
  let result: ResultFile;
  try {
    result = await runScenario(scenario, {
      outDir,
      signal,
      ...(interactive && {
        onStage: ({ label, topology, stage }) => process.stderr.write(`\r\x1b[K[${label} on ${topology}] ${stage}\n`),
        onProgress: (p) =>
          process.stderr.write(
            `\r\x1b[K[${p.label} on ${p.topology}] ${(p.elapsedMs / 1000).toFixed(0)}/${(p.durationMs / 1000).toFixed(0)}s  ${p.opsPerSec} ops/s  p99 ${formatMs(p.p99Ms)} ms  errors ${p.errors}  degraded ${p.degraded}  ${p.phase}${p.lastFault ? `  last fault: ${p.lastFault}` : ''}`,
          ),
      }),
      ...(stageLines && { onStage: ({ label, topology, stage }) => process.stderr.write(`[${label} on ${topology}] ${stage}\n`) }),
    });
  } finally {
    if (interactive) process.stderr.write('\r\x1b[K');
  }
  const reports = writeReports(result, outDir, (file, error) => process.stderr.write(`tokenbench: ${file} not written: ${error.message}\n`));
  return { result, resultPath: resolve(outDir, 'result.json'), reports };
}
