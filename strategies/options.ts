import { z } from 'zod';
import { parseOrThrow } from '../core/validation.ts';
import { JWT_ENGINES } from './jwt/engines.ts';
import { JWT_ALGORITHMS } from './jwt/keys.ts';

export const STRATEGY_ALIASES = { denylist: 'blacklist', allowlist: 'whitelist' } as const;
export const STRATEGY_NAMES = ['pure', 'blacklist', 'whitelist', 'double-token', 'replicated-blacklist', 'cached-blacklist'] as const;

export const DEFAULT_JWT_SETTINGS = {
  /** jose (WebCrypto) or fast-jwt (node:crypto, about 10x faster on HS256). */
  engine: 'jose' as (typeof JWT_ENGINES)[number],
  alg: 'ES256' as (typeof JWT_ALGORITHMS)[number],
  issuer: 'tokenbench',
  audience: 'tokenbench-api',
  /** Access token lifetime: 30 min, the usual production value. */
  accessTtlMs: 30 * 60_000,
  /** Refresh token lifetime (double-token): 7 days. */
  refreshTtlMs: 7 * 24 * 3_600_000,
  leewayMs: 5_000,
  maxTokenBytes: 8 * 1024,
};

const positiveMs = z.number().int().min(1);
/** WAIT <replicas> <timeoutMs> after each revocation write. */
export const waitSchema = z.strictObject({ replicas: z.number().int().min(1), timeoutMs: z.number().int().min(0) });
export const jwtSettingsSchema = z.strictObject({
  engine: z.enum(JWT_ENGINES).default(DEFAULT_JWT_SETTINGS.engine),
  alg: z.enum(JWT_ALGORITHMS).default(DEFAULT_JWT_SETTINGS.alg),
  issuer: z.string().min(1).default(DEFAULT_JWT_SETTINGS.issuer),
  audience: z.string().min(1).default(DEFAULT_JWT_SETTINGS.audience),
  accessTtlMs: positiveMs.default(DEFAULT_JWT_SETTINGS.accessTtlMs),
  refreshTtlMs: positiveMs.default(DEFAULT_JWT_SETTINGS.refreshTtlMs),
  leewayMs: z.number().int().min(0).default(DEFAULT_JWT_SETTINGS.leewayMs),
  // Unset, these two follow leewayMs: whoever widens the skew tolerance widens it everywhere.
  // A token dated ahead outlives a revokeAll made before its date, so iat gets no more than skew.
  iatLeewayMs: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("How far ahead of the verifier's clock iat may lie (clock skew between issuer and verifier). Default: leewayMs."),
  lifetimeLeewayMs: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('How far exp - iat and exp - now may exceed accessTtlMs (refreshTtlMs for refresh tokens). Default: leewayMs.'),
  maxTokenBytes: z
    .number()
    .int()
    .min(256)
    .max(1024 * 1024)
    .default(DEFAULT_JWT_SETTINGS.maxTokenBytes),
  keys: z
    .strictObject({
      secret: z.string().min(32, 'a secret of at least 32 characters').optional(),
      privateKeyPem: z.string().optional(),
      publicKeyPem: z.string().optional(),
    })
    .optional(),
});

export const strategyOptionsSchema = z
  .strictObject({
    name: z.enum([...STRATEGY_NAMES, 'denylist', 'allowlist']),
    jwt: jwtSettingsSchema.default(jwtSettingsSchema.parse({})),
    /**
     * What verify does when Redis errors or times out: reject (fail-closed, the default) or accept
     * (fail-open). Either way the verdict is marked degraded.
     */
    failurePolicy: z.enum(['fail-closed', 'fail-open']).default('fail-closed'),
    /** WAIT <replicas> <timeoutMs> after each revocation write, on the same connection. Off by default. */
    wait: waitSchema.optional(),
    /** Every key starts with this, so tokenbench's keys can be told apart and removed. */
    keyPrefix: z
      .string()
      .regex(/^[^{}\s]*$/, 'a prefix without braces or spaces')
      .default('tb:'),
    blacklist: z
      .strictObject({
        /**
         * key-per-token: one key per revoked jti with its own TTL (~140 B per entry measured here).
         * bucketed: `<sub>}<jti>` as members of per-expiry-bucket sets that expire with the bucket
         * (~100 B), at the price of entries living up to one bucket longer and bigger keys.
         */
        layout: z.enum(['key-per-token', 'bucketed']).default('key-per-token'),
        bucketMs: positiveMs.default(60_000),
        /** bucketed: users are spread over this many hash-tag groups (cluster slots). */
        groups: z.number().int().min(1).max(16384).default(64),
      })
      .default({ layout: 'key-per-token', bucketMs: 60_000, groups: 64 }),
    whitelist: z
      .strictObject({
        /** Concurrent sessions per user; the oldest are evicted beyond it. 0: no limit. */
        maxSessions: z.number().int().min(0).default(0),
      })
      .default({ maxSessions: 0 }),
  })
  .transform((o) => ({
    ...o,
    name: (STRATEGY_ALIASES as Record<string, (typeof STRATEGY_NAMES)[number]>)[o.name] ?? (o.name as (typeof STRATEGY_NAMES)[number]),
  }));

export type StrategyOptionsInput = z.input<typeof strategyOptionsSchema>;
export type StrategyOptions = z.output<typeof strategyOptionsSchema>;

export function normalizeStrategyOptions(input: unknown, label?: (path: readonly PropertyKey[]) => string): StrategyOptions {
  return parseOrThrow(strategyOptionsSchema, input, label);
}
