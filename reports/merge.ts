import { ResultFileError } from '../core/errors.ts';
import { formatMs, formatSignedMs } from '../core/format.ts';
import { redactSecrets } from '../core/secrets.ts';
import { findAnomalies } from '../result/anomalies.ts';
import { type Checks, checksSchema, type FaultFigures, OP_FUNCTIONS, type OpFunction } from '../result/checks.ts';
import { decodeHistogram, encodeHistogram, type Histogram, newHistogram, summarize } from '../result/histogram.ts';
import type { LatencySummary, MergedFrom, MergedShards, ResultFile, StrategyRunResult, TimelineBucket } from '../result/schema.ts';
import { evaluateThresholds } from '../result/thresholds.ts';
import { runVerdict, suiteVerdict } from '../result/verdict.ts';
import { assertComparable, IncompatibleResultsError, runKeys, SCENARIO_FIELDS_ALLOWED_TO_DIFFER } from './compare.ts';

/** Any checker's result, as the merge sees it: counts, figures and examples of the same shape in every input. */
interface AnyCheck {
  valid: boolean | 'unknown';
  counts: Record<string, number>;
  figures?: Record<string, number | null>;
  lost?: Lost;
  examples: unknown[];
  perFault?: FaultFigures[];
}

export interface MergeInput {
  /** File name, for messages. */
  source: string;
  result: ResultFile;
}

/** A result file that says where it came from: reports show `mergedFrom`. */
export type MergedResult = ResultFile & { mergedFrom: MergedFrom };

/** Goes into the output so nobody mistakes the merged figures for ones measured by one generator. */
export const MERGE_NOTE =
  'merged by tokenbench merge from results of several load generators against one topology: ' +
  'latency histograms added and latency[op].all recomputed from them (exact); ' +
  'latency[op].serviceTime likewise where every input that measured the op has it, else left out; ' +
  'latency[op].byPhase dropped (the inputs carry no per-phase histograms, so per-phase percentiles cannot be re-derived), ' +
  'except where every input measured the op in one phase only (a run without faults: all steady), whose figures are then latency[op].all; ' +
  'load.completedOps, achievedRate, targetRate, concurrency, workers and inFlightAtEnd summed; ' +
  'timeline buckets added by index, their p50/p99/max and the slip percentiles are the max of the inputs (an upper bound, not a percentile of the union); ' +
  'check counts and distinct lost revocations summed (each generator has its own users), *Ms figures the max, other figures summed (notApplicable kept as a flag), examples concatenated (at most 5); ' +
  'faults, events, environment and redis cost from the first file (one shared topology); verdicts, thresholds and anomalies computed again on the merged runs; ' +
  "footprint dropped (each generator measured its own machine's CPU: see the inputs).";

/** Added to the note when the inputs were the shards of one run (`run --shard`). */
export const SHARDS_NOTE =
  'the inputs were the complete set of shards of one run (every index once, the same count, start and scenario): ' +
  "users and rate were split between them, so their sum is the whole run; redis keys and entries summed (each shard wrote under its own prefix), bytesPerEntry weighted by entries; the shards' own records in mergedFrom.shards.";

export const MAX_EXAMPLES = 5;

/** Shards whose measured phases began further apart than this smear the merged timeline: bucket i of one is not quite bucket i of another. */
export const START_SPREAD_WARNING_MS = 50;

function decodeOrThrow(encoded: string, source: string, field: string): Histogram {
  try {
    return decodeHistogram(encoded);
  } catch (error) {
    throw new ResultFileError(`${source}: field ${field} is not a valid HdrHistogram (${(error as Error).message})`);
  }
}

/** Adds HdrHistograms: the sum of several is the histogram of the union of their values. */
export function addHistograms(histograms: readonly Histogram[]): Histogram {
  const sum = newHistogram();
  for (const h of histograms) sum.add(h);
  return sum;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const maxOf = (values: readonly (number | null | undefined)[]): number | null => {
  const present = values.filter((v): v is number => typeof v === 'number');
  return present.length === 0 ? null : Math.max(...present);
};
const sumNullable = (values: readonly (number | null)[]): number | null =>
  values.every((v) => v === null) ? null : sum(values.filter((v): v is number => v !== null));

/** Without the slip histograms, percentiles cannot be combined: keep the largest of each as an upper bound; count and mean are exact. */
function mergeSummaries(summaries: readonly (LatencySummary | null)[]): LatencySummary | null {
  const present = summaries.filter((s): s is LatencySummary => s !== null);
  if (present.length === 0) return null;
  const count = sum(present.map((s) => s.count));
  return {
    count,
    p50: Math.max(...present.map((s) => s.p50)),
    p90: Math.max(...present.map((s) => s.p90)),
    p99: Math.max(...present.map((s) => s.p99)),
    p999: Math.max(...present.map((s) => s.p999)),
    p9999: Math.max(...present.map((s) => s.p9999)),
    max: Math.max(...present.map((s) => s.max)),
    mean: count === 0 ? 0 : Math.round((sum(present.map((s) => s.mean * s.count)) / count) * 1000) / 1000,
  };
}

function mergeTimelines(timelines: readonly TimelineBucket[][]): TimelineBucket[] {
  const length = Math.max(0, ...timelines.map((t) => t.length));
  const out: TimelineBucket[] = [];
  for (let i = 0; i < length; i++) {
    const buckets = timelines.map((t) => t[i]).filter((b): b is TimelineBucket => b !== undefined);
    out.push({
      t: buckets[0]!.t,
      ops: sum(buckets.map((b) => b.ops)),
      verifies: sum(buckets.map((b) => b.verifies)),
      errors: sum(buckets.map((b) => b.errors)),
      degraded: sum(buckets.map((b) => b.degraded)),
      revokedAccepted: sum(buckets.map((b) => b.revokedAccepted)),
      // Known only when every input counted it: a partial sum would read as fewer round trips.
      ...(buckets.every((b) => b.verifyRedisOps !== undefined) && { verifyRedisOps: sum(buckets.map((b) => b.verifyRedisOps!)) }),
      // Per-bucket sketches are not in the result: the max of the inputs bounds the union's percentile from above.
      p50: Math.max(...buckets.map((b) => b.p50)),
      p99: Math.max(...buckets.map((b) => b.p99)),
      max: Math.max(...buckets.map((b) => b.max)),
    });
  }
  return out;
}

// Flags, not quantities: summing two generators' "1" would not mean "2".
const FLAG_FIGURES = new Set(['notApplicable']);

function mergeFigures(all: readonly (Record<string, number | null> | undefined)[]): Record<string, number | null> | undefined {
  const present = all.filter((f): f is Record<string, number | null> => f !== undefined);
  if (present.length === 0) return undefined;
  const out: Record<string, number | null> = {};
  for (const key of new Set(present.flatMap((f) => Object.keys(f)))) {
    const values = present.map((f) => f[key] ?? null);
    out[key] = key.endsWith('Ms') || FLAG_FIGURES.has(key) ? maxOf(values) : sumNullable(values);
  }
  return out;
}

function mergePerFault(all: readonly (FaultFigures[] | undefined)[]): FaultFigures[] | undefined {
  const present = all.filter((p): p is FaultFigures[] => p !== undefined);
  if (present.length === 0) return undefined;
  const length = Math.max(...present.map((p) => p.length));
  const out: FaultFigures[] = [];
  for (let i = 0; i < length; i++) {
    const entries = present.map((p) => p[i]).filter((e): e is FaultFigures => e !== undefined);
    // Each generator saw the same fault; the slowest detection and recovery any of them saw is the one to report.
    out.push({
      ...entries[0]!,
      atMs: Math.max(...entries.map((e) => e.atMs)),
      detectMs: maxOf(entries.map((e) => e.detectMs)),
      recoverMs: maxOf(entries.map((e) => e.recoverMs)),
      steadyP99Ms: maxOf(entries.map((e) => e.steadyP99Ms)),
      ...networkFigures(entries),
    });
  }
  return out;
}

/** The demotion is one event, the latest any generator saw; each generator's acks are its own, so they add. */
function networkFigures(entries: readonly FaultFigures[]): Partial<FaultFigures> {
  if (!entries.every((e) => e.acksDuringFault !== undefined)) return {};
  const byNode = entries.map((e) => e.acksByNode ?? null);
  return {
    demotedAfterHealMs: maxOf(entries.map((e) => e.demotedAfterHealMs ?? null)),
    acksDuringFault: sum(entries.map((e) => e.acksDuringFault!)),
    acksAfterHealBeforeDemotion: sum(entries.map((e) => e.acksAfterHealBeforeDemotion ?? 0)),
    acksByNode: byNode.some((b) => b === null)
      ? null
      : { duringFault: sum(byNode.map((b) => b!.duringFault)), afterHealBeforeDemotion: sum(byNode.map((b) => b!.afterHealBeforeDemotion)) },
  };
}

/** Every checker's results merged by the same rules; the schema then checks the merged shape. */
function mergeChecks(all: readonly Checks[]): Checks {
  const out: Record<string, AnyCheck> = {};
  for (const name of Object.keys(all[0]!) as (keyof Checks)[]) {
    const parts = all.map((c) => c[name] as AnyCheck);
    const counts: Record<string, number> = {};
    for (const part of parts) for (const [key, n] of Object.entries(part.counts)) counts[key] = (counts[key] ?? 0) + n;
    // One generator that found a violation makes the merged check fail; one that checked nothing does not make it unknown.
    const valid = parts.some((p) => p.valid === false) ? false : parts.every((p) => p.valid === 'unknown') ? 'unknown' : true;
    const figures = mergeFigures(parts.map((p) => p.figures));
    const perFault = mergePerFault(parts.map((p) => p.perFault));
    out[name] = {
      valid,
      counts,
      ...(figures !== undefined && { figures }),
      examples: parts.flatMap((p) => p.examples).slice(0, MAX_EXAMPLES),
      ...(perFault !== undefined && { perFault }),
    };
  }
  out['lost-revocations']!.lost = mergeLost(all.map((c) => c['lost-revocations'].lost));
  (out.unavailability as unknown as { figures: UnavailabilityFigures }).figures = mergeUnavailabilityFigures(all.map((c) => c.unavailability.figures));
  return checksSchema.parse(out);
}

type UnavailabilityFigures = Checks['unavailability']['figures'];

/** The longest window any generator saw (and whether it was still open); spreads widen to hold every generator's. */
function mergeUnavailabilityFigures(all: readonly UnavailabilityFigures[]): UnavailabilityFigures {
  const longest = all.reduce((a, b) => (b.longestWindowMs > a.longestWindowMs ? b : a));
  const spreads = all.map((f) => f.steadySpread);
  return {
    longestWindowMs: longest.longestWindowMs,
    windowStartMs: longest.windowStartMs,
    longestWindowOpenAtEnd: longest.longestWindowOpenAtEnd,
    baselineP99Ms: maxOf(all.map((f) => f.baselineP99Ms)),
    steadySpread: spreads.every((s) => s !== null)
      ? {
          lowMs: Math.min(...spreads.map((s) => s.lowMs)),
          highMs: Math.max(...spreads.map((s) => s.highMs)),
          windows: Math.min(...spreads.map((s) => s.windows)),
        }
      : null,
  };
}

type Lost = Checks['lost-revocations']['lost'];

/** Generators split the users between them, so no token is lost in two of them: distinct losses add. Unknown in one is unknown in all. */
function mergeLost(all: readonly Lost[]): Lost {
  if (all.some((lost) => lost === null)) return null;
  const present = all as NonNullable<Lost>[];
  const add = <K extends string>(pick: (l: NonNullable<Lost>) => Record<K, number>) => {
    const out = {} as Record<K, number>;
    for (const key of Object.keys(pick(present[0]!)) as K[]) out[key] = sum(present.map((l) => pick(l)[key]));
    return out;
  };
  const merged: NonNullable<Lost> = { total: sum(present.map((l) => l.total)), byCause: add((l) => l.byCause), byAck: add((l) => l.byAck) };
  // The network split only where every generator has it: a part without it would leave the split short of the total.
  for (const key of ['byWindow', 'bySide', 'byNode'] as const) {
    if (!present.every((l) => l[key] !== undefined)) continue;
    const out: Record<string, number> = {};
    for (const l of present) for (const [k, n] of Object.entries(l[key]!)) out[k] = (out[k] ?? 0) + n;
    (merged as Record<string, unknown>)[key] = out;
  }
  return merged;
}

interface RunPart {
  source: string;
  index: number;
  run: StrategyRunResult;
}

/**
 * Service time adds like the corrected histograms, but only where every input that measured the op
 * measured it too: a sum missing one generator's ops would be a service time of some of the load.
 * An input without the op at all contributed no ops to either histogram, so it leaves the sum exact.
 */
function mergeServiceTime(parts: readonly RunPart[], op: OpFunction): { serviceTime?: { all: LatencySummary; histogram: string } } {
  const measured = parts.filter((p) => p.run.latency[op] !== undefined);
  if (!measured.every((p) => p.run.latency[op]!.serviceTime !== undefined)) return {};
  const h = addHistograms(
    measured.map((p) => decodeOrThrow(p.run.latency[op]!.serviceTime!.histogram, p.source, `runs[${p.index}].latency.${op}.serviceTime.histogram`)),
  );
  return { serviceTime: { all: summarize(h), histogram: encodeHistogram(h) } };
}

type LatencyEntry = NonNullable<StrategyRunResult['latency'][OpFunction]>;

/**
 * Per-phase histograms are not in the result, so per-phase percentiles of several inputs cannot be
 * re-derived, except where every input measured the op in one and the same phase only (a run
 * without faults: all of it steady): that phase's figures are then the op's `all`, and so are
 * those of their sum.
 */
function mergedByPhase(parts: readonly RunPart[], op: OpFunction, all: LatencySummary): LatencyEntry['byPhase'] {
  const measured = parts.flatMap((p) => p.run.latency[op] ?? []);
  const phase = Object.keys(measured[0]?.byPhase ?? {})[0] as keyof LatencyEntry['byPhase'] | undefined;
  if (phase === undefined) return {};
  const onlyThere = measured.every((e) => Object.keys(e.byPhase).length === 1 && e.byPhase[phase]?.count === e.all.count);
  return onlyThere ? { [phase]: all } : {};
}

/** Each shard measured its own key prefix: the deployment held them all. */
function shardsRedisCost(runs: readonly StrategyRunResult[]): Pick<StrategyRunResult['redis'], 'keys' | 'entries' | 'bytesPerEntry'> {
  const entries = sumNullable(runs.map((r) => r.redis.entries));
  const weighted = runs.filter((r) => r.redis.bytesPerEntry !== null && r.redis.entries !== null && r.redis.entries > 0);
  const weight = sum(weighted.map((r) => r.redis.entries!));
  return {
    keys: sumNullable(runs.map((r) => r.redis.keys)),
    entries,
    bytesPerEntry:
      weight > 0 ? Math.round((sum(weighted.map((r) => r.redis.bytesPerEntry! * r.redis.entries!)) / weight) * 10) / 10 : runs[0]!.redis.bytesPerEntry,
  };
}

function mergeRun(parts: readonly RunPart[], shards: boolean): StrategyRunResult {
  const runs = parts.map((p) => p.run);
  const merged = structuredClone(runs[0]!);
  delete merged.shard;

  const latency: StrategyRunResult['latency'] = {};
  for (const op of OP_FUNCTIONS.filter((f) => runs.some((r) => r.latency[f] !== undefined))) {
    const histograms = parts.flatMap((p) => {
      const entry = p.run.latency[op];
      return entry ? [decodeOrThrow(entry.histogram, p.source, `runs[${p.index}].latency.${op}.histogram`)] : [];
    });
    const h = addHistograms(histograms);
    const all = summarize(h);
    latency[op] = { all, byPhase: mergedByPhase(parts, op, all), histogram: encodeHistogram(h), ...mergeServiceTime(parts, op) };
  }
  merged.latency = latency;
  merged.slip = mergeSummaries(runs.map((r) => r.slip));

  const nullableSum = (pick: (r: StrategyRunResult) => number | null) => sumNullable(runs.map(pick));
  merged.load = {
    ...merged.load,
    targetRate: nullableSum((r) => r.load.targetRate),
    concurrency: nullableSum((r) => r.load.concurrency),
    workers: sum(runs.map((r) => r.load.workers)),
    durationMs: Math.max(...runs.map((r) => r.load.durationMs)),
    completedOps: sum(runs.map((r) => r.load.completedOps)),
    achievedRate: sum(runs.map((r) => r.load.achievedRate)),
    inFlightAtEnd: sum(runs.map((r) => r.load.inFlightAtEnd)),
  };

  // Round trips are per verify: weigh each generator by the verifies it measured.
  const weighted = runs
    .filter((r) => r.redis.roundTripsPerVerify !== null)
    .map((r) => ({ rtt: r.redis.roundTripsPerVerify!, n: r.latency.verify?.all.count ?? 0 }));
  const weight = sum(weighted.map((w) => w.n));
  if (weighted.length > 0) {
    merged.redis.roundTripsPerVerify = weight === 0 ? weighted[0]!.rtt : Math.round((sum(weighted.map((w) => w.rtt * w.n)) / weight) * 1000) / 1000;
  }
  if (shards) Object.assign(merged.redis, shardsRedisCost(runs));

  merged.timeline = mergeTimelines(runs.map((r) => r.timeline));
  merged.checks = mergeChecks(runs.map((r) => r.checks));
  merged.verdict = runVerdict(merged.checks);
  merged.interrupted = runs.some((r) => r.interrupted);
  merged.historyFiles = [...new Set(runs.flatMap((r) => r.historyFiles))];
  merged.reconciledTokens = sum(runs.map((r) => r.reconciledTokens));
  merged.footprint = null;
  return merged;
}

/**
 * Merges the results of several load generators that ran the same scenario against one
 * topology. Throws IncompatibleResultsError (different scenario, schema or set of runs) and
 * ResultFileError (a histogram that does not decode), both naming the file and the field.
 */
export function mergeResults(inputs: readonly MergeInput[]): MergedResult {
  const first = inputs[0];
  if (!first) throw new IncompatibleResultsError('nothing to merge');
  const shards = shardSet(inputs);
  // Each shard's scenario names its own index; everything else must be the same run.
  for (const other of inputs.slice(1)) assertComparable(first, other, [...SCENARIO_FIELDS_ALLOWED_TO_DIFFER, 'load.shard.index']);

  const keyed = inputs.map((input) => runKeys(input.result.runs));
  const firstKeys = keyed[0]!;
  inputs.forEach((input, i) => {
    const keys = keyed[i]!;
    const missing = [...firstKeys.keys()].find((k) => !keys.has(k));
    const extra = [...keys.keys()].find((k) => !firstKeys.has(k));
    if (missing !== undefined)
      throw new IncompatibleResultsError(`run ${missing} is in ${first.source} but not in ${input.source}: every load generator must run the same strategies`);
    if (extra !== undefined)
      throw new IncompatibleResultsError(`run ${extra} is in ${input.source} but not in ${first.source}: every load generator must run the same strategies`);
  });

  const thresholds = (first.result.scenario.thresholds ?? {}) as Record<string, number>;
  const runs = [...firstKeys.keys()]
    .map((key) =>
      mergeRun(
        inputs.map((input, i) => {
          const run = keyed[i]!.get(key)!;
          return { source: input.source, index: input.result.runs.indexOf(run), run };
        }),
        shards !== null,
      ),
    )
    .map((run) => ({ ...run, thresholds: evaluateThresholds(run, thresholds), anomalies: findAnomalies(run) }));

  return {
    tool: 'tokenbench',
    tokenbenchVersion: first.result.tokenbenchVersion,
    schemaVersion: first.result.schemaVersion,
    // When the benchmark ran, not when it was merged: the earliest generator's start.
    createdAt: inputs.map((i) => i.result.createdAt).sort()[0]!,
    interrupted: inputs.some((i) => i.result.interrupted),
    environment: structuredClone(first.result.environment),
    scenario: shards ? wholeRunScenario(first.result.scenario) : redactSecrets(first.result.scenario),
    runs,
    verdict: suiteVerdict(runs),
    mergedFrom: { files: inputs.map((i) => i.source), note: shards ? `${MERGE_NOTE}; ${SHARDS_NOTE}` : MERGE_NOTE, ...(shards && { shards }) },
  };
}

/** The merged shards are the whole run: its scenario is the one-generator scenario (`tokenbench compare` holds it against a run of one generator). */
function wholeRunScenario(scenario: ResultFile['scenario']): ResultFile['scenario'] {
  const whole = redactSecrets(scenario);
  const load = whole.load as Record<string, unknown> | undefined;
  if (load) {
    delete load.shard;
    delete load.startAt;
  }
  return whole;
}

type ShardRecord = NonNullable<StrategyRunResult['shard']>;

const shardName = (shard: Pick<ShardRecord, 'index' | 'count'>) => `shard ${shard.index}/${shard.count}`;
const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** The shard a result file is, from its runs (every run of a shard carries the same record); null for a whole run. */
function shardOf(input: MergeInput): ShardRecord | null {
  const records = input.result.runs.map((r) => r.shard);
  const first = records[0];
  if (!first) {
    if (records.some((r) => r !== undefined)) throw new IncompatibleResultsError(`${input.source}: its runs are not all of one shard`);
    return null;
  }
  if (records.some((r) => r === undefined || r.index !== first.index || r.count !== first.count || r.startAt !== first.startAt))
    throw new IncompatibleResultsError(`${input.source}: its runs are not all of one shard`);
  return first;
}

/**
 * The inputs as the shards of one run, checked complete and non-overlapping (the same count and
 * start, every index once), with how far apart their clocks and starts were; null when no input
 * is a shard. A set short of one shard would merge into counts short of the run's, so it is refused.
 */
export function shardSet(inputs: readonly MergeInput[]): MergedShards | null {
  const records = inputs.map((input) => ({ input, shard: shardOf(input) }));
  const some = records.find((r) => r.shard !== null);
  if (!some) return null;
  const reference = some.shard!;
  const byIndex = new Map<number, { input: MergeInput; shard: ShardRecord }>();
  for (const { input, shard } of records) {
    if (shard === null)
      throw new IncompatibleResultsError(
        `${input.source} is a whole run and ${some.input.source} is ${shardName(reference)}: merge the shards of one run, or whole runs, not both`,
      );
    if (shard.count !== reference.count)
      throw new IncompatibleResultsError(
        `${some.input.source} is ${shardName(reference)} and ${input.source} is ${shardName(shard)}: the shards of one run all have the same count`,
      );
    if (shard.startAt !== reference.startAt)
      throw new IncompatibleResultsError(
        `${some.input.source} started at ${reference.startAt} and ${input.source} at ${shard.startAt}: the shards of one run share one --start-at`,
      );
    const twin = byIndex.get(shard.index);
    if (twin) throw new IncompatibleResultsError(`${shardName(shard)} is in both ${twin.input.source} and ${input.source}: each shard once`);
    byIndex.set(shard.index, { input, shard });
  }
  const missing = Array.from({ length: reference.count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    const have = [...byIndex.values()]
      .sort((a, b) => a.shard.index - b.shard.index)
      .map(({ input, shard }) => `${shard.index} from ${input.source}`)
      .join(', ');
    throw new IncompatibleResultsError(
      `${missing.map((i) => shardName({ index: i, count: reference.count })).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (have ${have}): a merge needs every shard's result, or its counts are short of the run's`,
    );
  }
  const members = [...byIndex.values()]
    .sort((a, b) => a.shard.index - b.shard.index)
    .map(({ input, shard }) => ({
      index: shard.index,
      file: input.source,
      startedAtWallMs: shard.startedAtWallMs,
      clockOffsetMs: shard.clockOffsetMs,
      clockOffsetUncertaintyMs: shard.clockOffsetUncertaintyMs,
    }));
  const offsets = members.map((m) => m.clockOffsetMs);
  const known = offsets.every((o): o is number => o !== null);
  const spread = (values: readonly number[]) => round3(Math.max(...values) - Math.min(...values));
  const clockOffsetSpreadMs = known ? spread(offsets) : null;
  // On the one clock every shard was held against where each was; on their own clocks otherwise.
  const startSpreadMs = spread(members.map((m) => m.startedAtWallMs - (known ? m.clockOffsetMs! : 0)));
  return {
    count: reference.count,
    startAt: reference.startAt,
    clockOffsetSpreadMs,
    startSpreadMs,
    members,
    warnings: shardWarnings(members, clockOffsetSpreadMs, startSpreadMs),
  };
}

function shardWarnings(members: MergedShards['members'], clockOffsetSpreadMs: number | null, startSpreadMs: number): string[] {
  const unmeasured = members.filter((m) => m.clockOffsetMs === null).map((m) => m.index);
  if (unmeasured.length > 0)
    return [
      `the clock offset of shard ${unmeasured.join(', ')} was not measured (Redis TIME refused): how far apart the shards' measured phases began is not known, only that their own clocks read ${formatMs(startSpreadMs)} ms apart`,
    ];
  const widest = Math.max(clockOffsetSpreadMs ?? 0, startSpreadMs);
  if (widest <= START_SPREAD_WARNING_MS) return [];
  const offsets = members.map((m) => `${m.index}: ${formatSignedMs(m.clockOffsetMs)} ms`).join(', ');
  return [
    `the shards' measured phases began up to ${formatMs(startSpreadMs)} ms apart on the Redis clock, over ${START_SPREAD_WARNING_MS} ms (their clocks against Redis TIME: ${offsets}; spread ${formatMs(clockOffsetSpreadMs)} ms): the merged timeline is smeared by as much (counts and latency histograms are exact); synchronise the generators' clocks (NTP, chrony)`,
  ];
}
