import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseDurationMs } from '../core/duration.ts';
import { EXIT_CODES, InvalidOptionError } from '../core/errors.ts';
import { redactSecrets } from '../core/secrets.ts';
import { TOKENBENCH_VERSION } from '../core/version.ts';
import { decide, optionTitle } from '../decide/decide.ts';
import { extractEvidence, type LoadedResult } from '../decide/evidence.ts';
import { DEFAULT_DECIDE_DURATION_MS, PARTITION_MS, PAUSE_MS, type Plan, pausedInsteadNote, planFaultsNote, planLine, planRuns } from '../decide/plan.ts';
import { renderDecisionRecord } from '../decide/record.ts';
import { loadRequirementsFile } from '../decide/requirements.ts';
import { SCHEMES } from '../decide/schemes.ts';
import { normalizeScenario } from '../harness/scenario.ts';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { networkFaultSupport } from '../topologies/network/nft.ts';
import { DECIDE_HELP, DECIDE_USAGE } from './decide-flags.ts';
import { parseFlags } from './flags.ts';
import { catchInterrupts, runShown } from './run-ui.ts';
import { plannedRuns, SuiteProgress } from './suite-progress.ts';
import { UsageError } from './usage-error.ts';

export { DECIDE_HELP } from './decide-flags.ts';

function environmentOf(results: readonly LoadedResult[]): string | undefined {
  const env = results[0]?.result.environment;
  return env
    ? `${env.redis}, ${env.cpus} × ${env.cpuModel}, Node.js ${env.node}, tokenbench ${env.tokenbench}${env.gitSha ? ` (${env.gitSha.slice(0, 7)})` : ''}`
    : undefined;
}

const DOING: Record<Plan['scenarios'][number]['fault'], string> = {
  none: '',
  kill: ' (primary killed)',
  pause: ` (primary hung for ${PAUSE_MS / 1000} s through a failover, then resumed)`,
  partition: ` (primary cut off by a partition for ${PARTITION_MS / 1000} s through a failover, then healed)`,
  capacity: ' (closed loop, per-node throughput)',
};

async function runPlanned(plan: Plan, outDir: string, signal: AbortSignal): Promise<LoadedResult[] | number> {
  for (const reason of plan.skipped) process.stderr.write(`decide: not running ${reason}\n`);
  if (plan.runs === 0) {
    process.stderr.write('decide: nothing to run: the requirements rule out every Redis scheme by design\n');
    return [];
  }
  process.stderr.write(`${planLine(plan)}\n`);
  const pausedInstead = pausedInsteadNote(plan);
  if (pausedInstead) process.stderr.write(`decide: ${pausedInstead}\n`);
  const loaded: LoadedResult[] = [];
  const scenarios = plan.scenarios.map((planned) => normalizeScenario(planned.scenario));
  // Runs count across the whole plan (run 7/12), not scenario by scenario.
  const suite = new SuiteProgress(plannedRuns(scenarios));
  for (const [i, planned] of plan.scenarios.entries()) {
    if (signal.aborted) return EXIT_CODES.interrupted;
    const dir = join(outDir, planned.name);
    process.stderr.write(`decide: ${planned.schemes.map((s) => SCHEMES[s].title).join(', ')} on ${planned.topology}${DOING[planned.fault]}\n`);
    // Each run leaves what `tokenbench run` leaves: result.json, scenario.json, reports, histories.
    const shown = await runShown(scenarios[i]!, dir, { signal, plan: { suite, scenario: i } });
    if (!shown || shown.result.interrupted) return EXIT_CODES.interrupted;
    const { resultPath } = shown;
    loaded.push({ path: relative(process.cwd(), resultPath) || resultPath, result: loadResult(resultPath) });
  }
  return loaded;
}

export async function decideCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, DECIDE_USAGE.flags, DECIDE_USAGE.command);
  if (values.help) {
    process.stdout.write(DECIDE_HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`decide: unexpected argument '${positionals[0]}' (requirements go after --requirements, results after --result)`);
  if (!values.requirements) throw new UsageError('decide: which requirements? tokenbench decide --requirements <req.yaml> (see: tokenbench decide --help)');
  const durationMs = values.duration === undefined ? DEFAULT_DECIDE_DURATION_MS : parseDurationMs(values.duration, '--duration');
  if (durationMs < 500) throw new InvalidOptionError('--duration', 'a measured phase of at least 500ms', values.duration);
  if (values.result && values.duration !== undefined)
    throw new UsageError('decide: --duration applies to the runs decide makes; with --result it runs nothing');
  const requirements = loadRequirementsFile(values.requirements);
  // Result files are read before anything starts, so a bad one costs no run.
  const given: LoadedResult[] = (values.result ?? []).map((path) => ({ path, result: loadResult(path) as ResultFile }));

  const outDir = resolve(values.out ?? join('results', `decide-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  mkdirSync(outDir, { recursive: true });
  let results = given;
  const plan = given.length === 0 ? planRuns(requirements, durationMs, { cannotCutLinks: await networkFaultSupport({}) }) : null;
  if (plan) {
    const interrupts = catchInterrupts();
    try {
      const ran = await runPlanned(plan, outDir, interrupts.signal);
      if (typeof ran === 'number') return ran;
      results = ran;
    } finally {
      interrupts.finish();
    }
  }
  const decision = decide(requirements, extractEvidence(results));
  const record = renderDecisionRecord(decision, {
    requirementsFile: values.requirements,
    date: new Date().toISOString().slice(0, 10),
    tokenbenchVersion: TOKENBENCH_VERSION,
    evidenceNote: plan
      ? plan.runs === 0
        ? 'no runs: the requirements rule out by design every scheme that needs one'
        : `runs made by this decide (${planFaultsNote(plan, durationMs)})`
      : `${given.length} result file${given.length === 1 ? '' : 's'} given with --result`,
    ...(plan && pausedInsteadNote(plan) && { faultNote: pausedInsteadNote(plan)! }),
    environment: environmentOf(results),
  });
  const recordPath = join(outDir, 'decision.md');
  writeFileSync(recordPath, record);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(redactSecrets(decision), null, 2)}\n`);
    // stdout is the JSON alone; where the record went is still said.
    process.stderr.write(`decision record: ${recordPath}\n`);
    return 0;
  }
  const rec = decision.recommendation;
  process.stdout.write(
    rec
      ? `decide: use ${optionTitle(rec)}${rec.topology ? ` on ${rec.topology}` : ', no Redis'}${rec.unmeasured.length ? ` (not measured: ${rec.unmeasured.join(', ')})` : ''}\n`
      : `decide: no option meets every requirement; closest: ${optionTitle(decision.closest!.option)}, failing ${decision.closest!.failing.map((f) => `'${f}'`).join(', ')}\n`,
  );
  for (const option of decision.options) if (option.disqualification) process.stdout.write(`  out: ${option.disqualification}\n`);
  process.stdout.write(`decision record: ${recordPath}\n`);
  return 0;
}
