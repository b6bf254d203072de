import { resolve } from 'node:path';
import { EXIT_CODES } from '../core/errors.ts';
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

/**
 * Runs a scenario as the CLI shows it (run, decide): Redis installed if it can be, a progress
 * line on a terminal (quiet in CI and with --json), Ctrl-C handled (the first stops the load,
 * heals and writes the partial result; a second quits at once with 130), and the reports written
 * beside result.json.
 */
export async function runShown(scenario: Scenario, outDir: string, { quiet = false }: { quiet?: boolean } = {}): Promise<ShownRun> {
  const processTopology = expandTopologies(scenario).find((part) => part.topology.backend === 'process')?.topology;
  if (processTopology?.backend === 'process') await ensureRedisServer(processTopology.redisServer);
  for (const warning of scenarioWarnings(scenario)) process.stderr.write(`tokenbench: warning: ${warning}\n`);
  const interactive = Boolean(process.stderr.isTTY) && !quiet && process.env.CI !== 'true';
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
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: ResultFile;
  try {
    result = await runScenario(scenario, {
      outDir,
      signal: abort.signal,
      ...(interactive && {
        onStage: ({ label, topology, stage }) => process.stderr.write(`\r\x1b[K[${label} on ${topology}] ${stage}\n`),
        onProgress: (p) =>
          process.stderr.write(
            `\r\x1b[K[${p.label} on ${p.topology}] ${(p.elapsedMs / 1000).toFixed(0)}/${(p.durationMs / 1000).toFixed(0)}s  ${p.opsPerSec} ops/s  p99 ${formatMs(p.p99Ms)} ms  errors ${p.errors}  degraded ${p.degraded}  ${p.phase}${p.lastFault ? `  last fault: ${p.lastFault}` : ''}`,
          ),
      }),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (interactive) process.stderr.write('\r\x1b[K');
  }
  const reports = writeReports(result, outDir, (file, error) => process.stderr.write(`tokenbench: ${file} not written: ${error.message}\n`));
  return { result, resultPath: resolve(outDir, 'result.json'), reports };
}
