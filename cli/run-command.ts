import { join, resolve } from 'node:path';
import { EXIT_CODES, InvalidOptionError } from '../core/errors.ts';
import { parseDurationMs } from '../core/duration.ts';
import { loadScenarioFile, normalizeScenario, scenarioLabel, type Scenario } from '../harness/scenario.ts';
import { summaryTable } from '../reports/markdown.ts';
import { intFlag, parseFlags } from './flags.ts';
import { BACKEND_FLAG_OF_FIELD, BACKEND_FLAGS, BACKEND_HELP, backendFromFlags } from './backend-flags.ts';
import { runShown } from './run-ui.ts';
import { UsageError } from './usage-error.ts';

export const RUN_HELP = `Usage: tokenbench run [--scenario <file.yaml|json>] [options]

Runs each strategy on a fresh topology under load while faults happen, checks the history,
and writes <out>/result.json (plus one history-*.ndjson per strategy). Flags override the file.

Load is open-loop by default: operations arrive at --rate whatever the server does, and latency
counts from when each one was due (coordinated omission corrected, HdrHistogram). --mode closed
runs --concurrency clients back to back instead, for maximum throughput (labelled as such).

Options:
  --scenario <file>        YAML or JSON scenario (see scenarios/ for examples)
  --topology <kind>        single | sentinel | cluster                              [single]
  --strategy <list>        pure,blacklist,whitelist,double-token (aliases denylist, allowlist) [blacklist]
  --rate <ops/s>           open-loop arrival rate                                   [1000]
  --mode <open|closed>     load model                                               [open]
  --concurrency <n>        closed loop: operations in flight                        [32]
  --duration <d>           measured phase, e.g. 30s                                 [10s]
  --warmup <d>             unmeasured load before it                                [2s]
  --fault <spec>           action[:target]@time[+for]; repeatable. Actions: kill, pause, resume,
                           restart, failover. Targets: primary, replica, sentinel, killed, paused,
                           shard-primary:<n>, a node id. e.g. kill:primary@10s, pause:primary@5s+5s
  --engine <jose|fast-jwt> JWT engine                                               [jose]
  --alg <alg>              ES256 | HS256 | EdDSA | RS256                            [ES256]
  --users <n>              distinct users                                           [10000]
  --seed <n>               seed of every random choice                              [1]
  --wait <replicas:ms>     WAIT after each revocation, e.g. 1:100                   [off]
  --fail-open              accept tokens when Redis is unreachable (default: reject)
  --set <path=value>       set any scenario field, e.g. --set client.failoverDetector=false
  --out <dir>              where result.json goes                                   [results/<timestamp>]
  --quick                  a smoke run: 300 ms warm-up, 3 s measured, 500 users (faults must fit)
  --json                   print the result as JSON on stdout, no progress
  -h, --help

${BACKEND_HELP}

Examples:
  tokenbench run --topology sentinel --strategy blacklist,whitelist --rate 2000 --duration 30s --fault kill:primary@10s
  tokenbench run --topology sentinel --strategy blacklist --wait 1:100 --fault kill:primary@10s --out results/wait
  tokenbench run --topology sentinel --fault pause:primary@5s+6s --set client.failoverDetector=false
  tokenbench run --scenario scenarios/sentinel-failover.yaml --duration 60s
  tokenbench run --scenario scenarios/default-suite.yaml --backend container --image tokenbench/redis:local
  tokenbench run --sentinels 10.0.0.5:26379,10.0.0.6:26379 --master-name mymaster --strategy blacklist --fault failover:primary@10s
  tokenbench run --strategy pure --mode closed --concurrency 64 --engine fast-jwt --alg HS256
  tokenbench run --scenario scenarios/default-suite.yaml --quick

Writes <out>/result.json, report.md, report.html, scenario.json and the history files.
`;

const FLAGS = {
  ...BACKEND_FLAGS,
  scenario: { type: 'string' },
  topology: { type: 'string' },
  strategy: { type: 'string' },
  rate: { type: 'string' },
  mode: { type: 'string' },
  concurrency: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  fault: { type: 'string', multiple: true },
  engine: { type: 'string' },
  alg: { type: 'string' },
  users: { type: 'string' },
  seed: { type: 'string' },
  wait: { type: 'string' },
  'fail-open': { type: 'boolean' },
  set: { type: 'string', multiple: true },
  out: { type: 'string' },
  quick: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const FLAG_FOR_PATH: Record<string, string> = {
  ...Object.fromEntries(Object.entries(BACKEND_FLAG_OF_FIELD).map(([field, flag]) => [`topology.${field}`, flag])),
  'topology.kind': '--topology',
  strategies: '--strategy',
  'load.rate': '--rate',
  'load.mode': '--mode',
  'load.concurrency': '--concurrency',
  'load.duration': '--duration',
  'load.warmup': '--warmup',
  faults: '--fault',
  'jwt.engine': '--engine',
  'jwt.alg': '--alg',
  'workload.users': '--users',
  'workload.seed': '--seed',
  'policy.wait': '--wait',
};

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

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];

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
  if (values.quick) {
    set('load.warmup', '300ms');
    set('load.duration', '3s');
    set('workload.users', 500);
  }
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
  if (values['fail-open']) set('policy.failure', 'fail-open');
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

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, 'run');
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`run: unexpected argument '${positionals[0]}' (a scenario file goes after --scenario)`);
  const scenario = scenarioFromFlags(values);
  const outDir = resolve(values.out ?? join('results', new Date().toISOString().replace(/[:.]/g, '-')));
  const { result, resultPath, reports } = await runShown(scenario, outDir, { quiet: values.json ?? false });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(`\n${summaryTable(result.runs).join('\n')}\n\n`);
    process.stdout.write(`result: ${resultPath}${result.interrupted ? ' (interrupted: partial)' : ''}\n`);
    for (const path of reports) process.stdout.write(`report: ${path}\n`);
  }
  return result.interrupted ? EXIT_CODES.interrupted : EXIT_CODES.ok;
}
