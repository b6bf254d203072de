import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_IMAGE } from '../topologies/container/docker.ts';
import { InvalidOptionError } from '../core/errors.ts';
import { parseDurationMs } from '../core/duration.ts';
import { parseResult, SCHEMA_VERSION, type ResultFile, type StrategyRunResult } from '../result/schema.ts';
import { runStrategy } from '../harness/runner.ts';
import { gitSha, TOKENBENCH_VERSION } from '../core/version.ts';
import { expandTopologies, loadScenarioFile, normalizeScenario, scenarioLabel, type Scenario } from '../harness/scenario.ts';
import { renderHtml } from '../reports/html.ts';
import { headlineFigures } from '../result/figures.ts';
import { renderMarkdown } from '../reports/markdown.ts';
import { fieldsAt, flagForField, intFlag, parseFlags, type FlagValues } from './flags.ts';
import { BACKEND_FLAGS, backendFromFlags } from './backend-flags.ts';
import { RUN_FLAGS, RUN_HELP, RUN_USAGE } from './run-flags.ts';
import { ensureRedisServer } from './install-redis.ts';
import { UsageError } from './usage-error.ts';

export { RUN_HELP } from './run-flags.ts';

/** Scenario field -> the flag that sets it, so a validation error names what the user typed. */
const FLAG_FOR_PATH = flagForField(RUN_FLAGS, fieldsAt('topology', BACKEND_FLAGS));

/** `kill:primary@10s+5s` -> { action, target, at, for } */
export function parseFaultFlag(text: string): { action: string; target?: string; at: number; for?: number } {
  const match = /^([a-z]+)(?::([a-z0-9:-]+))?@([^+]+)(?:\+(.+))?$/.exec(text.trim());
  if (!match) throw new InvalidOptionError('--fault', 'action[:target]@time[+for], e.g. kill:primary@10s or pause:primary@5s+5s', text);
  const [, action, target, at, forText] = match;
  return {
    action: action!,
    ...(target && { target }),
    at: parseDurationMs(at!, '--fault (time)'),
    ...(forText && { for: parseDurationMs(forText, '--fault (+for)') }),
  };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

function parseSetValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

type Values = FlagValues<typeof RUN_USAGE.flags>;

export function scenarioFromFlags(values: Values): Scenario {
  const base: Record<string, unknown> = values.scenario ? structuredClone(loadScenarioFile(values.scenario)) as unknown as Record<string, unknown> : {};
  const set = (path: string, value: unknown) => value !== undefined && setPath(base, path, value);
  if (values.topology !== undefined) {
    base.topology = { ...(base.topology as object | undefined), kind: values.topology };
    delete base.topologies;
  }
  const backend = backendFromFlags(values);
  if (backend.kind !== undefined) {
    // An address names one deployment: it replaces the file's topology (and matrix).
    if (values.topology !== undefined && values.topology !== backend.kind) throw new UsageError(`--topology ${values.topology}: the addresses given describe a ${String(backend.kind)} deployment`);
    base.topology = backend;
    delete base.topologies;
  } else if (Object.keys(backend).length > 0) {
    // --backend container on a matrix runs the whole matrix in containers.
    if (Array.isArray(base.topologies)) for (const entry of base.topologies as { topology?: object }[]) entry.topology = { ...entry.topology, ...backend };
    else base.topology = { kind: 'single', ...(base.topology as object | undefined), ...backend };
  }
  if (values.strategy !== undefined) base.strategies = values.strategy.split(',').map((s) => s.trim()).filter(Boolean);
  if (values.quick) for (const [path, value] of Object.entries(RUN_FLAGS.quick.sets)) set(path, value);
  set('load.rate', values.rate === undefined ? undefined : Number(values.rate));
  set('load.mode', values.mode);
  set('load.concurrency', intFlag(values.concurrency, '--concurrency', 1));
  set('load.duration', values.duration);
  set('load.warmup', values.warmup);
  set('jwt.engine', values.engine);
  set('jwt.alg', values.alg);
  set('workload.users', intFlag(values.users, '--users', 1));
  set('workload.seed', intFlag(values.seed, '--seed'));
  if (values.wait !== undefined) {
    const m = /^(\d+):(\d+)$/.exec(values.wait);
    if (!m) throw new InvalidOptionError('--wait', 'replicas:timeoutMs, e.g. 1:100', values.wait);
    set('policy.wait', { replicas: Number(m[1]), timeoutMs: Number(m[2]) });
  }
  if (values['fail-open']) for (const [path, value] of Object.entries(RUN_FLAGS['fail-open'].sets)) set(path, value);
  if (values.fault) base.faults = [...((base.faults as unknown[]) ?? []), ...values.fault.map(parseFaultFlag)];
  for (const assignment of values.set ?? []) {
    const i = assignment.indexOf('=');
    if (i <= 0) throw new InvalidOptionError('--set', 'path=value, e.g. client.failoverDetector=false', assignment);
    setPath(base, assignment.slice(0, i), parseSetValue(assignment.slice(i + 1)));
  }
  if (values.rate !== undefined && !Number.isFinite(Number(values.rate))) throw new InvalidOptionError('--rate', 'a number of operations per second', values.rate);
  return normalizeScenario(base, (path) => {
    const dotted = scenarioLabel(path);
    const flag = Object.entries(FLAG_FOR_PATH).find(([p]) => dotted === p || dotted.startsWith(`${p}[`) || dotted.startsWith(`${p}.`));
    return flag ? `${flag[1]} (${dotted})` : dotted;
  });
}

export type { ResultFile } from '../result/schema.ts';

function fmt(ms: number | undefined): string {
  return ms === undefined ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

export function summaryTable(runs: readonly StrategyRunResult[]): string {
  const lines = [
    '| strategy | topology | engine | ops/s | verify p50 ms | p99 | p99.9 | max | RTT/verify | revoked-accepted (violations) | valid-rejected | lost revocations | longest unavailability ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const v = r.latency.verify?.all;
    const f = headlineFigures(r);
    const orDash = (n: number | null) => (n === null ? '-' : String(n));
    lines.push(
      `| ${r.label}${r.interrupted ? ' (interrupted)' : ''} | ${r.topology.kind} | ${r.engine} ${r.alg} | ${r.load.achievedRate} | ${fmt(v?.p50)} | ${fmt(v?.p99)} | ${fmt(v?.p999)} | ${fmt(v?.max)} | ${r.redis.roundTripsPerVerify ?? '-'} | ${f.revokedAccepted === null ? '-' : `${f.revokedAccepted} (${f.violations})`} | ${orDash(f.validRejected)} | ${orDash(f.lostRevocations)} | ${f.longestUnavailabilityMs === null ? '-' : Math.round(f.longestUnavailabilityMs)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Markdown and HTML beside result.json; a renderer failing never loses the result. */
export function writeReports(result: ResultFile, outDir: string): string[] {
  const written: string[] = [];
  // Rendered from the file's own content, so `tokenbench report result.json` gives the same bytes.
  const fromFile = parseResult(JSON.parse(JSON.stringify(result)), join(outDir, 'result.json'));
  for (const [file, render] of [
    ['report.md', renderMarkdown],
    ['report.html', renderHtml],
  ] as const) {
    try {
      const path = join(outDir, file);
      writeFileSync(path, render(fromFile));
      written.push(path);
    } catch (error) {
      process.stderr.write(`tokenbench: ${file} not written: ${(error as Error).message}\n`);
    }
  }
  return written;
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, RUN_USAGE.flags, RUN_USAGE.command);
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`run: unexpected argument '${positionals[0]}' (a scenario file goes after --scenario)`);
  const scenario = scenarioFromFlags(values);
  const topologies = expandTopologies(scenario).map((s) => s.topology);
  const processTopology = topologies.find((t) => t.backend === 'process');
  const binary = processTopology ? await ensureRedisServer(processTopology.redisServer) : undefined;
  const redisDescription = [
    ...(binary ? [`${binary.flavor} ${binary.version}`] : []),
    ...new Set(topologies.filter((t) => t.backend === 'container').map((t) => `image ${t.image ?? DEFAULT_IMAGE}`)),
    ...(topologies.some((t) => t.backend === 'external') ? ['external deployment'] : []),
  ].join(', ');
  const outDir = resolve(values.out ?? join('results', new Date().toISOString().replace(/[:.]/g, '-')));
  mkdirSync(outDir, { recursive: true });
  const interactive = Boolean(process.stderr.isTTY) && !values.json && process.env.CI !== 'true';

  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\n${signal}: stopping the load, healing faults, writing the partial result (again to quit at once)\n`);
      abort.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

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
      redis: redisDescription,
      jwtEngines: [...new Set(scenario.strategies.map((e) => (typeof e === 'string' ? undefined : e.jwt?.engine) ?? scenario.jwt.engine))],
    },
    scenario: scenario as unknown as Record<string, unknown>,
    runs: [],
  };
  const resultPath = join(outDir, 'result.json');
  const save = () => writeFileSync(resultPath, `${JSON.stringify(result, null, 2)}\n`);
  // The scenario as run, defaults filled in: `tokenbench run --scenario <out>/scenario.json` reproduces it.
  writeFileSync(join(outDir, 'scenario.json'), `${JSON.stringify(scenario, null, 2)}\n`);
  try {
    let index = 0;
    for (const part of expandTopologies(scenario)) {
      for (let i = 0; i < part.strategies.length && !abort.signal.aborted; i++) {
        const run = await runStrategy(part, i, {
          outDir,
          index: index++,
          signal: abort.signal,
          ...(interactive && {
            onStage: (label: string, stage: string) => process.stderr.write(`\r\x1b[K[${label} on ${part.topology.kind}] ${stage}\n`),
            onProgress: (p) =>
              process.stderr.write(
                `\r\x1b[K[${p.label} on ${part.topology.kind}] ${(p.elapsedMs / 1000).toFixed(0)}/${(p.durationMs / 1000).toFixed(0)}s  ${p.opsPerSec} ops/s  p99 ${p.p99Ms.toFixed(1)} ms  errors ${p.errors}  degraded ${p.degraded}  ${p.phase}${p.lastFault ? `  last fault: ${p.lastFault}` : ''}`,
              ),
          }),
        });
        result.runs.push(run);
        result.interrupted = run.interrupted;
        save();
        if (interactive) process.stderr.write('\r\x1b[K');
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    result.interrupted ||= abort.signal.aborted;
    save();
  }
  const reports = writeReports(result, outDir);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(`\n${summaryTable(result.runs)}\n`);
    process.stdout.write(`result: ${resultPath}${result.interrupted ? ' (interrupted: partial)' : ''}\n`);
    for (const path of reports) process.stdout.write(`report: ${path}\n`);
  }
  return result.interrupted ? 130 : 0;
}
