import type { TokenService } from './jwt/token-service.ts';
import type { Ack, Issued, Strategy, Verdict } from './types.ts';

const CANNOT_REVOKE = 'a pure JWT cannot be revoked: it stays valid until it expires';

/** Signature and claims only. No Redis, and so no revocation: the baseline every scheme is measured against. */
export class PureStrategy implements Strategy {
  readonly name = 'pure' as const;
  readonly guarantee = 'none' as const;
  readonly tokens: TokenService;

  constructor(tokens: TokenService) {
    this.tokens = tokens;
  }

  /** The cached baseline says so: revocation's cost must not be measured against a cache unawares. */
  get label(): string {
    return this.tokens.settings.cache === false || this.tokens.settings.cache === undefined ? 'pure' : 'pure (fast-jwt cache)';
  }

  get engine() {
    return this.tokens.engineName;
  }

  async issue(subject: string): Promise<Issued> {
    const access = await this.tokens.sign('access', { sub: subject });
    return { ok: true, accessToken: access.token, subject, jti: access.jti, issuedAtMs: access.issuedAtMs, accessExpiresAtMs: access.expiresAtMs, redisOps: 0 };
  }

  async verify(token: string): Promise<Verdict> {
    const check = await this.tokens.check(token, 'access');
    if (!check.ok) return { ok: false, code: check.code, detail: check.detail, redisOps: 0 };
    return { ok: true, subject: check.claims.sub, jti: check.claims.jti, redisOps: 0 };
  }

  async revoke(): Promise<Ack> {
    return { ok: true, redisOps: 0, stored: false, detail: CANNOT_REVOKE };
  }

  async revokeAll(): Promise<Ack> {
    return { ok: true, redisOps: 0, stored: false, detail: CANNOT_REVOKE };
  }
}
