import type { TokenCheck, TokenService, VerifiedClaims } from './jwt/token-service.ts';
import type { StrategyOptions } from './options.ts';
import { classifyRedisError, type RedisClient, redisKey } from './store.ts';
import type { Ack, Verdict } from './types.ts';

/** Shared by the Redis-backed strategies: the failure policy and the token pre-checks of revoke. */
export abstract class StoreBackedStrategy {
  readonly tokens: TokenService;
  readonly redis: RedisClient;
  readonly options: StrategyOptions;

  constructor(tokens: TokenService, redis: RedisClient, options: StrategyOptions) {
    this.tokens = tokens;
    this.redis = redis;
    this.options = options;
  }

  get engine() {
    return this.tokens.engineName;
  }

  protected key(kind: string, tag: string, rest?: string): string {
    return redisKey(this.options.keyPrefix, kind, tag, rest);
  }

  /** Redis could not answer: fail-closed rejects, fail-open accepts; both say so. */
  protected storeUnavailable(claims: VerifiedClaims, error: unknown, redisOps = 1): Verdict {
    const { error: detail } = classifyRedisError(error);
    if (this.options.failurePolicy === 'fail-open') return { ok: true, subject: claims.sub, jti: claims.jti, redisOps, degraded: true };
    return { ok: false, code: 'ERR_STORE_UNAVAILABLE', detail, redisOps, degraded: true };
  }

  /** revoke() takes the token the client presents at logout; a token we did not issue is refused, not stored. */
  protected async claimsForRevocation(token: string, kind: 'access' | 'refresh' = 'access'): Promise<{ claims: VerifiedClaims } | { ack: Ack }> {
    const check: TokenCheck = await this.tokens.check(token, kind);
    if (check.ok) return { claims: check.claims };
    if (check.code === 'ERR_JWT_EXPIRED') return { ack: { ok: true, redisOps: 0, stored: false, detail: 'already expired: nothing to revoke' } };
    return { ack: { ok: false, code: check.code, indeterminate: false, redisOps: 0, error: check.detail } };
  }

  protected tokenRejected(check: Extract<TokenCheck, { ok: false }>): Verdict {
    return { ok: false, code: check.code, detail: check.detail, redisOps: 0 };
  }
}
