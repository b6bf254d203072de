import type { RedisClient } from './store.ts';

/** Stable rejection codes: callers switch on these, never on message text. */
export const REJECT_CODES = [
  /** Not a compact JWS: segment count, base64url, header or payload not a JSON object, crit header. */
  'ERR_JWT_MALFORMED',
  /** Longer than the size cap; rejected before any parsing. */
  'ERR_JWT_TOO_LARGE',
  /** Header alg is not the one pinned for the key (covers `none` and RS/HS confusion). */
  'ERR_JWT_ALG_NOT_ALLOWED',
  'ERR_JWT_SIGNATURE_INVALID',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_NOT_YET_VALID',
  /** iat (or iat_ms) later than now + iatLeewayMs: the issuer's clock runs ahead, or it dated the token forward, past a later revokeAll. */
  'ERR_JWT_ISSUED_IN_FUTURE',
  /** exp - iat or exp - now longer than the kind's configured lifetime (accessTtlMs / refreshTtlMs) + lifetimeLeewayMs. */
  'ERR_JWT_LIFETIME_TOO_LONG',
  'ERR_JWT_ISSUER_INVALID',
  'ERR_JWT_AUDIENCE_INVALID',
  /** Header typ is not the one expected here: a refresh token presented as an access token, or the reverse. */
  'ERR_JWT_TYPE_INVALID',
  /**
   * sub, jti, iat or exp missing or of the wrong type (a number that is not finite included); nbf
   * or iat_ms present but not a finite number, or an iat_ms outside the second iat names.
   */
  'ERR_JWT_CLAIM_MISSING',
  /** Blacklist: the token (or every token of its user) was revoked. */
  'ERR_REVOKED',
  /** Whitelist: the token is not (or no longer) on the allowlist. */
  'ERR_NOT_ALLOWLISTED',
  /** Double-token: a refresh token was presented a second time; its whole family is now revoked. */
  'ERR_REFRESH_REUSED',
  /** Redis errored or timed out and the policy is fail-closed. */
  'ERR_STORE_UNAVAILABLE',
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

export type Guarantee = 'none' | 'immediate' | { boundedByMs: number };

export type Verdict =
  | {
      ok: true;
      subject: string;
      jti: string;
      /** Network round trips to Redis this verdict took. */
      redisOps: number;
      /** Accepted only because Redis was unreachable and the policy is fail-open. */
      degraded?: true;
    }
  | {
      ok: false;
      code: RejectCode;
      detail?: string;
      redisOps: number;
      /** Rejected only because Redis was unreachable (fail-closed). */
      degraded?: true;
    };

export interface IssuedTokens {
  accessToken: string;
  /** Double-token only. */
  refreshToken?: string;
  subject: string;
  /** The access token's jti. */
  jti: string;
  refreshJti?: string;
  /** Unix ms. */
  issuedAtMs: number;
  accessExpiresAtMs: number;
  refreshExpiresAtMs?: number;
  /** Whitelist with a session limit: sessions evicted to make room. */
  evicted?: number;
  redisOps: number;
}

/**
 * The outcome of a write. `ok` means Redis acknowledged it. A failure is `indeterminate` when the
 * write may still have happened (a timeout, a connection lost after sending): the harness records
 * those as `info`, never as `fail`.
 */
export type Ack =
  | {
      ok: true;
      redisOps: number;
      /** False when nothing had to be written (an expired token, a no-op strategy). */
      stored: boolean;
      /** With WAIT: how many replicas confirmed, and how many were asked for. */
      replicasAcked?: number;
      replicasRequested?: number;
      detail?: string;
    }
  | {
      ok: false;
      /** ERR_NOT_REPLICATED: the write landed on the primary, but WAIT confirmed fewer replicas than asked for. */
      /** ERR_NOT_SUPPORTED: the strategy cannot do this (an HTTP target without a revoke-all route); nothing changed. */
      code: RejectCode | 'ERR_STORE_UNAVAILABLE' | 'ERR_NOT_REPLICATED' | 'ERR_NOT_SUPPORTED';
      indeterminate: boolean;
      redisOps: number;
      error: string;
      replicasAcked?: number;
      replicasRequested?: number;
    };

export type Issued = ({ ok: true } & IssuedTokens) | { ok: false; code: 'ERR_STORE_UNAVAILABLE'; indeterminate: boolean; redisOps: number; error: string };

export type Refreshed = ({ ok: true } & IssuedTokens) | { ok: false; code: RejectCode; indeterminate?: boolean; redisOps: number; detail?: string };

export type StrategyName = 'pure' | 'blacklist' | 'whitelist' | 'double-token' | 'replicated-blacklist' | 'cached-blacklist';

export interface Strategy {
  /** A StrategyName for ours; `http` for a service driven over HTTP; a strategy module's own name (the result's `strategy` field). */
  readonly name: string;
  /** Layout detail for reports, e.g. `blacklist (bucketed)`. */
  readonly label: string;
  readonly guarantee: Guarantee;
  /**
   * The JWT engine in use: results must name it (fast-jwt verifies HS256 ~10x faster than jose).
   * Ours are 'jose' or 'fast-jwt'; `service` for an HTTP service (its own, unknown here); a
   * strategy module names what it uses.
   */
  readonly engine: string;
  /** The JWT algorithm, for the result: a strategy module's own (unset: recorded as unknown); ours sign with the scenario's jwt.alg. */
  readonly alg?: string;
  /**
   * false: the strategy's Redis traffic is not on the client the harness gave it (an HTTP service
   * has its own), so neither its round trips nor the node that acknowledged a write are known.
   */
  readonly redisVisible?: false;
  issue(subject: string): Promise<Issued>;
  /** Never throws for a bad token: the Verdict says why. */
  verify(token: string): Promise<Verdict>;
  /** Logout: this token. */
  revoke(token: string): Promise<Ack>;
  /** Ban / password change: every token of this user, on every device. */
  revokeAll(subject: string): Promise<Ack>;
  refresh?(refreshToken: string): Promise<Refreshed>;
  /**
   * Releases what the strategy opened itself (replicated-blacklist's tracking connections,
   * cached-blacklist's own client); the Redis client it was given stays the caller's. Called once,
   * before the caller disconnects that client.
   */
  close?(): Promise<void>;
  /** What the strategy keeps in this verifier's own memory (replicated / cached denylists), for the result. */
  localState?(): LocalState;
}

/**
 * A verifier's own state, read at the end of a run: how much it holds and how it was kept. null:
 * the strategy does not know it (a cache's bytes, a replica's hits).
 */
export interface LocalState {
  entries: number;
  bytesEstimate: number | null;
  /** Cached: verifies answered from the cache and sent to Redis. */
  hits: number | null;
  misses: number | null;
  /** Replicated: completed loads (the first included) and how long the last took; cached: times the cache was dropped. */
  reloads: number | null;
  lastReloadMs: number | null;
  clears: number | null;
}

/**
 * What a strategy module's factory is given. `redis` is the ioredis client (Redis, or Cluster on a
 * cluster topology) the harness created for this instance, already pointed at the topology the
 * faults break; it stays the harness's: do not quit it (close() is for what the module opened).
 */
export interface StrategyFactoryContext {
  redis: RedisClient;
  /** The clock to date tokens by (Unix ms). */
  now: () => number;
  /** The scenario's policy.failure: what verify should do when Redis fails. The result records it. */
  failurePolicy: 'fail-closed' | 'fail-open';
  /**
   * Set on an external deployment: the per-run prefix that is the only keys the run may touch
   * (removed at stop); every key the strategy writes must start with it. Unset: a fresh topology
   * of the run's own, any key will do.
   */
  keyPrefix?: string;
}

/**
 * A strategy module's export: `createStrategy(options, context)`, where `options` is the scenario
 * entry's `options` (any JSON; undefined when absent). It is called once per instance: in the main
 * thread and in every load-generator and verifier thread, so instances must accept each other's
 * tokens (derive keys from options, not at random).
 */
export type StrategyFactory = (options: unknown, context: StrategyFactoryContext) => Strategy | Promise<Strategy>;

/** The shape of a strategy module: `export const createStrategy: StrategyFactory = ...` (see examples/strategy-module). */
export interface StrategyModule {
  createStrategy: StrategyFactory;
}
