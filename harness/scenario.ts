import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { readConfigFile } from '../core/config-file.ts';
import { durationSchema, formatDuration } from '../core/duration.ts';
import { InvalidOptionError } from '../core/errors.ts';
import { parseOrThrow } from '../core/validation.ts';
import { parseThreshold, THRESHOLD_METRICS_TEXT } from '../result/thresholds.ts';
import { type HttpTargetInput, normalizeHttpTarget } from '../strategies/http/options.ts';
import { resolveModuleSpecifier } from '../strategies/module.ts';
import { jwtSettingsSchema, STRATEGY_ALIASES, STRATEGY_NAMES, waitSchema } from '../strategies/options.ts';
import { clientOptionsSchema } from '../topologies/client-options.ts';
import { FAULT_ACTIONS, isNetworkFault, LINK_DIRECTIONS } from '../topologies/faults.ts';
import { imageRefSchema, topologyOptionsSchema } from '../topologies/options.ts';
import { FAULT_KINDS } from './nemesis/kinds.ts';
import { checkShard } from './shard.ts';

const duration = durationSchema;

/** A node target, as the process faults take it. */
const NODE_TARGET_PATTERN = /^(primary|replica|sentinel|killed|paused|shard-primary:\d+|(redis|sentinel)-\d+)$/;
/** One side of a network fault, as a scenario writes it: the topology's terms, with client groups by name (`clients:<name>`). */
const SIDE_TERM = String.raw`(primary|replicas?|sentinels?|rest|shard-primary:\d+|(redis|sentinel)-\d+|clients:[A-Za-z0-9_-]+)`;
const CLIENT_SIDE_PATTERN = new RegExp(`^${SIDE_TERM}(\\+${SIDE_TERM})*$`);
const SCENARIO_SIDE_TEXT = 'terms joined by +: primary, replica(s), sentinel(s), shard-primary:<n>, a node id, clients:<group>, rest';
const share = z.number().min(0).max(1);
/** A moment every machine reads alike: a date, a time and a zone (`Z` or an offset). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const strategyEntry = z.union(
  [
    z.enum([...STRATEGY_NAMES, 'denylist', 'allowlist']),
    z
      .strictObject({
        name: z
          .enum([...STRATEGY_NAMES, 'denylist', 'allowlist'])
          .describe('The strategy; denylist and allowlist are other names for blacklist and whitelist.'),
        label: z.string().optional().describe('Shown in reports instead of the generated label (name, + WAIT, fail-open).'),
        jwt: jwtSettingsSchema.partial().optional().describe('Overrides of the scenario-wide jwt settings for this strategy.'),
        failurePolicy: z.enum(['fail-closed', 'fail-open']).optional().describe('Overrides policy.failure for this strategy.'),
        wait: waitSchema.nullable().optional().describe('Overrides policy.wait for this strategy; null: no WAIT even if policy.wait is set.'),
        blacklist: z
          .strictObject({
            layout: z.enum(['key-per-token', 'bucketed']).optional(),
            bucketMs: z.number().int().min(1).optional(),
            groups: z.number().int().min(1).optional(),
          })
          .optional(),
        whitelist: z.strictObject({ maxSessions: z.number().int().min(0).optional() }).optional(),
        replicated: z
          .strictObject({ boundedByMs: z.number().int().min(1).optional() })
          .optional()
          .describe('replicated-blacklist: the propagation bound its guarantee promises (default 1000 ms).'),
      })
      .describe('One strategy with overrides of the scenario-wide settings.'),
    z
      .strictObject({
        // Checked field by field in normalizeScenario: inside a union, an error would lose its path.
        // A record here, typed as what it holds: the JSON Schema says "an object", httpTargetSchema the rest.
        http: (z.record(z.string(), z.unknown()) as unknown as z.ZodType<HttpTargetInput>).describe(
          'A running service: baseUrl, login, verify, logout, revokeAll, responses (strategies/http/options.ts).',
        ),
        label: z.string().min(1).optional().describe("The team's name for the service, shown in reports."),
        guarantee: z
          .union([z.enum(['immediate', 'none']), z.strictObject({ boundedByMs: duration })])
          .optional()
          .describe('What the service promises for a revocation: immediate (default), none, or { boundedByMs }; the checkers hold it to that.'),
        failurePolicy: z
          .enum(['fail-closed', 'fail-open'])
          .optional()
          .describe('What the service does when its Redis fails, as the team states it (for the report).'),
      })
      .describe('A running service driven over HTTP.'),
    z
      .strictObject({
        module: z
          .string()
          .min(1)
          .describe("A file (./denylist.mjs, relative to the scenario file's directory) or a package name exporting createStrategy(options, { redis, now })."),
        label: z.string().min(1).optional().describe("Shown in reports instead of the module strategy's own label."),
        options: z.json().optional().describe("Handed to the module's createStrategy as its first argument."),
      })
      .describe('A strategy module: your own Strategy implementation, run under the same load, faults and checkers.'),
  ],
  { error: `a strategy name (${STRATEGY_NAMES.join(', ')}), an object with name and overrides, { http: ... } or { module: <file or package> }` },
);

export const DEFAULT_MIX = { verify: 0.9, issue: 0.02, revoke: 0.04, revokeAll: 0.01, refresh: 0.03 };

const percentSchema = z.union([
  z.number().gt(0).max(100),
  z
    .string()
    .regex(/^\d+(\.\d+)?%$/, 'a percentage such as 10%')
    .transform((text) => Number(text.slice(0, -1)))
    .pipe(z.number().gt(0, 'a percentage above 0').max(100, 'a percentage of at most 100')),
]);

const faultListSchema = z.array(
  z.strictObject({
    at: duration,
    action: z.enum(FAULT_ACTIONS),
    target: z
      .string()
      .regex(
        new RegExp(`^(${NODE_TARGET_PATTERN.source.slice(1, -1)}|${CLIENT_SIDE_PATTERN.source.slice(1, -1)})$`),
        `primary, replica, sentinel, killed, paused, shard-primary:<n> or a node id; network faults: ${SCENARIO_SIDE_TEXT}`,
      )
      .optional(),
    for: duration.optional().describe('Heal after this long: pause -> resume, kill -> restart, a network fault -> links restored.'),
    from: z
      .string()
      .regex(CLIENT_SIDE_PATTERN, SCENARIO_SIDE_TEXT)
      .optional()
      .describe('Network faults: the other side of the cut. Default: rest (every node and client group not in target).'),
    direction: z
      .enum(LINK_DIRECTIONS)
      .optional()
      .describe('Network faults: both (default), outbound (only packets from target) or inbound (only packets to it).'),
    loss: percentSchema.optional().describe('loss: the share of packets dropped on each link, e.g. 10%.'),
    delay: duration.optional().describe('delay: added to every packet on each link, e.g. 50ms.'),
    jitter: duration.optional().describe('delay: up to this much more, at random per packet.'),
  }),
);
const serverLabelSchema = z
  .string()
  .min(1)
  .optional()
  .describe('Shown instead of `<name> <version>` (as the server reports itself) in the labels of its runs and in reports.');

const serverEntry = z.union(
  [
    z
      .string()
      .min(1)
      .describe('A server binary on the process backend (looked up on PATH: valkey-server), an image on the container backend (valkey/valkey:8).'),
    z.strictObject({
      server: z.string().min(1).describe('Process backend: a server binary, looked up on PATH (valkey-server, /opt/redis-8/bin/redis-server).'),
      label: serverLabelSchema,
    }),
    // The reference is checked in normalizeScenario: inside a union, an error would lose its path.
    z.strictObject({ image: z.string().min(1).describe('Container backend: an image, e.g. valkey/valkey:8.'), label: serverLabelSchema }),
  ],
  { error: 'a server binary (valkey-server), { server: <binary>, label? } or { image: <ref>, label? }' },
);

// Without a default of its own: a matrix entry without faults takes the scenario's (a default
// would give it an empty list and silently drop them).
const faultsSchema = faultListSchema.default([]);

/**
 * A scenario: what to run, on what, under which load and faults. Every field has a default; an
 * unknown field is an error, so a typo never silently falls back to a default.
 */
export const scenarioSchema = z.strictObject({
  name: z.string().min(1).default('scenario').describe('Shown in reports.'),
  topology: topologyOptionsSchema
    .prefault({ kind: 'single' })
    .describe('Where Redis runs: kind (single | sentinel | cluster) and its settings. Default: single.'),
  strategies: z.array(strategyEntry).min(1).default(['blacklist']).describe('Strategies to compare, each on a fresh topology. Default: blacklist.'),
  jwt: jwtSettingsSchema.prefault({}).describe('JWT settings shared by every strategy (engine, alg, TTLs, leeway).'),
  policy: z
    .strictObject({
      failure: z
        .enum(['fail-closed', 'fail-open'])
        .default('fail-closed')
        .describe('What verify does when Redis errors or times out: reject (fail-closed) or accept (fail-open).'),
      wait: waitSchema.optional().describe('WAIT <replicas> <timeoutMs> after each revocation write. Off by default.'),
    })
    .prefault({})
    .describe('What verify does when Redis fails, and WAIT after revocations.'),
  client: clientOptionsSchema.prefault({}).describe('ioredis options that matter under failover (see DEFAULT_CLIENT_OPTIONS).'),
  workload: z
    .strictObject({
      users: z.number().int().min(1).default(10_000).describe('Distinct users (subjects).'),
      sessionsPerUser: z.number().int().min(1).max(100).default(1).describe('Live sessions (tokens) per user at the start.'),
      mix: z
        .strictObject({
          verify: share.default(DEFAULT_MIX.verify),
          issue: share.default(DEFAULT_MIX.issue),
          revoke: share.default(DEFAULT_MIX.revoke),
          revokeAll: share.default(DEFAULT_MIX.revokeAll),
          refresh: share.default(DEFAULT_MIX.refresh),
        })
        .prefault({})
        .refine((m) => m.verify + m.issue + m.revoke + m.revokeAll + m.refresh > 0, 'weights that are not all zero')
        .describe('Relative weights of operations, not all zero; refresh only applies to double-token (elsewhere it becomes verify).'),
      revokedVerifyShare: share.default(0.1).describe('Share of verifies that replay a token the workload revoked (attackers with stolen tokens).'),
      distribution: z.enum(['uniform', 'zipf']).default('uniform').describe('Which users act: uniform, or zipf (a few users very active).'),
      zipfExponent: z.number().min(0.01).max(5).default(1.0),
      seed: z.number().int().default(1).describe('Seed of every random choice (users, ops, fault targets): the same seed gives the same workload.'),
    })
    .prefault({})
    .describe('Who acts and what they do.'),
  load: z
    .strictObject({
      mode: z
        .enum(['open', 'closed'])
        .default('open')
        .describe(
          'open: a fixed arrival rate, latency from the intended start (coordinated omission corrected); closed: fixed concurrency, for max throughput.',
        ),
      rate: z.number().min(1).max(1_000_000).default(1000).describe('Open loop: operations per second.'),
      concurrency: z.number().int().min(1).max(10_000).default(32).describe('Closed loop: operations in flight.'),
      warmup: duration.default(2000).describe('Load before measuring (JIT, connections, caches). Not in the results.'),
      duration: duration.default(10_000).describe('The measured phase; fault times count from its start.'),
      bucket: duration.default(100).describe('Width of a timeline bucket.'),
      workers: z
        .number()
        .int()
        .min(1)
        .max(64)
        .default(1)
        .describe(
          'Load-generator threads. 1 runs in the main thread; more split users, rate and concurrency between worker threads (one per core is the useful maximum) and merge their histograms.',
        ),
      verifiers: z
        .number()
        .int()
        .min(0)
        .max(8)
        .default(0)
        .describe(
          'Verifier instances: worker threads, each with its own client and strategy instance (its own cache or replica), that make no load of their own but probe every revocation a load generator has acknowledged until they reject it: how long other gateways of a fleet still accept a revoked token (checks.propagation-lag.acrossInstances).',
        ),
      settle: duration.default(30_000).describe('After the load: how long to wait for the healed topology to be ready before the final reconciliation.'),
      clientGroups: z
        .array(
          z.strictObject({
            name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'a name of letters, digits, _ and -'),
            share: z.number().gt(0).max(1).describe("The group's share of users and rate."),
          }),
        )
        .max(50)
        .default([])
        .describe(
          'Load generators that send from their own loopback address, so a network fault can put them on either side (`clients:<name>` in a fault). The rest of the load (1 - the shares) sends from 127.0.0.1, outside every fault.',
        ),
      shard: z
        .strictObject({ index: z.number().int().min(0), count: z.number().int().min(2).max(1000) })
        .optional()
        .describe(
          "This generator's part of a run split across `count` generators (`run --shard <index>/<count>`, harness/shard.ts): a slice of the users, 1/count of the rate and concurrency, its own seeds; every generator runs the same scenario against the same external deployment, and `tokenbench merge` adds their results.",
        ),
      startAt: z
        .string()
        .regex(ISO_TIME, 'an ISO 8601 time with its zone, e.g. 2026-12-01T10:00:00Z')
        .refine((text) => Number.isFinite(Date.parse(text)), 'a time that exists, e.g. 2026-12-01T10:00:00Z')
        .optional()
        .describe('With `shard`: the wall-clock time (ISO 8601) every generator starts its measured phase at, after its warm-up (`run --start-at`).'),
    })
    .prefault({})
    .describe('How hard and how long.'),
  faults: faultsSchema.describe('Faults as data: `{ at: 10s, action: kill, target: primary }`, `{ at: 10s, action: pause, for: 5s }`.'),
  thresholds: z
    .record(z.string(), z.union([z.number(), z.string()]))
    .default({})
    .describe(
      `Limits checked on every run; one broken makes \`tokenbench run\` exit 3. A limit is a maximum (a count, or a duration for times), except throughput (a minimum, ops/s). Metrics: ${THRESHOLD_METRICS_TEXT}. E.g. { violations: 0, lostRevocations: 0, verify.steady.p99: 10ms, unavailability.longest: 3s }.`,
    ),
  service: z
    .strictObject({
      command: z.string().min(1).describe('Run with `sh -c` after the topology is ready, in its own process group, with the endpoints in its environment.'),
      env: z
        .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string())
        .default({})
        .describe("More environment variables; they win over tokenbench's. Written to scenario.json as given: pass secrets in tokenbench's own environment."),
      ready: z
        .strictObject({
          url: z
            .string({ error: 'an http:// or https:// URL, e.g. http://127.0.0.1:{{port}}/healthz' })
            .regex(/^https?:\/\/\S+$/, 'an http:// or https:// URL, e.g. http://127.0.0.1:{{port}}/healthz')
            .describe('Polled until it answers 2xx; {{port}} is the port the service printed.'),
          timeout: duration.default(30_000).describe('How long it may take to become ready.'),
        })
        // Left out, the object is filled in so that the error names the missing url (and --ready-url).
        .prefault({} as { url: string }),
      portPattern: z
        .string()
        .default('listening on (\\d+)')
        .refine((text) => {
          try {
            new RegExp(text);
            return true;
          } catch {
            return false;
          }
        }, 'a regular expression')
        .describe("How the service says its port, in its output: the first capture group. {{port}} in ready.url and in the strategy's options becomes it."),
      envNames: z
        .strictObject({
          url: z.string().default('REDIS_URL'),
          sentinels: z.string().default('REDIS_SENTINELS'),
          masterName: z.string().default('REDIS_MASTER_NAME'),
          clusterNodes: z.string().default('REDIS_CLUSTER_NODES'),
          username: z.string().default('REDIS_USERNAME'),
          // Not `password`: a field of that name is a secret to core/secrets.ts, and these are names, not secrets.
          auth: z.string().default('REDIS_PASSWORD'),
          sentinelAuth: z.string().default('REDIS_SENTINEL_PASSWORD'),
        })
        .prefault({})
        .describe("The names the topology's endpoints and credentials are given under."),
      stopTimeout: duration.default(5000).describe('After SIGTERM to its process group, how long before SIGKILL.'),
    })
    .optional()
    .describe('Your service, started for every strategy run on its fresh topology and stopped with it (`run --exec`).'),
  topologies: z
    .array(
      z.strictObject({
        topology: topologyOptionsSchema,
        faults: faultListSchema.optional(),
        client: clientOptionsSchema.optional().describe("Overrides of the scenario's client options on this entry, e.g. failoverDetector: false."),
        label: z
          .string()
          .min(1)
          .optional()
          .describe('Added to the label of every run on this entry, so two entries of the same kind read apart: `min-replicas-to-write 1`.'),
      }),
    )
    .min(1)
    .optional()
    .describe(
      "A matrix instead of one topology: every strategy runs on each entry, with that entry's faults (the default suite: single without faults, sentinel and cluster with a failover).",
    ),
  servers: z
    .array(serverEntry)
    .min(1)
    .optional()
    .describe(
      "A matrix of servers: every strategy runs on every topology (entry) once per server, e.g. [redis-server, valkey-server], or images on the container backend ([redis:7.4, valkey/valkey:8]). With more than one, each run label names its server. Default: the topology's own (redisServer, image).",
    ),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type ServiceOptions = NonNullable<Scenario['service']>;

export function scenarioLabel(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || '(scenario)';
}

/** Parses and cross-checks: a fault time outside the run, a failover on a single node... */
export function normalizeScenario(
  input: unknown,
  label: (path: readonly PropertyKey[]) => string = scenarioLabel,
  /** Where relative strategy module paths start from: the scenario file's directory, else the cwd. */
  baseDir: string = process.cwd(),
): Scenario {
  const scenario = parseOrThrow(scenarioSchema, input, label);
  for (const [i, entry] of scenario.strategies.entries())
    if (typeof entry === 'object' && 'http' in entry) entry.http = normalizeHttpTarget(entry.http, (path) => label(['strategies', i, 'http', ...path]));
  scenario.strategies = scenario.strategies.map((entry) =>
    isModuleEntry(entry) ? { ...entry, module: resolveModuleSpecifier(entry.module, baseDir) } : entry,
  );
  const groups = new Set(scenario.load.clientGroups.map((g) => g.name));
  const shares = scenario.load.clientGroups.reduce((sum, g) => sum + g.share, 0);
  if (shares > 1 + 1e-9) throw new InvalidOptionError(label(['load', 'clientGroups']), 'shares that add up to at most 1', Math.round(shares * 1000) / 1000);
  if (groups.size < scenario.load.clientGroups.length) throw new InvalidOptionError(label(['load', 'clientGroups']), 'distinct names', [...groups].join(', '));
  if (scenario.load.clientGroups.length > 0 && scenario.load.workers > 1)
    throw new InvalidOptionError(label(['load', 'workers']), '1 with client groups (each group is its own load generator)', scenario.load.workers);
  const check = (faults: Scenario['faults'], topology: Scenario['topology'], at: PropertyKey[]) => {
    for (const [i, fault] of faults.entries()) {
      const field = (name: string) => label([...at, i, name]);
      const unsupported = FAULT_KINDS[fault.action].unsupported(topology);
      if (unsupported) throw new InvalidOptionError(field('action'), unsupported, fault.action);
      if (fault.at >= scenario.load.duration) {
        throw new InvalidOptionError(field('at'), `a time within the measured phase (0 to ${scenario.load.duration} ms)`, `${fault.at} ms`);
      }
      const sides = [fault.target, fault.from].filter((t) => t !== undefined).join('+');
      if (/(^|\+)sentinels?($|\+)/.test(sides) && topology.kind !== 'sentinel') {
        throw new InvalidOptionError(field(fault.from?.includes('sentinel') ? 'from' : 'target'), `a target that exists in a ${topology.kind} topology`, sides);
      }
      if (isNetworkFault(fault.action)) {
        if (fault.target !== undefined && !CLIENT_SIDE_PATTERN.test(fault.target))
          throw new InvalidOptionError(field('target'), SCENARIO_SIDE_TEXT, fault.target);
        for (const name of sides.matchAll(/clients:([A-Za-z0-9_-]+)/g)) {
          if (!groups.has(name[1]!))
            throw new InvalidOptionError(
              field(fault.from?.includes(name[0]) ? 'from' : 'target'),
              `a client group of load.clientGroups (${[...groups].join(', ') || 'none defined'})`,
              name[0],
            );
        }
        if (fault.action === 'loss' && fault.loss === undefined)
          throw new InvalidOptionError(field('loss'), 'a percentage of packets to drop, e.g. 10%', undefined);
        if (fault.action === 'delay' && fault.delay === undefined) throw new InvalidOptionError(field('delay'), 'a delay per packet, e.g. 50ms', undefined);
        if (fault.action !== 'loss' && fault.loss !== undefined) throw new InvalidOptionError(field('loss'), 'no loss on a fault other than loss', fault.loss);
        for (const name of ['delay', 'jitter'] as const)
          if (fault.action !== 'delay' && fault[name] !== undefined)
            throw new InvalidOptionError(field(name), `no ${name} on a fault other than delay`, fault[name]);
      } else {
        if (fault.target !== undefined && !NODE_TARGET_PATTERN.test(fault.target))
          throw new InvalidOptionError(field('target'), 'primary, replica, sentinel, killed, paused, shard-primary:<n> or a node id', fault.target);
        for (const name of ['from', 'direction', 'loss', 'delay', 'jitter'] as const)
          if (fault[name] !== undefined)
            throw new InvalidOptionError(field(name), `nothing on ${fault.action} (${name} is for network faults: partition, loss, delay)`, fault[name]);
      }
    }
  };
  /** Network faults and client groups cut links between addresses: every node needs its own. */
  const withAddresses = (topology: Scenario['topology'], faults: Scenario['faults']): Scenario['topology'] =>
    topology.backend !== 'external' && (faults.some((f) => isNetworkFault(f.action)) || groups.size > 0) ? { ...topology, addresses: 'per-node' } : topology;
  if (scenario.topologies) {
    for (const [i, entry] of scenario.topologies.entries()) {
      check(entry.faults ?? scenario.faults, entry.topology, entry.faults ? ['topologies', i, 'faults'] : ['faults']);
      entry.topology = withAddresses(entry.topology, entry.faults ?? scenario.faults);
    }
  } else check(scenario.faults, scenario.topology, ['faults']);
  checkShard(scenario, label);
  scenario.topology = withAddresses(scenario.topology, scenario.faults);
  if (scenario.servers) checkServers(scenario.servers, scenario.topologies?.map((entry) => entry.topology) ?? [scenario.topology], label);
  // Limits as numbers in their metric's unit (ms for times), so the scenario written beside a result says what was checked.
  scenario.thresholds = Object.fromEntries(
    Object.entries(scenario.thresholds).map(([metric, limit]) => [metric, parseThreshold(metric, limit, label(['thresholds'])).limit]),
  );
  return scenario;
}

export type ServerEntry = NonNullable<Scenario['servers']>[number];

/** A servers entry must be something its topologies' backend can run: a binary for processes, an image for containers. */
function checkServers(servers: readonly ServerEntry[], topologies: readonly Scenario['topology'][], label: (path: readonly PropertyKey[]) => string): void {
  const external = topologies.find((topology) => topology.backend === 'external');
  if (external)
    throw new InvalidOptionError(
      label(['servers']),
      "no servers matrix on the external backend (its servers are the deployment's)",
      servers.map(serverCommand).join(', '),
    );
  const containers = topologies.some((topology) => topology.backend === 'container');
  const processes = topologies.some((topology) => topology.backend === 'process');
  for (const [i, entry] of servers.entries()) {
    if (typeof entry === 'object' && 'server' in entry && containers)
      throw new InvalidOptionError(
        label(['servers', i]),
        'an image on the container backend, e.g. { image: valkey/valkey:8 } (a server binary is for the process backend)',
        entry.server,
      );
    if (typeof entry === 'object' && 'image' in entry && processes)
      throw new InvalidOptionError(
        label(['servers', i]),
        'a server binary on the process backend, e.g. { server: valkey-server } (an image is for --backend container)',
        entry.image,
      );
    if (containers && !imageRefSchema.safeParse(serverCommand(entry)).success)
      throw new InvalidOptionError(
        label(typeof entry === 'string' ? ['servers', i] : ['servers', i, 'image']),
        'an image reference such as valkey/valkey:8',
        serverCommand(entry),
      );
  }
}

/** What a servers entry runs: the binary or the image, as written. */
export function serverCommand(entry: ServerEntry): string {
  return typeof entry === 'string' ? entry : 'server' in entry ? entry.server : entry.image;
}

/** The scenario's thresholds, parsed (normalizeScenario leaves them as numbers in their unit). */
export function thresholdsOf(scenario: Scenario): Record<string, number> {
  return Object.fromEntries(Object.entries(scenario.thresholds).map(([metric, limit]) => [metric, parseThreshold(metric, limit, 'thresholds').limit]));
}

/**
 * What a reader of the scenario should know before running it: a fault whose outage is expected to
 * outlast the measured phase, so that its unavailability would be a lower bound and recovery would
 * not be measured.
 */
export function scenarioWarnings(scenario: Scenario): string[] {
  const warnings: string[] = [];
  for (const [index, part] of topologyParts(scenario).entries()) {
    const where = scenario.topologies ? `topologies[${index}] (${part.topology.kind})` : part.topology.kind;
    for (const [i, fault] of part.faults.entries()) {
      const estimate = FAULT_KINDS[fault.action].recoveryEstimateMs?.(part.topology, fault.for);
      const leftMs = scenario.load.duration - fault.at;
      if (estimate === undefined || estimate <= leftMs) continue;
      const why = Number.isFinite(estimate) ? `recovery takes about ${formatDuration(estimate)} here` : 'nothing heals it before the load ends (no `for`)';
      warnings.push(
        `faults[${i}] on ${where}: ${fault.action} at ${formatDuration(fault.at)} leaves ${formatDuration(leftMs)} of the measured phase, and ${why}: the outage may still be open when it ends (its length then a lower bound, its recovery not measured).`,
      );
    }
  }
  return warnings;
}

/** A servers matrix entry, as the parts made of it carry it (the binary or image itself is in their topology). */
export interface ServerChoice {
  /** The entry's own label, shown instead of `<name> <version>`. */
  label?: string;
  /** More than one server in the matrix: each run's label says which (one entry changes no label). */
  inRunLabel: boolean;
}

/** One entry of a topology matrix (on one server of a servers matrix) as a scenario of its own, with the label its runs carry. */
export type ScenarioPart = Scenario & { topologyLabel?: string; server?: ServerChoice };

/** One scenario per topology entry and server, topologies first: what a single `runStrategy` call runs. */
export function expandTopologies(scenario: Scenario): ScenarioPart[] {
  const parts = topologyParts(scenario);
  const servers = scenario.servers;
  if (!servers) return parts;
  return parts.flatMap((part) => servers.map((entry) => onServer(part, entry, servers.length > 1)));
}

function topologyParts(scenario: Scenario): ScenarioPart[] {
  if (!scenario.topologies) return [scenario];
  return scenario.topologies.map((entry) => ({
    ...scenario,
    topology: entry.topology,
    faults: entry.faults ?? scenario.faults,
    client: { ...scenario.client, ...entry.client },
    ...(entry.label !== undefined && { topologyLabel: entry.label }),
    topologies: undefined,
  }));
}

function onServer(part: ScenarioPart, entry: ServerEntry, inRunLabel: boolean): ScenarioPart {
  const command = serverCommand(entry);
  const topology = (
    part.topology.backend === 'container' ? { ...part.topology, image: command } : { ...part.topology, redisServer: command }
  ) as Scenario['topology'];
  const label = typeof entry === 'string' ? undefined : entry.label;
  return { ...part, topology, servers: undefined, server: { ...(label !== undefined && { label }), inRunLabel } };
}

export type StrategyEntry = Scenario['strategies'][number];
export type HttpEntry = Extract<StrategyEntry, { http: unknown }>;
export type ModuleStrategyEntry = Extract<StrategyEntry, { module: string }>;
/** Ours, by name or with overrides, and the HTTP kind: what strategyName() names. */
export type BuiltinStrategyEntry = Exclude<StrategyEntry, ModuleStrategyEntry>;

export function isHttpEntry(entry: StrategyEntry): entry is HttpEntry {
  return typeof entry === 'object' && 'http' in entry;
}

export function isModuleEntry(entry: StrategyEntry): entry is ModuleStrategyEntry {
  return typeof entry === 'object' && 'module' in entry;
}

export function strategyName(entry: BuiltinStrategyEntry): (typeof STRATEGY_NAMES)[number] | 'http' {
  if (isHttpEntry(entry)) return 'http';
  const name = typeof entry === 'string' ? entry : entry.name;
  return (STRATEGY_ALIASES as Record<string, (typeof STRATEGY_NAMES)[number]>)[name] ?? (name as (typeof STRATEGY_NAMES)[number]);
}

/** Reads a YAML or JSON scenario; a syntax error names the file, line and column. */
export function loadScenarioFile(path: string): Scenario {
  const data = readConfigFile(path, 'ERR_SCENARIO_FILE', 'scenario');
  try {
    return normalizeScenario(data ?? {}, scenarioLabel, dirname(resolve(path)));
  } catch (error) {
    if (error instanceof InvalidOptionError) throw new InvalidOptionError(`${path}: ${error.field}`, error.expected, error.received);
    throw error;
  }
}
