import { StoreBackedStrategy } from './base.ts';
import { newTokenId } from './jwt/token-service.ts';
import { classifyRedisError, encodeKeyPart, LuaScript, writeAck } from './store.ts';
import type { Ack, Issued, Refreshed, Strategy, Verdict } from './types.ts';

/**
 * Rotation with reuse detection (OAuth 2.0 Security BCP 4.14, Auth0's refresh token rotation):
 * only the newest refresh token of a family is valid. Presenting an older one means it leaked, so
 * the whole family dies, the legitimate client's token included.
 *   1 rotated, 0 family unknown or revoked, -1 reuse detected (family now revoked)
 */
const ROTATE = new LuaScript(`
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
if current ~= ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`);

/**
 * Short access tokens verified without Redis; long refresh tokens kept in Redis, one hash per user
 * `tb:rf:{sub}`: field = family (a login session), value = the family's current refresh jti (both
 * through encodeKeyPart, so claims that differ stay different in Redis).
 * Revocation reaches access tokens only when they expire: the guarantee is bounded by their TTL.
 */
export class DoubleTokenStrategy extends StoreBackedStrategy implements Strategy {
  readonly name = 'double-token' as const;
  readonly label = 'double-token';

  get guarantee(): { boundedByMs: number } {
    return { boundedByMs: this.tokens.settings.accessTtlMs + this.tokens.settings.leewayMs };
  }

  async #pair(subject: string, fam: string, refreshJti: string) {
    const issuedAtMs = this.tokens.now();
    const [access, refresh] = await Promise.all([
      this.tokens.sign('access', { sub: subject, fam, issuedAtMs }),
      this.tokens.sign('refresh', { sub: subject, fam, jti: refreshJti, issuedAtMs }),
    ]);
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      subject,
      jti: access.jti,
      refreshJti,
      issuedAtMs,
      accessExpiresAtMs: access.expiresAtMs,
      refreshExpiresAtMs: refresh.expiresAtMs,
    };
  }

  #ttlMs(): number {
    return this.tokens.settings.refreshTtlMs + this.tokens.settings.leewayMs;
  }

  async issue(subject: string): Promise<Issued> {
    const fam = newTokenId();
    const pair = await this.#pair(subject, fam, newTokenId());
    const key = this.key('rf', subject);
    const ack = await writeAck(
      this.redis,
      [
        ['HSET', key, encodeKeyPart(fam), encodeKeyPart(pair.refreshJti)],
        ['PEXPIRE', key, this.#ttlMs()],
      ],
      undefined,
      () => ({ stored: true }),
    );
    if (!ack.ok) return { ok: false, code: 'ERR_STORE_UNAVAILABLE', redisOps: ack.redisOps, indeterminate: ack.indeterminate, error: ack.error };
    return { ok: true, ...pair, redisOps: 1 };
  }

  /** Stateless: signature and claims of the access token, no Redis. */
  async verify(token: string): Promise<Verdict> {
    const check = await this.tokens.check(token, 'access');
    if (!check.ok) return this.tokenRejected(check);
    return { ok: true, subject: check.claims.sub, jti: check.claims.jti, redisOps: 0 };
  }

  /** Rotation cannot fail open: issuing new tokens without Redis would make revocation meaningless. */
  async refresh(refreshToken: string): Promise<Refreshed> {
    const check = await this.tokens.check(refreshToken, 'refresh');
    if (!check.ok) return { ok: false, code: check.code, detail: check.detail, redisOps: 0 };
    const { sub, jti, fam } = check.claims;
    if (!fam) return { ok: false, code: 'ERR_JWT_CLAIM_MISSING', detail: 'a refresh token needs its family (fam)', redisOps: 0 };
    const next = await this.#pair(sub, fam, newTokenId());
    let outcome: number;
    let redisOps: number;
    try {
      const result = await ROTATE.run(
        this.redis,
        [this.key('rf', sub)],
        [encodeKeyPart(fam), encodeKeyPart(jti), encodeKeyPart(next.refreshJti!), this.#ttlMs()],
      );
      outcome = Number(result.reply);
      redisOps = result.redisOps;
    } catch (error) {
      const failure = classifyRedisError(error);
      return { ok: false, code: 'ERR_STORE_UNAVAILABLE', detail: failure.error, indeterminate: failure.indeterminate, redisOps: 1 };
    }
    if (outcome === 1) return { ok: true, ...next, redisOps };
    if (outcome === -1)
      return { ok: false, code: 'ERR_REFRESH_REUSED', detail: 'this refresh token was already used: its whole family is now revoked', redisOps };
    return { ok: false, code: 'ERR_REVOKED', detail: 'this session (refresh family) was revoked', redisOps };
  }

  /** Logout with either token of the session: the family dies; its access token lives out its TTL. */
  async revoke(token: string): Promise<Ack> {
    let found = await this.claimsForRevocation(token, 'refresh');
    if ('ack' in found && !found.ack.ok && found.ack.code === 'ERR_JWT_TYPE_INVALID') found = await this.claimsForRevocation(token, 'access');
    if ('ack' in found) return found.ack;
    const { claims } = found;
    if (!claims.fam) return { ok: false, code: 'ERR_JWT_CLAIM_MISSING', indeterminate: false, redisOps: 0, error: 'token carries no refresh family (fam)' };
    return writeAck(this.redis, [['HDEL', this.key('rf', claims.sub), encodeKeyPart(claims.fam)]], this.options.wait, ([removed]) => ({
      stored: true,
      detail: `${Number(removed) === 0 ? 'session was already gone; ' : ''}its access token stays valid until it expires`,
    }));
  }

  async revokeAll(subject: string): Promise<Ack> {
    return writeAck(this.redis, [['DEL', this.key('rf', subject)]], this.options.wait, () => ({
      stored: true,
      detail: 'refresh tokens revoked; access tokens stay valid until they expire',
    }));
  }
}
