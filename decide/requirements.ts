import { z } from 'zod';
import { readConfigFile } from '../core/config-file.ts';
import { durationSchema, formatDuration } from '../core/duration.ts';
import { InvalidOptionError, TokenbenchError } from '../core/errors.ts';
import { dottedPath, parseOrThrow } from '../core/validation.ts';
import { TOPOLOGY_KINDS } from '../topologies/options.ts';

const duration = durationSchema;
const positiveDuration = duration.refine((ms) => ms > 0, 'a duration above 0');
const count = (min: number) => z.number().int().min(min);

export const REVOCATION_MODES = ['none', 'logout', 'immediate', 'bounded'] as const;

/** One place for the defaults, so the README table, --help and the schema cannot drift apart. */
export const DEFAULT_REQUIREMENTS = {
  name: 'requirements',
  revocation: { mode: 'logout', revokeAllDevices: false, maxSessionsPerUser: 0, onlineUserCount: false, neverAcceptRevoked: false },
  latency: { verifyP99: 50, verifyP999: null, peakVerifyRate: 1000 },
  tokens: { accessTtl: 30 * 60_000, refreshTtl: 7 * 86_400_000, leeway: 5000 },
  scale: { activeUsers: 100_000, tokensPerUser: 2, revocationsPerDay: 10_000 },
  redis: { onFailure: 'deny', ackedRevocationsMayBeLost: true, topologies: [...TOPOLOGY_KINDS], maxUnavailability: null },
  assumptions: { redisOpsPerNode: null },
} as const;
const D = DEFAULT_REQUIREMENTS;

/**
 * What the team needs, in its own words. Strict objects: a misspelt field is an error, never a
 * silent default that changes the recommendation.
 */
export const requirementsSchema = z.strictObject({
  name: z.string().min(1).default(D.name).describe('Shown as the title of the decision record.'),
  revocation: z
    .strictObject({
      mode: z
        .enum(REVOCATION_MODES)
        .default(D.revocation.mode)
        .describe(
          "none: nothing is revoked before it expires. logout: a logged-out session ends; its access token may live out its own lifetime. immediate: the next verify after the revocation's ack rejects. bounded: rejected within `within`.",
        ),
      within: positiveDuration.optional().describe('bounded only (and required there): how long a revoked token may still be accepted, e.g. 5s.'),
      revokeAllDevices: z.boolean().default(D.revocation.revokeAllDevices).describe('Revoke every token of a user at once (ban, password change).'),
      maxSessionsPerUser: count(0)
        .default(D.revocation.maxSessionsPerUser)
        .describe('Concurrent sessions per user; the oldest is evicted beyond it. 0: no limit.'),
      onlineUserCount: z.boolean().default(D.revocation.onlineUserCount).describe('The service must be able to count who is logged in.'),
      neverAcceptRevoked: z
        .boolean()
        .default(D.revocation.neverAcceptRevoked)
        .describe('No revoked token may ever be accepted: not during an outage, not after a failover.'),
    })
    .prefault({}),
  latency: z
    .strictObject({
      verifyP99: positiveDuration.default(D.latency.verifyP99).describe('Budget for verify at p99 (steady state, before any fault).'),
      verifyP999: positiveDuration.nullable().default(D.latency.verifyP999).describe('Budget for verify at p99.9, at least verifyP99; null: no budget.'),
      peakVerifyRate: z.number().min(1).max(100_000_000).default(D.latency.peakVerifyRate).describe('Verifications per second at peak, for the cost model.'),
    })
    .prefault({}),
  tokens: z
    .strictObject({
      accessTtl: positiveDuration
        .default(D.tokens.accessTtl)
        .describe("Access token lifetime: a blacklist entry lives this long; double-token's revocation bound."),
      refreshTtl: positiveDuration
        .default(D.tokens.refreshTtl)
        .describe('Refresh token lifetime (double-token), at least accessTtl: how long a session lasts without logging in.'),
      leeway: duration.default(D.tokens.leeway).describe('Clock skew tolerated on exp / nbf.'),
    })
    .prefault({}),
  scale: z
    .strictObject({
      activeUsers: count(1).max(10_000_000_000).default(D.scale.activeUsers).describe('Users with a live session at the busiest time.'),
      tokensPerUser: count(1).max(10_000).default(D.scale.tokensPerUser).describe('Live tokens (devices, sessions) per active user.'),
      revocationsPerDay: z.number().min(0).max(1e12).default(D.scale.revocationsPerDay).describe('Logouts, bans and password changes per day.'),
    })
    .prefault({}),
  redis: z
    .strictObject({
      onFailure: z
        .enum(['deny', 'allow'])
        .default(D.redis.onFailure)
        .describe('When Redis cannot answer: deny (fail-closed, valid tokens rejected) or allow (fail-open, revoked tokens accepted).'),
      ackedRevocationsMayBeLost: z
        .boolean()
        .default(D.redis.ackedRevocationsMayBeLost)
        .describe('false: an acknowledged revocation must survive a failover (asynchronous replication can lose it).'),
      topologies: z
        .array(z.enum(TOPOLOGY_KINDS))
        .default([...D.redis.topologies])
        .describe('Topologies the team can run, each at most once. []: no Redis at all.'),
      maxUnavailability: positiveDuration
        .nullable()
        .default(D.redis.maxUnavailability)
        .describe('Longest tolerated window without an answer from Redis when a node fails; null: no bound.'),
    })
    .prefault({}),
  assumptions: z
    .strictObject({
      redisOpsPerNode: z
        .number()
        .min(1)
        .nullable()
        .default(D.assumptions.redisOpsPerNode)
        .describe(
          "Redis operations per second one primary sustains, for the shard count. null: use the figure of a closed-loop run (decide's capacity probe; a lower bound: the rate the harness reached); without one, node counts are not measured.",
        ),
    })
    .prefault({}),
});

export type RequirementsInput = z.input<typeof requirementsSchema>;
export type Requirements = z.output<typeof requirementsSchema>;

/** Requirements that cannot all hold at once. Each is named, never silently resolved. */
export class ContradictionError extends TokenbenchError {
  readonly contradictions: readonly string[];
  constructor(source: string, contradictions: readonly string[]) {
    super('ERR_REQUIREMENTS_CONTRADICTION', `${source}: contradictory requirements:\n${contradictions.map((c) => `  - ${c}`).join('\n')}`);
    this.contradictions = contradictions;
  }
}

export function describeRevocation(r: Requirements): string {
  const mode = r.revocation.mode;
  if (mode === 'bounded') return `revocation within ${formatDuration(r.revocation.within!)}`;
  return mode === 'none' ? 'no early revocation' : mode === 'logout' ? 'revocation on logout' : 'immediate revocation';
}

/** Pairs of requirements no scheme can satisfy together, in plain words. */
export function findContradictions(r: Requirements): string[] {
  const found: string[] = [];
  const noRedis = r.redis.topologies.length === 0;
  if (noRedis) {
    const needsState = [
      r.revocation.mode !== 'none' && `'${describeRevocation(r)}' (revocation.mode: ${r.revocation.mode})`,
      r.revocation.revokeAllDevices && "'revoke all devices' (revocation.revokeAllDevices)",
      r.revocation.maxSessionsPerUser > 0 && "'a session limit' (revocation.maxSessionsPerUser)",
      r.revocation.onlineUserCount && "'an online-user count' (revocation.onlineUserCount)",
    ].filter(Boolean);
    for (const need of needsState) found.push(`${need} needs shared state in Redis, but redis.topologies is [] (no Redis allowed)`);
  }
  if (r.revocation.neverAcceptRevoked) {
    if (r.redis.onFailure === 'allow')
      found.push(
        "redis.onFailure 'allow' (fail-open accepts every token while Redis is down, revoked ones included) contradicts revocation.neverAcceptRevoked: true",
      );
    if (r.revocation.mode !== 'immediate')
      found.push(
        `revocation.neverAcceptRevoked: true needs revocation.mode 'immediate'; '${r.revocation.mode}' accepts a revoked token ${r.revocation.mode === 'none' ? 'until it expires' : 'for a while'}`,
      );
    if (r.redis.ackedRevocationsMayBeLost && !noRedis)
      found.push(
        'redis.ackedRevocationsMayBeLost: true contradicts revocation.neverAcceptRevoked: true (a revocation lost in a failover is a revoked token accepted again)',
      );
  }
  if (r.revocation.maxSessionsPerUser > 0 && r.scale.tokensPerUser > r.revocation.maxSessionsPerUser) {
    found.push(
      `scale.tokensPerUser ${r.scale.tokensPerUser} exceeds revocation.maxSessionsPerUser ${r.revocation.maxSessionsPerUser}: users cannot hold more live tokens than the session limit allows`,
    );
  }
  return found;
}

/** Parses, checks impossible numbers (field path, expected, received), then names contradictions. */
export function normalizeRequirements(input: unknown, source = 'requirements', label: (path: readonly PropertyKey[]) => string = dottedPath): Requirements {
  const r = parseOrThrow(requirementsSchema, input ?? {}, label);
  const raw = (input ?? {}) as { revocation?: { within?: unknown }; latency?: { verifyP999?: unknown } };
  if (r.revocation.mode === 'bounded' && r.revocation.within === undefined) {
    throw new InvalidOptionError(label(['revocation', 'within']), "a bound such as 5s (revocation.mode is 'bounded')", undefined);
  }
  if (r.revocation.mode !== 'bounded' && r.revocation.within !== undefined) {
    throw new InvalidOptionError(
      label(['revocation', 'within']),
      `nothing: a bound applies only to revocation.mode 'bounded' (mode is '${r.revocation.mode}')`,
      raw.revocation?.within,
    );
  }
  if (r.latency.verifyP999 !== null && r.latency.verifyP999 < r.latency.verifyP99) {
    throw new InvalidOptionError(
      label(['latency', 'verifyP999']),
      `a budget >= latency.verifyP99 (${formatDuration(r.latency.verifyP99)}): p99.9 cannot be faster than p99`,
      raw.latency?.verifyP999,
    );
  }
  if (r.tokens.refreshTtl < r.tokens.accessTtl) {
    throw new InvalidOptionError(
      label(['tokens', 'refreshTtl']),
      `a lifetime >= tokens.accessTtl (${formatDuration(r.tokens.accessTtl)})`,
      (input as { tokens?: { refreshTtl?: unknown } }).tokens?.refreshTtl,
    );
  }
  if (new Set(r.redis.topologies).size !== r.redis.topologies.length) {
    throw new InvalidOptionError(label(['redis', 'topologies']), 'each topology at most once', r.redis.topologies);
  }
  const contradictions = findContradictions(r);
  if (contradictions.length > 0) throw new ContradictionError(source, contradictions);
  return r;
}

/** Reads YAML or JSON; syntax errors name the file, field errors name the file and the field path. */
export function loadRequirementsFile(path: string): Requirements {
  const data = readConfigFile(path, 'ERR_REQUIREMENTS_FILE', 'requirements');
  return normalizeRequirements(data, path, (p) => `${path}: ${dottedPath(p)}`);
}
