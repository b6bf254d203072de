import { z } from 'zod';
import { clientOptionsSchema } from '../topologies/client-options.ts';
import { InvalidOptionError } from '../core/errors.ts';
import { FAULT_ACTIONS } from '../topologies/faults.ts';
import { topologyOptionsSchema } from '../topologies/options.ts';
import { parseOrThrow } from '../core/validation.ts';
import { jwtSettingsSchema, STRATEGY_ALIASES, STRATEGY_NAMES, waitSchema } from '../strategies/options.ts';
import { readConfigFile } from '../core/config-file.ts';
import { parseDurationMs } from '../core/duration.ts';

const DURATION_TEXT = /^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$/;
/** `10s`, `500ms`, `2m`, or a number of milliseconds. */
const duration = z
  .union([z.number().min(0), z.string().regex(DURATION_TEXT, 'a duration such as 500ms, 10s or 2m')], { error: 'a duration such as 500ms, 10s or 2m' })
  .transform((v) => parseDurationMs(v, ''));
const share = z.number().min(0).max(1);

const strategyEntry = z.union(
  [
    z.enum([...STRATEGY_NAMES, 'denylist', 'allowlist']),
    z.strictObject({
      name: z.enum([...STRATEGY_NAMES, 'denylist', 'allowlist']),
      label: z.string().optional(),
      jwt: jwtSettingsSchema.partial().optional(),
      failurePolicy: z.enum(['fail-closed', 'fail-open']).optional(),
      wait: waitSchema.nullable().optional(),
      blacklist: z.strictObject({ layout: z.enum(['key-per-token', 'bucketed']).optional(), bucketMs: z.number().int().min(1).optional(), groups: z.number().int().min(1).optional() }).optional(),
      whitelist: z.strictObject({ maxSessions: z.number().int().min(0).optional() }).optional(),
    }),
  ],
  { error: `a strategy name (${STRATEGY_NAMES.join(', ')}) or an object with name and overrides` },
);

export const DEFAULT_MIX = { verify: 0.9, issue: 0.02, revoke: 0.04, revokeAll: 0.01, refresh: 0.03 };

const faultsSchema = z
  .array(
    z.strictObject({
      at: duration,
      action: z.enum(FAULT_ACTIONS),
      target: z.string().regex(/^(primary|replica|sentinel|killed|paused|shard-primary:\d+|(redis|sentinel)-\d+)$/, 'primary, replica, sentinel, killed, paused, shard-primary:<n> or a node id').optional(),
      /** Heal after this long: pause -> resume, kill -> restart. */
      for: duration.optional(),
    }),
  )
  .default([]);

/**
 * A scenario: what to run, on what, under which load and faults. Every field has a default; an
 * unknown field is an error, so a typo never silently falls back to a default.
 */
export const scenarioSchema = z.strictObject({
  /** Shown in reports. */
  name: z.string().min(1).default('scenario'),
  /** Where Redis runs: kind (single | sentinel | cluster) and its settings. Default: single. */
  topology: topologyOptionsSchema.prefault({ kind: 'single' }),
  /** Strategies to compare, each on a fresh topology. Default: blacklist. */
  strategies: z.array(strategyEntry).min(1).default(['blacklist']),
  /** JWT settings shared by every strategy (engine, alg, TTLs, leeway). */
  jwt: jwtSettingsSchema.prefault({}),
  /** What verify does when Redis fails, and WAIT after revocations. */
  policy: z
    .strictObject({
      failure: z.enum(['fail-closed', 'fail-open']).default('fail-closed'),
      wait: waitSchema.optional(),
    })
    .prefault({}),
  /** ioredis options that matter under failover (see DEFAULT_CLIENT_OPTIONS). */
  client: clientOptionsSchema.prefault({}),
  workload: z
    .strictObject({
      /** Distinct users (subjects). */
      users: z.number().int().min(1).default(10_000),
      /** Live sessions (tokens) per user at the start. */
      sessionsPerUser: z.number().int().min(1).max(100).default(1),
      /** Relative weights of operations; refresh only applies to double-token (elsewhere it becomes verify). */
      mix: z
        .strictObject({ verify: share.default(DEFAULT_MIX.verify), issue: share.default(DEFAULT_MIX.issue), revoke: share.default(DEFAULT_MIX.revoke), revokeAll: share.default(DEFAULT_MIX.revokeAll), refresh: share.default(DEFAULT_MIX.refresh) })
        .prefault({})
        .refine((m) => m.verify + m.issue + m.revoke + m.revokeAll + m.refresh > 0, 'weights that are not all zero'),
      /** Share of verifies that replay a token the workload revoked (attackers with stolen tokens). */
      revokedVerifyShare: share.default(0.1),
      /** Which users act: uniform, or zipf (a few users very active). */
      distribution: z.enum(['uniform', 'zipf']).default('uniform'),
      zipfExponent: z.number().min(0.01).max(5).default(1.0),
      /** Seed of every random choice (users, ops, fault targets): the same seed gives the same workload. */
      seed: z.number().int().default(1),
    })
    .prefault({}),
  load: z
    .strictObject({
      /** open: a fixed arrival rate, latency from the intended start (coordinated omission corrected); closed: fixed concurrency, for max throughput. */
      mode: z.enum(['open', 'closed']).default('open'),
      /** Open loop: operations per second. */
      rate: z.number().min(1).max(1_000_000).default(1000),
      /** Closed loop: operations in flight. */
      concurrency: z.number().int().min(1).max(10_000).default(32),
      /** Load before measuring (JIT, connections, caches). Not in the results. */
      warmup: duration.default(2000),
      /** The measured phase; fault times count from its start. */
      duration: duration.default(10_000),
      /** Width of a timeline bucket. */
      bucket: duration.default(100),
      /**
       * Load-generator threads. 1 runs in the main thread; more split users, rate and concurrency
       * between worker threads (one per core is the useful maximum) and merge their histograms.
       */
      workers: z.number().int().min(1).max(64).default(1),
      /** After the load: how long to wait for the healed topology to be ready before the final reconciliation. */
      settle: duration.default(30_000),
    })
    .prefault({}),
  /** Faults as data: `{ at: 10s, action: kill, target: primary }`, `{ at: 10s, action: pause, for: 5s }`. */
  faults: faultsSchema,
  /**
   * A matrix instead of one topology: every strategy runs on each entry, with that entry's faults
   * (the default suite: single without faults, sentinel and cluster with a failover).
   */
  topologies: z.array(z.strictObject({ topology: topologyOptionsSchema, faults: faultsSchema.optional() })).min(1).optional(),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;

export function scenarioLabel(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || '(scenario)';
}

/** Parses and cross-checks: a fault time outside the run, a failover on a single node... */
export function normalizeScenario(input: unknown, label: (path: readonly PropertyKey[]) => string = scenarioLabel): Scenario {
  const scenario = parseOrThrow(scenarioSchema, input, label);
  const check = (faults: Scenario['faults'], { kind, backend }: Scenario['topology'], at: (PropertyKey)[]) =>
    faults.forEach((fault, i) => {
      if (backend === 'external' && (fault.action === 'kill' || fault.action === 'restart')) {
        throw new InvalidOptionError(label([...at, i, 'action']), 'failover, pause or resume (an external deployment is not ours to kill or restart)', fault.action);
      }
      if (fault.at >= scenario.load.duration) {
        throw new InvalidOptionError(label([...at, i, 'at']), `a time within the measured phase (0 to ${scenario.load.duration} ms)`, `${fault.at} ms`);
      }
      if (fault.action === 'failover' && kind === 'single') {
        throw new InvalidOptionError(label([...at, i, 'action']), 'kill, pause, resume or restart (failover needs a sentinel or cluster topology)', fault.action);
      }
      if (fault.target === 'sentinel' && kind !== 'sentinel') {
        throw new InvalidOptionError(label([...at, i, 'target']), `a target that exists in a ${kind} topology`, fault.target);
      }
    });
  if (scenario.topologies) scenario.topologies.forEach((entry, i) => check(entry.faults ?? scenario.faults, entry.topology, entry.faults ? ['topologies', i, 'faults'] : ['faults']));
  else check(scenario.faults, scenario.topology, ['faults']);
  return scenario;
}

/** One scenario per topology entry: what a single `runStrategy` call runs. */
export function expandTopologies(scenario: Scenario): Scenario[] {
  if (!scenario.topologies) return [scenario];
  return scenario.topologies.map((entry) => ({ ...scenario, topology: entry.topology, faults: entry.faults ?? scenario.faults, topologies: undefined }));
}

export function strategyName(entry: Scenario['strategies'][number]): (typeof STRATEGY_NAMES)[number] {
  const name = typeof entry === 'string' ? entry : entry.name;
  return (STRATEGY_ALIASES as Record<string, (typeof STRATEGY_NAMES)[number]>)[name] ?? (name as (typeof STRATEGY_NAMES)[number]);
}

/** Reads a YAML or JSON scenario; a syntax error names the file, line and column. */
export function loadScenarioFile(path: string): Scenario {
  const data = readConfigFile(path, 'ERR_SCENARIO_FILE', 'scenario');
  try {
    return normalizeScenario(data ?? {});
  } catch (error) {
    if (error instanceof InvalidOptionError) throw new InvalidOptionError(`${path}: ${error.field}`, error.expected, error.received);
    throw error;
  }
}
