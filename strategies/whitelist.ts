import { StoreBackedStrategy } from './base.ts';
import { classifyRedisError, encodeKeyPart, LuaScript, writeAck } from './store.ts';
import type { Ack, Issued, Strategy, Verdict } from './types.ts';

/**
 * Records a token, drops the user's expired ones and, past the session limit, the oldest (lowest
 * expiry); the set lives as long as its longest-lived token. One script, so a concurrent login
 * cannot slip past the limit.
 */
const ISSUE = new LuaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local evicted = 0
local max = tonumber(ARGV[4])
if max > 0 then
  local n = redis.call('ZCARD', KEYS[1])
  if n > max then
    evicted = n - max
    redis.call('ZPOPMIN', KEYS[1], evicted)
  end
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(last[2]))) end
return evicted
`);

/**
 * Allowlist: every live token is recorded, its jti (encodeKeyPart) a member of its user's sorted
 * set `tb:wl:{sub}` scored by expiry (+ leeway). verify needs presence (ZSCORE: one round trip); revoke removes
 * the member; revokeAll deletes the set. What it buys: immediate revocation, a session limit,
 * and a count of who is online. What it costs: a write per login and memory per live token.
 */
export class WhitelistStrategy extends StoreBackedStrategy implements Strategy {
  readonly name = 'whitelist' as const;
  readonly guarantee = 'immediate' as const;

  get label(): string {
    const max = this.options.whitelist.maxSessions;
    return max > 0 ? `whitelist (max ${max} sessions)` : 'whitelist';
  }

  async issue(subject: string): Promise<Issued> {
    const access = await this.tokens.sign('access', { sub: subject });
    const score = this.#score(access.issuedAtMs);
    try {
      const { reply, redisOps } = await ISSUE.run(
        this.redis,
        [this.key('wl', subject)],
        [encodeKeyPart(access.jti), score, this.tokens.now(), this.options.whitelist.maxSessions],
      );
      return {
        ok: true,
        accessToken: access.token,
        subject,
        jti: access.jti,
        issuedAtMs: access.issuedAtMs,
        accessExpiresAtMs: access.expiresAtMs,
        evicted: Number(reply),
        redisOps,
      };
    } catch (error) {
      return { ok: false, code: 'ERR_STORE_UNAVAILABLE', redisOps: 1, ...classifyRedisError(error) };
    }
  }

  #sequence = 0;

  /**
   * Expiry (+ leeway) in ms, plus a per-process sequence in the fraction: logins in the same
   * millisecond still have an order, so the session limit evicts the oldest, not a random one.
   */
  #score(issuedAtMs: number): number {
    this.#sequence = (this.#sequence + 1) % 1000;
    return issuedAtMs + this.tokens.settings.accessTtlMs + this.tokens.settings.leewayMs + this.#sequence / 1000;
  }

  async verify(token: string): Promise<Verdict> {
    const check = await this.tokens.check(token, 'access');
    if (!check.ok) return this.tokenRejected(check);
    const { claims } = check;
    let score: string | null;
    try {
      score = await this.redis.zscore(this.key('wl', claims.sub), encodeKeyPart(claims.jti));
    } catch (error) {
      return this.storeUnavailable(claims, error);
    }
    if (score === null)
      return { ok: false, code: 'ERR_NOT_ALLOWLISTED', detail: 'not on the allowlist: revoked, evicted by the session limit, or never recorded', redisOps: 1 };
    return { ok: true, subject: claims.sub, jti: claims.jti, redisOps: 1 };
  }

  async revoke(token: string): Promise<Ack> {
    const found = await this.claimsForRevocation(token);
    if ('ack' in found) return found.ack;
    const { claims } = found;
    return writeAck(this.redis, [['ZREM', this.key('wl', claims.sub), encodeKeyPart(claims.jti)]], this.options.wait, ([removed]) => ({
      stored: true,
      ...(Number(removed) === 0 && { detail: 'was not on the allowlist' }),
    }));
  }

  async revokeAll(subject: string): Promise<Ack> {
    return writeAck(this.redis, [['DEL', this.key('wl', subject)]], this.options.wait, () => ({ stored: true }));
  }

  /** Live sessions of a user: what allowlists are chosen for. */
  async sessionCount(subject: string): Promise<number> {
    return this.redis.zcount(this.key('wl', subject), this.tokens.now(), '+inf');
  }
}
