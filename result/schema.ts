import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TokenbenchError } from '../core/errors.ts';
import { dottedPath } from '../core/validation.ts';

/**
 * The result file is the source of truth: every report is rendered from it alone, so old results
 * can be re-rendered and compared. Bump SCHEMA_VERSION on any change a reader must know about.
 */
export const SCHEMA_VERSION = 1;

const latencySummary = z.object({
  count: z.number(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  p999: z.number(),
  p9999: z.number(),
  max: z.number(),
  mean: z.number(),
});

const checkResult = z.object({
  valid: z.union([z.boolean(), z.literal('unknown')]),
  counts: z.record(z.string(), z.number()),
  figures: z.record(z.string(), z.number().nullable()).optional(),
  examples: z.array(z.unknown()),
  perFault: z.array(z.record(z.string(), z.union([z.number(), z.string(), z.null()]))).optional(),
});

const timelineBucket = z.object({
  t: z.number(),
  ops: z.number(),
  verifies: z.number(),
  errors: z.number(),
  degraded: z.number(),
  revokedAccepted: z.number(),
  p50: z.number(),
  p99: z.number(),
  max: z.number(),
});

export const strategyRunSchema = z.object({
  strategy: z.string(),
  label: z.string(),
  engine: z.string(),
  alg: z.string(),
  guarantee: z.union([z.literal('none'), z.literal('immediate'), z.object({ boundedByMs: z.number() })]),
  failurePolicy: z.enum(['fail-closed', 'fail-open']),
  wait: z.object({ replicas: z.number(), timeoutMs: z.number() }).nullable(),
  topology: z.object({
    kind: z.string(),
    backend: z.string(),
    startupMs: z.number(),
    nodes: z.array(z.object({ id: z.string(), role: z.string(), port: z.number(), shard: z.number().optional() })),
  }),
  interrupted: z.boolean(),
  load: z.object({
    mode: z.enum(['open', 'closed']),
    targetRate: z.number().nullable(),
    concurrency: z.number().nullable(),
    workers: z.number(),
    warmupMs: z.number(),
    durationMs: z.number(),
    completedOps: z.number(),
    achievedRate: z.number(),
    inFlightAtEnd: z.number(),
  }),
  latency: z.record(z.string(), z.object({ all: latencySummary, byPhase: z.record(z.string(), latencySummary), histogram: z.string().min(1) })),
  slip: latencySummary.nullable(),
  redis: z.object({
    roundTripsPerVerify: z.number().nullable(),
    /** MEMORY USAGE of a sample of the strategy's keys divided by the entries they hold. */
    bytesPerEntry: z.number().nullable(),
    keys: z.number().nullable(),
    entries: z.number().nullable(),
  }),
  timeline: z.array(timelineBucket),
  faults: z.array(z.object({ action: z.string(), target: z.string(), node: z.string().optional(), atMs: z.number(), healedAtMs: z.number().optional(), error: z.string().optional() })),
  events: z.array(z.object({ atMs: z.number(), source: z.string(), type: z.string(), node: z.string().optional(), detail: z.string().optional() })),
  checks: z.record(z.string(), checkResult),
  historyFiles: z.array(z.string()),
  reconciledTokens: z.number(),
});

export const resultSchema = z.object({
  tool: z.literal('tokenbench'),
  schemaVersion: z.number().int(),
  tokenbenchVersion: z.string(),
  createdAt: z.string(),
  interrupted: z.boolean(),
  environment: z.object({
    tokenbench: z.string(),
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
});

export type StrategyRunResult = z.infer<typeof strategyRunSchema>;
export type ResultFile = z.infer<typeof resultSchema>;

export class ResultFileError extends TokenbenchError {
  constructor(message: string) {
    super('ERR_RESULT_FILE', message);
  }
}

/** Checks a parsed result: a newer schema, a hand-edited field or a missing histogram is named with the file and the field. */
export function parseResult(data: unknown, source = 'result'): ResultFile {
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > SCHEMA_VERSION) {
    throw new ResultFileError(`${source}: written by a newer tokenbench (schemaVersion ${version}); this one reads up to ${SCHEMA_VERSION}: upgrade tokenbench`);
  }
  if (typeof version === 'number' && version < SCHEMA_VERSION) {
    throw new ResultFileError(`${source}: schemaVersion ${version} is older than this tokenbench reads (${SCHEMA_VERSION}); re-run the scenario to get a current result`);
  }
  const parsed = resultSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
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
