import { join, resolve } from 'node:path';
import { parseDurationMs } from '../core/duration.ts';
import { EXIT_CODES, InvalidOptionError } from '../core/errors.ts';
import { formatMs, formatSignedMs } from '../core/format.ts';
import { loadScenarioFile, normalizeScenario, type Scenario, scenarioLabel } from '../harness/scenario.ts';
import { refuseStartInPast } from '../harness/shard.ts';
import { footprintWarning } from '../reports/footprint.ts';
import { summaryTable } from '../reports/markdown.ts';
import { parseCiFormats } from '../reports/outputs/formats.ts';
import { verdictLines } from '../reports/phrases.ts';
import { writeCiOutputs } from '../reports/write-reports.ts';
import { isModuleFile } from '../strategies/module.ts';
import { BACKEND_FLAGS, backendFromFlags, commandLineSecretWarning, passwordsFromEnvironment } from './backend-flags.ts';
import { type FlagValues, fieldsAt, flagForField, intFlag, parseFlags } from './flags.ts';
import { RUN_FLAGS, RUN_HELP, RUN_USAGE } from './run-flags.ts';
import { catchInterrupts, runShown } from './run-ui.ts';
import { UsageError } from './usage-error.ts';

export { RUN_HELP } from './run-flags.ts';

/** Scenario field -> the flag that sets it, so a validation error names what the user typed. */
const FLAG_FOR_PATH = flagForField(RUN_FLAGS, fieldsAt('topology', BACKEND_FLAGS));

type FaultFlag = {
  action: string;
  target?: string;
  at: number;
  for?: number;
  from?: string;
  direction?: 'outbound' | 'inbound';
  loss?: number;
  delay?: number;
  jitter?: number;
};

const FAULT_FLAG_EXPECTED =
  'action[:target]@time[+for], e.g. kill:primary@10s, pause:primary@5s+5s; network: partition:primary|sentinels@10s+5s, loss:primary|replicas:10%@5s+5s, delay:primary|replicas:50ms~10ms@5s+10s';
/** Words a side can be written with in the short `primary-replicas` form (node ids have dashes of their own). */
const SIDE_WORD = '(primary|replicas?|sentinels?|rest)';

/**
 * `kill:primary@10s+5s` -> { action, target, at, for }. Network faults name two sides: `a|b` (both
 * ways), `a>b` (only a's packets to b), `a<b` (only b's packets to a), or `a-b` for two plain words;
 * loss and delay end with their amount: `:10%`, `:50ms`, `:50ms~10ms` (jitter).
 */
export function parseFaultFlag(text: string): FaultFlag {
  const match = /^([a-z]+)(?::([^@]*))?@([^+]+)(?:\+(.+))?$/.exec(text.trim());
  if (!match) throw new InvalidOptionError('--fault', FAULT_FLAG_EXPECTED, text);
  const [, action, targetText, at, forText] = match;
  const flag: FaultFlag = {
    action: action!,
    at: parseDurationMs(at!, '--fault (time)'),
    ...(forText && { for: parseDurationMs(forText, '--fault (+for)') }),
  };
  let sides = targetText ?? '';
  if (action === 'loss' || action === 'delay') {
    const cut = sides.lastIndexOf(':');
    const amount = sides.slice(cut + 1);
    sides = cut < 0 ? '' : sides.slice(0, cut);
    if (action === 'loss') {
      const percent = /^(\d+(?:\.\d+)?)%$/.exec(amount);
      if (!percent) throw new InvalidOptionError('--fault (loss)', 'a percentage at the end, e.g. loss:primary|replicas:10%@5s', text);
      flag.loss = Number(percent[1]);
    } else {
      const [delay, jitter] = amount.split('~');
      flag.delay = parseDurationMs(delay!, '--fault (delay)');
      if (jitter !== undefined) flag.jitter = parseDurationMs(jitter, '--fault (jitter)');
    }
  }
  const split = /^([^|<>]+)([|<>])(.+)$/.exec(sides) ?? new RegExp(`^${SIDE_WORD}(-)${SIDE_WORD}$`).exec(sides);
  if (split) {
    flag.target = split[1]!;
    flag.from = split[3]!;
    if (split[2] === '>') flag.direction = 'outbound';
    if (split[2] === '<') flag.direction = 'inbound';
  } else if (sides) flag.target = sides;
  return flag;
}

/** `--shard 2/4` -> { index: 2, count: 4 }; the schema then checks the numbers. */
export function parseShardFlag(text: string): { index: number; count: number } {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new InvalidOptionError('--shard', '<index>/<count> with the index from 0, e.g. 0/4', text);
  return { index: Number(match[1]), count: Number(match[2]) };
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

/** `--strategy ./denylist.mjs` is a file (against the cwd), `module:@team/auth-bench` a package; a bare name stays one of ours. */
function strategyFlagEntry(value: string): string | { module: string } {
  if (value.startsWith('module:')) return { module: value.slice('module:'.length) };
  return isModuleFile(value) ? { module: value } : value;
}

export function scenarioFromFlags(values: Values, env: NodeJS.ProcessEnv = process.env): Scenario {
  const base: Record<string, unknown> = values.scenario ? (structuredClone(loadScenarioFile(values.scenario)) as unknown as Record<string, unknown>) : {};
  const set = (path: string, value: unknown) => value !== undefined && setPath(base, path, value);
  if (values.topology !== undefined) {
    base.topology = { ...(base.topology as object | undefined), kind: values.topology };
    delete base.topologies;
  }
  const backend = backendFromFlags(values);
  if (backend.kind !== undefined) {
    // An address names one deployment: it replaces the file's topology (and matrix).
    if (values.topology !== undefined && values.topology !== backend.kind)
      throw new UsageError(`--topology ${values.topology}: the addresses given describe a ${String(backend.kind)} deployment`);
    base.topology = backend;
    delete base.topologies;
  } else if (Object.keys(backend).length > 0) {
    // --backend container on a matrix runs the whole matrix in containers.
    if (Array.isArray(base.topologies)) for (const entry of base.topologies as { topology?: object }[]) entry.topology = { ...entry.topology, ...backend };
    else base.topology = { kind: 'single', ...(base.topology as object | undefined), ...backend };
  }
  if (values.strategy !== undefined)
    base.strategies = values.strategy
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(strategyFlagEntry);
  if (values.server !== undefined)
    base.servers = values.server
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (values['redis-conf'] !== undefined) {
    // Like --backend: on a matrix, every entry gets the lines.
    const lines = values['redis-conf'];
    const withLines = (topology: Record<string, unknown>) => ({
      ...topology,
      extraConfig: [...((topology.extraConfig as string[] | undefined) ?? []), ...lines],
    });
    if (Array.isArray(base.topologies))
      for (const entry of base.topologies as { topology?: Record<string, unknown> }[]) entry.topology = withLines(entry.topology ?? {});
    else base.topology = withLines((base.topology as Record<string, unknown> | undefined) ?? { kind: 'single' });
  }
  if (values.quick) for (const [path, value] of Object.entries(RUN_FLAGS.quick.sets)) set(path, value);
  set('load.rate', values.rate === undefined ? undefined : Number(values.rate));
  set('load.mode', values.mode);
  set('load.concurrency', intFlag(values.concurrency, '--concurrency', 1));
  set('load.duration', values.duration);
  set('load.warmup', values.warmup);
  set('load.shard', values.shard === undefined ? undefined : parseShardFlag(values.shard));
  set('load.startAt', values['start-at']);
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
  for (const threshold of values.threshold ?? []) {
    const i = threshold.indexOf('=');
    if (i <= 0) throw new InvalidOptionError('--threshold', 'metric=limit, e.g. verify.steady.p99=10ms or violations=0', threshold);
    base.thresholds = { ...(base.thresholds as object | undefined), [threshold.slice(0, i).trim()]: threshold.slice(i + 1).trim() };
  }
  if (values.exec !== undefined) base.service = { ...(base.service as object | undefined), command: values.exec };
  set('service.ready.url', values['ready-url']);
  set('service.ready.timeout', values['ready-timeout']);
  for (const assignment of values['exec-env'] ?? []) {
    const i = assignment.indexOf('=');
    if (i <= 0) throw new InvalidOptionError('--exec-env', 'NAME=value, e.g. LOG_LEVEL=warn', assignment);
    setPath(base, 'service.env', { ...(base.service as { env?: object } | undefined)?.env, [assignment.slice(0, i)]: assignment.slice(i + 1) });
  }
  for (const assignment of values.set ?? []) {
    const i = assignment.indexOf('=');
    if (i <= 0) throw new InvalidOptionError('--set', 'path=value, e.g. client.failoverDetector=false', assignment);
    setPath(base, assignment.slice(0, i), parseSetValue(assignment.slice(i + 1)));
  }
  const byFlag = { byFlag: backend.password !== undefined };
  passwordsFromEnvironment(base.topology as Record<string, unknown> | undefined, env, byFlag);
  if (Array.isArray(base.topologies))
    for (const entry of base.topologies as { topology?: Record<string, unknown> }[]) passwordsFromEnvironment(entry.topology, env, byFlag);
  if (values.rate !== undefined && !Number.isFinite(Number(values.rate)))
    throw new InvalidOptionError('--rate', 'a number of operations per second', values.rate);
  return normalizeScenario(base, (path) => {
    const dotted = scenarioLabel(path);
    const flag = Object.entries(FLAG_FOR_PATH).find(([p]) => dotted === p || dotted.startsWith(`${p}[`) || dotted.startsWith(`${p}.`));
    return flag ? `${flag[1]} (${dotted})` : dotted;
  });
}

import type { ResultFile } from '../result/schema.ts';

export type { ResultFile } from '../result/schema.ts';

/** A shard's run says where its measured phase began, and that its thresholds wait for the merge. */
function shardLines(result: ResultFile): string[] {
  return result.runs.flatMap(({ shard }) => {
    if (!shard) return [];
    const clock =
      shard.clockOffsetMs === null
        ? 'not measured (Redis TIME refused)'
        : `${formatSignedMs(shard.clockOffsetMs)} ms (within ${formatMs(shard.clockOffsetUncertaintyMs)} ms)`;
    return [
      `shard ${shard.index}/${shard.count}: measured phase from ${shard.startAt}, ${formatSignedMs(shard.startedAtWallMs - Date.parse(shard.startAt))} ms on this clock; this clock against Redis TIME ${clock}`,
      `  thresholds: checked by tokenbench merge on the merged result of all ${shard.count} shards`,
    ];
  });
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, RUN_USAGE.flags, RUN_USAGE.command);
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`run: unexpected argument '${positionals[0]}' (a scenario file goes after --scenario)`);
  const scenario = scenarioFromFlags(values);
  refuseStartInPast(scenario, values['start-at'] === undefined ? 'load.startAt' : '--start-at (load.startAt)');
  // Checked before anything runs: a typo costs no run.
  const ciFormats = values['ci-outputs'] === undefined ? [] : parseCiFormats(values['ci-outputs']);
  const warning = commandLineSecretWarning(values);
  if (warning) process.stderr.write(warning);
  const outDir = resolve(values.out ?? join('results', new Date().toISOString().replace(/[:.]/g, '-')));
  const interrupts = catchInterrupts();
  try {
    const shown = await runShown(scenario, outDir, { quiet: values.json ?? false, signal: interrupts.signal });
    if (!shown) return EXIT_CODES.interrupted;
    const { result, resultPath } = shown;
    const ciOutputs = await writeCiOutputs(result, outDir, ciFormats, (file, error) =>
      process.stderr.write(`tokenbench: ${file} not written: ${error.message}\n`),
    );
    const reports = [...shown.reports, ...ciOutputs];
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write(`\n${summaryTable(result.runs).join('\n')}\n\n`);
      const { headline, reasons, thresholds, anomalies } = verdictLines(result);
      process.stdout.write(`verdict: ${headline}\n`);
      for (const line of [...reasons, ...thresholds.filter((t) => !t.ok).map((t) => t.line), ...anomalies]) process.stdout.write(`  ${line}\n`);
      for (const line of shardLines(result)) process.stdout.write(`${line}\n`);
      const shortOfCpu = footprintWarning(result.runs);
      if (shortOfCpu) process.stdout.write(`\n${shortOfCpu.title}: ${shortOfCpu.text}\n`);
      process.stdout.write(`\nresult: ${resultPath}${result.interrupted ? ' (interrupted: partial)' : ''}\n`);
      for (const path of reports) process.stdout.write(`report: ${path}\n`);
    }
    if (result.interrupted) return EXIT_CODES.interrupted;
    return result.verdict.thresholdsBroken > 0 ? EXIT_CODES.thresholdsBroken : EXIT_CODES.ok;
  } finally {
    interrupts.finish();
  }
}
