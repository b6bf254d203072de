import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ResultFileError } from '../core/errors.ts';
import { dottedPath } from '../core/validation.ts';
import type { Guarantee } from '../strategies/types.ts';
import { anomalySchema } from './anomalies.ts';
import { checksSchema, OP_FUNCTIONS, PHASES } from './checks.ts';
import { footprintSchema } from './footprint.ts';
import { migrateToCurrent } from './migrations.ts';
import { runServerSchema } from './server.ts';
import { thresholdResultSchema } from './thresholds.ts';
import { suiteVerdictSchema, verdictSchema } from './verdict.ts';

/**
 * The result file is the source of truth: every report is rendered from it alone, so old results
 * can be re-rendered and compared. This schema is the only definition of a result: the runner
 * writes what it infers, every reader reads what it infers. Objects are strict: a field the
 * schema does not know is an error on read, never silently dropped.
 *
 * Bump SCHEMA_VERSION on any change a reader must know about, add a migration from the previous
 * version in migrations.ts, and say what changed in CHANGELOG.md.
 */
export const SCHEMA_VERSION = 3;

const latencySummary = z.strictObject({
  count: z.number(),
  /** Milliseconds. */
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  p999: z.number(),
  p9999: z.number(),
  max: z.number(),
  mean: z.number(),
});

const timelineBucket = z.strictObject({
  /** Bucket start, run ms (by intended start: a stall shows where requests arrived). */
  t: z.number(),
  ops: z.number(),
  verifies: z.number(),
  /** Writes that failed or are indeterminate. */
  errors: z.number(),
  /** Verdicts that depended on Redis being down (fail-open accepts, fail-closed rejects). */
  degraded: z.number(),
  /** Verifies of revoked tokens that were accepted. */
  revokedAccepted: z.number(),
  /**
   * Redis round trips the bucket's verifies took (with `verifies`: round trips per verify over time,
   * where a cache's miss storm after a failover shows). Absent in results written before it.
   */
  verifyRedisOps: z.number().optional(),
  p50: z.number(),
  p99: z.number(),
  max: z.number(),
});

/** The strategy's own promise (strategies/types.ts), as the file holds it. */
export const guaranteeSchema: z.ZodType<Guarantee> = z.union([z.literal('none'), z.literal('immediate'), z.strictObject({ boundedByMs: z.number() })]);

/** A fault as it happened, in run ms. */
export const faultRecordSchema = z.strictObject({
  action: z.string(),
  target: z.string(),
  node: z.string().optional(),
  atMs: z.number(),
  /** For pause / kill with `for`: when it was healed. */
  healedAtMs: z.number().optional(),
  error: z.string().optional(),
  /**
   * Network faults: who was cut from whom, as node ids and `clients:<group>`; `direction` says which
   * packets were affected (outbound: from the isolated side; inbound: to it).
   */
  sides: z.strictObject({ isolated: z.array(z.string()), from: z.array(z.string()), direction: z.enum(['both', 'outbound', 'inbound']) }).optional(),
  /** Network faults: what happened to the packets: `drop`, `loss 10%`, `delay 50 ms + up to 10 ms jitter`. */
  effect: z.string().optional(),
});

/** A ground-truth topology event, in run ms. */
export const eventRecordSchema = z.strictObject({
  atMs: z.number(),
  source: z.string(),
  type: z.string(),
  node: z.string().optional(),
  detail: z.string().optional(),
});

export const strategyRunSchema = z.strictObject({
  strategy: z.string(),
  label: z.string(),
  engine: z.string(),
  alg: z.string(),
  guarantee: guaranteeSchema,
  failurePolicy: z.enum(['fail-closed', 'fail-open']),
  wait: z.strictObject({ replicas: z.number(), timeoutMs: z.number() }).nullable(),
  topology: z.strictObject({
    kind: z.string(),
    backend: z.string(),
    startupMs: z.number(),
    nodes: z.array(z.strictObject({ id: z.string(), role: z.string(), port: z.number(), shard: z.number().optional() })),
    /** The matrix entry's `label` (scenario `topologies[].label`), also appended to the run's label; absent without one. */
    label: z.string().optional(),
  }),
  /** The server the topology ran (result/server.ts). Absent in results written before it, and for an external deployment that would not answer INFO. */
  server: runServerSchema.optional(),
  interrupted: z.boolean(),
  /**
   * Load generators that sent from their own loopback address (client groups), by the `worker`
   * their ops carry; a generator not listed sent from 127.0.0.1. Absent: no client groups.
   */
  clientGroups: z.array(z.strictObject({ name: z.string(), worker: z.number(), address: z.string().nullable(), share: z.number() })).optional(),
  /**
   * Replicated / cached denylists: what each load generator's strategy instance held in its own
   * memory at the end of the run (by `worker`), and how it was kept: entries (revoked tokens and
   * watermarks, or cached reads), bytes (the replica's estimate; null for a cache), hits and misses
   * (cache), loads of the replica and the last one's ms, and times the cache was dropped.
   */
  localState: z
    .array(
      z.strictObject({
        worker: z.number(),
        entries: z.number(),
        bytesEstimate: z.number().nullable(),
        hits: z.number().nullable(),
        misses: z.number().nullable(),
        reloads: z.number().nullable(),
        lastReloadMs: z.number().nullable(),
        clears: z.number().nullable(),
      }),
    )
    .optional(),
  load: z.strictObject({
    mode: z.enum(['open', 'closed']),
    targetRate: z.number().nullable(),
    concurrency: z.number().nullable(),
    workers: z.number(),
    warmupMs: z.number(),
    durationMs: z.number(),
    completedOps: z.number(),
    achievedRate: z.number(),
    /** Ops still running when the measured phase ended (waited for, then counted). */
    inFlightAtEnd: z.number(),
    /**
     * How the open loop waited between ops (harness/load.ts): `spin` yields with setImmediate close to
     * each due time (a busy core), `thread` sleeps on a timer thread, `timer` on setTimeout. Absent:
     * a closed loop, or a result written before it was recorded (those spun).
     */
    scheduler: z.enum(['spin', 'timer', 'thread']).optional(),
  }),
  /**
   * Per op type: all phases, then per phase. Milliseconds; `histogram` is HdrHistogram (us), compressed base64.
   * Coordinated-omission corrected: from when the op was due (`intendedMs`) to its completion.
   * `serviceTime` is the uncorrected figure beside it, from when the op was sent (`invokeMs`), all
   * phases, same units and encoding; absent = not measured (results before it, a merge where an
   * input lacks it).
   */
  latency: z.partialRecord(
    z.enum(OP_FUNCTIONS),
    z.strictObject({
      all: latencySummary,
      byPhase: z.partialRecord(z.enum(PHASES), latencySummary),
      histogram: z.string().min(1),
      serviceTime: z.strictObject({ all: latencySummary, histogram: z.string().min(1) }).optional(),
    }),
  ),
  /** How late the open-loop generator launched operations. Large slip = saturated generator. */
  slip: latencySummary.nullable(),
  redis: z.strictObject({
    roundTripsPerVerify: z.number().nullable(),
    /** MEMORY USAGE of a sample of the strategy's keys divided by the entries they hold. */
    bytesPerEntry: z.number().nullable(),
    keys: z.number().nullable(),
    entries: z.number().nullable(),
  }),
  timeline: z.array(timelineBucket),
  faults: z.array(faultRecordSchema),
  events: z.array(eventRecordSchema),
  checks: checksSchema,
  /** What the checkers prove about this run, with a sentence for each thing that is not valid. */
  verdict: verdictSchema,
  /** The scenario's thresholds, each against this run (empty without thresholds). */
  thresholds: z.array(thresholdResultSchema),
  /** What happened that the scenario did not ask for (a second failover, a stale primary...), from the ground truth. */
  anomalies: z.array(anomalySchema),
  historyFiles: z.array(z.string()),
  reconciledTokens: z.number(),
  /** CPU used by the generator, the Redis servers and the machine during the measured phase (result/footprint.ts); null when not measured: before schemaVersion 3, a run stopped in its warm-up, a merged result. */
  footprint: footprintSchema.nullable(),
  /**
   * One generator's part of a run split across several (`run --shard`, harness/shard.ts): which
   * part, the shared start of the measured phase (`startAt`, ISO), this machine's wall clock when
   * its measured phase began (a timer: its own lateness included), and its clock against the Redis
   * server's TIME (`clockOffsetMs`: local minus server, within `clockOffsetUncertaintyMs`; null:
   * TIME refused). Absent: not a shard (and in a merged result, whose `mergedFrom.shards` has them).
   */
  shard: z
    .strictObject({
      index: z.number(),
      count: z.number(),
      startAt: z.string(),
      startedAtWallMs: z.number(),
      clockOffsetMs: z.number().nullable(),
      clockOffsetUncertaintyMs: z.number().nullable(),
    })
    .optional(),
});

/**
 * A merge of a complete set of shards (`run --shard`): the shared start, each shard's clock as it
 * recorded it, and how far apart their measured phases really began. `clockOffsetSpreadMs`: the
 * largest minus the smallest clock offset against Redis TIME (null: one was not measured);
 * `startSpreadMs`: the same of each shard's start on the Redis clock (its startedAtWallMs minus its
 * offset; on its own clock where an offset is missing). `warnings`: what the merge printed about them.
 */
export const mergedShardsSchema = z.strictObject({
  count: z.number(),
  startAt: z.string(),
  clockOffsetSpreadMs: z.number().nullable(),
  startSpreadMs: z.number(),
  members: z.array(
    z.strictObject({
      index: z.number(),
      file: z.string(),
      startedAtWallMs: z.number(),
      clockOffsetMs: z.number().nullable(),
      clockOffsetUncertaintyMs: z.number().nullable(),
    }),
  ),
  warnings: z.array(z.string()),
});

/** Set by `tokenbench merge`: the files a result was merged from, and how its figures were combined; `shards` when they were the shards of one run. */
export const mergedFromSchema = z.strictObject({ files: z.array(z.string()).min(1), note: z.string(), shards: mergedShardsSchema.optional() });

export const resultSchema = z.strictObject({
  tool: z.literal('tokenbench'),
  schemaVersion: z.literal(SCHEMA_VERSION),
  tokenbenchVersion: z.string(),
  createdAt: z.string(),
  interrupted: z.boolean(),
  environment: z.strictObject({
    tokenbench: z.string(),
    /** The commit tokenbench was built from; null when unknown (never a guess). */
    gitSha: z.string().nullable(),
    node: z.string(),
    platform: z.string(),
    cpus: z.number(),
    cpuModel: z.string(),
    redis: z.string(),
    jwtEngines: z.array(z.string()),
  }),
  /** The scenario as run, defaults filled in. */
  scenario: z.record(z.string(), z.unknown()),
  runs: z.array(strategyRunSchema),
  /** Every run's verdict and threshold, summed up: what a CI job gates on. */
  verdict: suiteVerdictSchema,
  mergedFrom: mergedFromSchema.optional(),
});

export type LatencySummary = z.infer<typeof latencySummary>;
export type TimelineBucket = z.infer<typeof timelineBucket>;
export type FaultRecord = z.infer<typeof faultRecordSchema>;
export type EventRecord = z.infer<typeof eventRecordSchema>;
export type StrategyRunResult = z.infer<typeof strategyRunSchema>;
export type ClientGroup = NonNullable<StrategyRunResult['clientGroups']>[number];
export type MergedFrom = z.infer<typeof mergedFromSchema>;
export type MergedShards = z.infer<typeof mergedShardsSchema>;
export type ResultFile = z.infer<typeof resultSchema>;

/**
 * Checks a parsed result, migrating an older schemaVersion first: a newer schema, a hand-edited
 * field or a missing histogram is named with the file and the field.
 */
export function parseResult(data: unknown, source = 'result'): ResultFile {
  const current = migrateToCurrent(data, source, SCHEMA_VERSION);
  const parsed = resultSchema.safeParse(current);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new ResultFileError(
      `${source}: field ${dottedPath([...issue.path, issue.keys[0]!])} is not part of schemaVersion ${SCHEMA_VERSION} (hand-edited, or written by another tokenbench?)`,
    );
  }
  const what = issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'is missing' : `is invalid (${issue.message})`;
  throw new ResultFileError(`${source}: field ${dottedPath(issue.path)} ${what}`);
}

export function loadResult(path: string): ResultFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ResultFileError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ResultFileError(`${path}: not valid JSON (truncated or hand-edited?): ${(error as Error).message}`);
  }
  return parseResult(data, path);
}
