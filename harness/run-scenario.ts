import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { isAbortError, NetworkUnsupportedError } from '../core/errors.ts';
import { assertSecretsGiven, redactSecrets } from '../core/secrets.ts';
import { gitSha, TOKENBENCH_VERSION } from '../core/version.ts';
import { type ResultFile, SCHEMA_VERSION } from '../result/schema.ts';
import { suiteVerdict } from '../result/verdict.ts';
import { DEFAULT_IMAGE } from '../topologies/container/docker.ts';
import { isNetworkFault } from '../topologies/faults.ts';
import { networkFaultSupport } from '../topologies/network/nft.ts';
import { type RedisBinary, resolveRedisServer } from '../topologies/process/redis-binary.ts';
import { type ProgressInfo, runStrategy, type StageInfo } from './runner.ts';
import { expandTopologies, normalizeScenario, type Scenario, type ScenarioInput, type ScenarioPart, serverCommand } from './scenario.ts';
import { refuseStartInPast } from './shard.ts';

export interface RunScenarioOptions {
  /** Where result.json, scenario.json and the history files go; created if missing. */
  outDir: string;
  /** Aborted (Ctrl-C): the load stops, faults are healed, the topology is stopped and the partial result is returned, marked interrupted. */
  signal?: AbortSignal;
  /** About once a second during each run's warm-up and measured phase. */
  onProgress?: (progress: ProgressInfo) => void;
  /** When a run moves to its next stage (starting the topology, logging in, settling, checking...). */
  onStage?: (stage: StageInfo) => void;
}

/**
 * Runs a scenario: every strategy on a fresh topology (for every entry of its `topologies` matrix),
 * under load and faults, checked. The library's way to run, and what `tokenbench run` and
 * `tokenbench decide` call. result.json is rewritten after every strategy run, so an interrupted
 * or crashed run keeps what it measured; the result is returned as written.
 */
export async function runScenario(input: Scenario | ScenarioInput, options: RunScenarioOptions): Promise<ResultFile> {
  const scenario = normalizeScenario(input);
  refuseStartInPast(scenario);
  assertSecretsGiven(scenario);
  // Result files get attached to reviews: what is written and returned never holds a secret.
  const written = redactSecrets(scenario);
  const signal = options.signal ?? new AbortController().signal;
  const parts = expandTopologies(scenario);
  await refuseUnsupportedNetworkFaults(parts);
  mkdirSync(options.outDir, { recursive: true });
  const result: ResultFile = {
    tool: 'tokenbench',
    tokenbenchVersion: TOKENBENCH_VERSION,
    schemaVersion: SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    interrupted: false,
    environment: {
      tokenbench: TOKENBENCH_VERSION,
      gitSha: gitSha(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      redis: await describeRedis(parts, scenario.servers),
      // A strategy module's engine is its own, and an HTTP service's unknown: each of their runs names it.
      jwtEngines: [
        ...new Set(
          scenario.strategies.flatMap((e) =>
            typeof e === 'object' && ('module' in e || 'http' in e) ? [] : [(typeof e === 'string' ? undefined : e.jwt?.engine) ?? scenario.jwt.engine],
          ),
        ),
      ],
    },
    scenario: written as unknown as Record<string, unknown>,
    runs: [],
    verdict: suiteVerdict([]),
  };
  const resultPath = join(options.outDir, 'result.json');
  const save = () => {
    result.verdict = suiteVerdict(result.runs);
    writeFileSync(
      resultPath,
      `${JSON.stringify(result, null, 2)}
`,
    );
  };
  // The scenario as run, defaults filled in: `tokenbench run --scenario <out>/scenario.json` reproduces it (secrets given again).
  writeFileSync(
    join(options.outDir, 'scenario.json'),
    `${JSON.stringify(written, null, 2)}
`,
  );
  // Marked on disk the moment the signal comes: a second signal quits at once (process.exit), and
  // the file it leaves must not claim a complete suite.
  const markInterrupted = () => {
    result.interrupted = true;
    save();
  };
  signal.addEventListener('abort', markInterrupted, { once: true });
  try {
    let index = 0;
    const count = parts.reduce((n, part) => n + part.strategies.length, 0);
    for (const part of parts) {
      for (let i = 0; i < part.strategies.length && !signal.aborted; i++) {
        const position = { index, count };
        const { onProgress, onStage } = options;
        const run = await runStrategy(part, i, {
          outDir: options.outDir,
          index: index++,
          signal,
          ...(onProgress && { onProgress: (progress) => onProgress({ run: position, ...progress }) }),
          ...(onStage && { onStage: (stage) => onStage({ run: position, ...stage }) }),
        });
        result.runs.push(run);
        result.interrupted ||= run.interrupted;
        save();
      }
    }
  } catch (error) {
    // The one place an abort becomes "interrupted": a stage stopped by the signal throws its
    // AbortError and the partial result is the answer. Any other error is a failure of its own and
    // propagates even when it coincides with a Ctrl-C (result.json is saved all the same).
    if (!(signal.aborted && isAbortError(error))) throw error;
  } finally {
    signal.removeEventListener('abort', markInterrupted);
    result.interrupted ||= signal.aborted;
    save();
  }
  return result;
}

/**
 * What served Redis, for the environment: every server of the suite (each process binary's name and
 * version, images, external deployments). Resolving the binaries here also refuses a missing one,
 * naming its servers entry, before any run starts.
 */
async function describeRedis(parts: readonly ScenarioPart[], servers: Scenario['servers']): Promise<string> {
  const commands = [...new Set(parts.flatMap((p) => (p.topology.backend === 'process' ? [p.topology.redisServer] : [])))];
  const binaries: RedisBinary[] = [];
  for (const command of commands) {
    const index = servers?.findIndex((entry) => serverCommand(entry) === command) ?? -1;
    binaries.push(await resolveRedisServer(command, index >= 0 ? `servers[${index}]` : undefined));
  }
  const topologies = parts.map((p) => p.topology);
  return [
    ...new Set(binaries.map((binary) => `${binary.flavor} ${binary.version}`)),
    ...new Set(topologies.filter((t) => t.backend === 'container').map((t) => `image ${t.image ?? DEFAULT_IMAGE}`)),
    ...(topologies.some((t) => t.backend === 'external') ? ['external deployment'] : []),
  ].join(', ');
}

/**
 * A network fault this machine cannot apply (not Linux, not root, no nft; python3 for delay) is
 * refused before anything starts, in one line: found at the fault's time, it would leave a run
 * that measured no fault.
 */
async function refuseUnsupportedNetworkFaults(parts: readonly ScenarioPart[]): Promise<void> {
  const faults = parts.flatMap((part) => part.faults).filter((fault) => isNetworkFault(fault.action));
  if (faults.length === 0) return;
  const why = await networkFaultSupport({ delay: faults.some((fault) => fault.action === 'delay') });
  if (why) throw new NetworkUnsupportedError(`${[...new Set(faults.map((fault) => fault.action))].join(', ')}: ${why}`);
}
