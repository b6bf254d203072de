import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { EXIT_CODES, InvalidOptionError } from '../core/errors.ts';
import { normalizeScenario } from '../harness/scenario.ts';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { parseDurationMs } from '../core/duration.ts';
import { TOKENBENCH_VERSION } from '../core/version.ts';
import { decide } from '../decide/decide.ts';
import { extractEvidence, type LoadedResult } from '../decide/evidence.ts';
import { faultAtMs, planLine, planRuns, DEFAULT_DECIDE_DURATION_MS } from '../decide/plan.ts';
import { renderDecisionRecord } from '../decide/record.ts';
import { loadRequirementsFile, type Requirements } from '../decide/requirements.ts';
import { SCHEMES } from '../decide/schemes.ts';
import { parseFlags } from './flags.ts';
import { runShown } from './run-ui.ts';
import { UsageError } from './usage-error.ts';

export const DECIDE_HELP = `Usage: tokenbench decide --requirements <req.yaml> [--result <result.json> ...] [options]

Turns what you need (revocation, latency, scale, behaviour when Redis fails) into a recommended
scheme, backed by measurements: pure JWT, blacklist, blacklist + WAIT, compact blacklist,
whitelist (+ WAIT) or double-token, on the Redis topologies you can run. Writes a decision record
(context, options x requirements with the measured figure and met / not met, decision, cost model,
consequences) to <out>/decision.md.

With --result, it decides from those results alone. Without, it runs what it needs first: every
scheme your requirements do not rule out by design, on every topology they allow, with the primary
killed on Sentinel and Cluster, plus a closed-loop run for per-node throughput. It says how many
runs and about how long before it starts.

Options:
  --requirements <file>    YAML or JSON requirements (see examples/decide/)          [required]
  --result <result.json>   use these results instead of running; repeatable
  --duration <d>           measured phase of each run it makes, e.g. 3s               [8s]
  --out <dir>              where decision.md and the runs go     [results/decide-<timestamp>]
  -h, --help

Requirements (every field optional; defaults in the README "Decide" section):
  revocation: { mode: none|logout|immediate|bounded, within: 5s, revokeAllDevices,
                maxSessionsPerUser, onlineUserCount, neverAcceptRevoked }
  latency:    { verifyP99: 10ms, verifyP999: 50ms, peakVerifyRate: 5000 }
  tokens:     { accessTtl: 15m, refreshTtl: 7d, leeway: 5s }
  scale:      { activeUsers, tokensPerUser, revocationsPerDay }
  redis:      { onFailure: deny|allow, ackedRevocationsMayBeLost, topologies: [single, sentinel,
                cluster], maxUnavailability: 5s }
  assumptions: { redisOpsPerNode }   an assumed per-primary throughput, marked as such

Examples:
  tokenbench decide --requirements examples/decide/internal-tool.yaml
  tokenbench decide --requirements examples/decide/shop-bans.yaml --duration 3s
  tokenbench decide --requirements examples/decide/bank-immediate.yaml --result results/<ts>/result.json
  tokenbench decide --requirements req.yaml --result a/result.json --result b/result.json --out docs/decision

Exit codes: 0 a decision record was written (even when no option qualifies: it says so),
1 a run failed, 2 bad requirements (a field, or contradictory requirements), flags or result files.
`;

const FLAGS = {
  requirements: { type: 'string' },
  result: { type: 'string', multiple: true },
  duration: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function environmentOf(results: readonly LoadedResult[]): string | undefined {
  const env = results[0]?.result.environment;
  return env ? `${env.redis}, ${env.cpus} × ${env.cpuModel}, Node.js ${env.node}, tokenbench ${env.tokenbench}${env.gitSha ? ` (${env.gitSha.slice(0, 7)})` : ''}` : undefined;
}

async function runPlanned(requirements: Requirements, durationMs: number, outDir: string): Promise<LoadedResult[] | number> {
  const plan = planRuns(requirements, durationMs);
  for (const reason of plan.skipped) process.stderr.write(`decide: not running ${reason}\n`);
  if (plan.runs === 0) {
    process.stderr.write('decide: nothing to run: the requirements rule out every Redis scheme by design\n');
    return [];
  }
  process.stderr.write(`${planLine(plan)}\n`);
  const loaded: LoadedResult[] = [];
  for (const planned of plan.scenarios) {
    const dir = join(outDir, planned.name);
    process.stderr.write(`decide: ${planned.schemes.map((s) => SCHEMES[s].title).join(', ')} on ${planned.topology}${planned.name === 'capacity' ? ' (closed loop, per-node throughput)' : ''}\n`);
    // Each run leaves what `tokenbench run` leaves: result.json, scenario.json, reports, histories.
    const { result, resultPath } = await runShown(normalizeScenario(planned.scenario), dir);
    if (result.interrupted) return EXIT_CODES.interrupted;
    loaded.push({ path: relative(process.cwd(), resultPath) || resultPath, result: loadResult(resultPath) });
  }
  return loaded;
}

export async function decideCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, 'decide');
  if (values.help) {
    process.stdout.write(DECIDE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`decide: unexpected argument '${positionals[0]}' (requirements go after --requirements, results after --result)`);
  if (!values.requirements) throw new UsageError('decide: which requirements? tokenbench decide --requirements <req.yaml> (see: tokenbench decide --help)');
  const durationMs = values.duration === undefined ? DEFAULT_DECIDE_DURATION_MS : parseDurationMs(values.duration, '--duration');
  if (durationMs < 500) throw new InvalidOptionError('--duration', 'a measured phase of at least 500ms', values.duration);
  if (values.result && values.duration !== undefined) throw new UsageError('decide: --duration applies to the runs decide makes; with --result it runs nothing');
  const requirements = loadRequirementsFile(values.requirements);
  // Result files are read before anything starts, so a bad one costs no run.
  const given: LoadedResult[] = (values.result ?? []).map((path) => ({ path, result: loadResult(path) as ResultFile }));

  const outDir = resolve(values.out ?? join('results', `decide-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  mkdirSync(outDir, { recursive: true });
  let results = given;
  if (given.length === 0) {
    const ran = await runPlanned(requirements, durationMs, outDir);
    if (typeof ran === 'number') return ran;
    results = ran;
  }
  const decision = decide(requirements, extractEvidence(results));
  const record = renderDecisionRecord(decision, {
    requirementsFile: values.requirements,
    date: new Date().toISOString().slice(0, 10),
    tokenbenchVersion: TOKENBENCH_VERSION,
    evidenceNote:
      given.length > 0
        ? `${given.length} result file${given.length === 1 ? '' : 's'} given with --result`
        : `runs made by this decide (${durationMs / 1000} s measured each${results.some((r) => r.result.runs.some((run) => run.topology.kind !== 'single')) ? `, primary killed at ${faultAtMs(durationMs) / 1000} s on Sentinel and Cluster` : ''})`,
    environment: environmentOf(results),
  });
  const recordPath = join(outDir, 'decision.md');
  writeFileSync(recordPath, record);
  const rec = decision.recommendation;
  process.stdout.write(
    rec
      ? `decide: use ${SCHEMES[rec.scheme].title}${rec.topology ? ` on ${rec.topology}` : ', no Redis'}${rec.unmeasured.length ? ` (not measured: ${rec.unmeasured.join(', ')})` : ''}\n`
      : `decide: no option meets every requirement; closest: ${SCHEMES[decision.closest!.option.scheme].title}, failing ${decision.closest!.failing.map((f) => `'${f}'`).join(', ')}\n`,
  );
  for (const option of decision.options) if (option.disqualification) process.stdout.write(`  out: ${option.disqualification}\n`);
  process.stdout.write(`decision record: ${recordPath}\n`);
  return 0;
}
