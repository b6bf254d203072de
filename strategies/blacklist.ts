import { StoreBackedStrategy } from './base.ts';
import { describeNumericDate, type TokenService } from './jwt/token-service.ts';
import type { StrategyOptions } from './options.ts';
import { encodeKeyPart, fnv1a, type RedisClient, redisKey, writeAck } from './store.ts';
import type { Ack, Issued, Strategy, Verdict } from './types.ts';

/**
 * Denylist: only revocations are stored. verify asks Redis one question, in one round trip, even on
 * Cluster: "is this jti revoked, and when were all of this user's tokens last revoked?".
 *
 * Layouts (subject and jti encoded by encodeKeyPart, so no two (subject, jti) pairs share an entry):
 * - key-per-token: `tb:bl:{sub}:<jti>` with TTL = remaining lifetime + leeway, and the user's
 *   watermark `tb:wm:{sub}`: both in the user's slot, read with one MGET.
 * - bucketed: `<sub>}<jti>` as a member of `tb:blb:{g<n>}:<bucket>`, a set per expiry bucket that
 *   expires with its bucket; users are spread over hash-tag groups so a bucket is not one hot key,
 *   and the watermark `tb:wm:{g<n>}:<sub>` sits in the same slot. SISMEMBER + GET in one pipeline.
 *   The member carries the subject because a group holds many users, whose jtis need not differ.
 */
/** An encoded subject holds no `}`, so the first one ends it: distinct (subject, jti) pairs give distinct members. */
export function bucketMember(subject: string, jti: string): string {
  return `${encodeKeyPart(subject)}}${encodeKeyPart(jti)}`;
}

/** key-per-token: the one home of these keys' names, for the blacklist and the replicas that mirror it. */
export function revokedTokenKey(keyPrefix: string, subject: string, jti: string): string {
  return redisKey(keyPrefix, 'bl', subject, jti);
}

export function watermarkKey(keyPrefix: string, subject: string): string {
  return redisKey(keyPrefix, 'wm', subject);
}

/** key-per-token: the token's entry and its user's watermark, read together; redisOps: round trips it took (0: served from a cache). */
export type KeyPerTokenReader = (entry: string, watermark: string) => Promise<{ entry: string | null; watermark: string | null; redisOps: number }>;

export class BlacklistStrategy extends StoreBackedStrategy implements Strategy {
  readonly name = 'blacklist' as const;
  readonly guarantee = 'immediate' as const;
  readonly #read: KeyPerTokenReader;

  /** `read`: where verify reads key-per-token entries; by default one MGET on the strategy's client. */
  constructor(tokens: TokenService, redis: RedisClient, options: StrategyOptions, read?: KeyPerTokenReader) {
    super(tokens, redis, options);
    this.#read =
      read ??
      (async (entry, watermark) => {
        const [found, mark] = await this.redis.mget(entry, watermark);
        return { entry: found ?? null, watermark: mark ?? null, redisOps: 1 };
      });
  }

  get label(): string {
    return this.options.blacklist.layout === 'bucketed' ? 'blacklist (bucketed)' : 'blacklist';
  }

  async issue(subject: string): Promise<Issued> {
    const access = await this.tokens.sign('access', { sub: subject });
    return { ok: true, accessToken: access.token, subject, jti: access.jti, issuedAtMs: access.issuedAtMs, accessExpiresAtMs: access.expiresAtMs, redisOps: 0 };
  }

  #group(subject: string): string {
    return `g${fnv1a(subject) % this.options.blacklist.groups}`;
  }

  #keys(subject: string, jti: string, expiresAtMs: number): { entry: string; member?: string; watermark: string; bucketExpiresAtMs?: number } {
    if (this.options.blacklist.layout === 'key-per-token') {
      return { entry: revokedTokenKey(this.options.keyPrefix, subject, jti), watermark: watermarkKey(this.options.keyPrefix, subject) };
    }
    const { bucketMs } = this.options.blacklist;
    const bucket = Math.floor(expiresAtMs / bucketMs);
    const group = this.#group(subject);
    return {
      entry: this.key('blb', group, String(bucket)),
      member: bucketMember(subject, jti),
      watermark: this.key('wm', group, subject),
      bucketExpiresAtMs: (bucket + 1) * bucketMs,
    };
  }

  async verify(token: string): Promise<Verdict> {
    const check = await this.tokens.check(token, 'access');
    if (!check.ok) return this.tokenRejected(check);
    const { claims } = check;
    const keys = this.#keys(claims.sub, claims.jti, claims.expiresAtMs);
    let revoked: boolean;
    let watermark: string | null;
    let redisOps = 1;
    try {
      if (this.options.blacklist.layout === 'key-per-token') {
        const read = await this.#read(keys.entry, keys.watermark);
        revoked = read.entry !== null;
        watermark = read.watermark;
        redisOps = read.redisOps;
      } else {
        const replies = await this.redis.pipeline().sismember(keys.entry, keys.member!).get(keys.watermark).exec();
        const failed = replies?.find(([error]) => error);
        if (!replies || failed) throw failed?.[0] ?? new Error('pipeline returned nothing');
        revoked = replies[0]![1] === 1;
        watermark = (replies[1]![1] as string | null) ?? null;
      }
    } catch (error) {
      return this.storeUnavailable(claims, error);
    }
    if (revoked) return { ok: false, code: 'ERR_REVOKED', detail: 'this token was revoked', redisOps };
    if (watermark !== null && claims.issuedAtMs <= Number(watermark)) {
      return {
        ok: false,
        code: 'ERR_REVOKED',
        detail: `every token of this user issued up to ${describeNumericDate(Number(watermark) / 1000)} was revoked`,
        redisOps,
      };
    }
    return { ok: true, subject: claims.sub, jti: claims.jti, redisOps };
  }

  /**
   * Every token verify accepts gets an entry: its claims passed the lifetime checks, so exp is
   * finite and at most the kind's maximum lifetime ahead, and the TTL is a whole number of
   * milliseconds (exp may be fractional, PX and PEXPIREAT take integers).
   */
  async revoke(token: string): Promise<Ack> {
    const found = await this.claimsForRevocation(token);
    if ('ack' in found) return found.ack;
    const { claims } = found;
    const { leewayMs } = this.tokens.settings;
    const keys = this.#keys(claims.sub, claims.jti, claims.expiresAtMs);
    if (keys.bucketExpiresAtMs === undefined) {
      // The entry must outlive the token, leeway included (rounded up); after that the JWT check rejects it anyway.
      const ttlMs = Math.min(Math.max(1, Math.ceil(claims.expiresAtMs + leewayMs - this.tokens.now())), this.tokens.maxLifetimeMs('access') + leewayMs);
      return writeAck(this.redis, [['SET', keys.entry, '1', 'PX', ttlMs]], this.options.wait, () => ({ stored: true }));
    }
    return writeAck(
      this.redis,
      [
        ['SADD', keys.entry, keys.member!],
        ['PEXPIREAT', keys.entry, keys.bucketExpiresAtMs + leewayMs],
      ],
      this.options.wait,
      () => ({ stored: true }),
    );
  }

  /**
   * A watermark: every token of the user issued up to now is revoked. It lives as long as such a
   * token can be accepted: issued by now, it expires within the maximum lifetime, plus leeway.
   */
  async revokeAll(subject: string): Promise<Ack> {
    const now = this.tokens.now();
    const watermark =
      this.options.blacklist.layout === 'key-per-token' ? watermarkKey(this.options.keyPrefix, subject) : this.key('wm', this.#group(subject), subject);
    const ttlMs = this.tokens.maxLifetimeMs('access') + this.tokens.settings.leewayMs;
    return writeAck(this.redis, [['SET', watermark, String(now), 'PX', ttlMs]], this.options.wait, () => ({ stored: true }));
  }
}
