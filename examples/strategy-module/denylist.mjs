// A denylist written the way an application team would write one, against tokenbench's Strategy
// interface only: its own keys, its own JWT code (jose), nothing else of tokenbench's.
//
//   tokenbench run --strategy ./examples/strategy-module/denylist.mjs --topology sentinel --fault kill:primary@5s
//
// Keys: `app:revoked:<jti>` (SET ... EX until the token expires) for a logout, and
// `app:user:<sub>:revoked-before` (Unix ms) for "log out everywhere".
import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

const MAX_TOKEN_BYTES = 8 * 1024;

/**
 * @param {{ secret?: string, ttlSeconds?: number }} [options] the scenario entry's `options`
 * @param {import('tokenbench').StrategyFactoryContext} context
 * @returns {import('tokenbench').Strategy}
 */
export function createStrategy(options = {}, { redis, now, failurePolicy, keyPrefix }) {
  // Every instance (load generators, verifier threads) must accept the others' tokens: one shared secret.
  const secret = new TextEncoder().encode(options.secret ?? 'example-only-secret-of-32-bytes-or-more!');
  const ttlSeconds = options.ttlSeconds ?? 15 * 60;
  // On an external deployment tokenbench hands out the only prefix it may write under.
  const prefix = keyPrefix ?? 'app:';
  const revokedKey = (jti) => `${prefix}revoked:${jti}`;
  const revokedBeforeKey = (sub) => `${prefix}user:${sub}:revoked-before`;
  const nowSeconds = () => Math.floor(now() / 1000);

  /** The token's claims, or the rejection code a caller can switch on. */
  async function claimsOf(token) {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_BYTES) return { code: 'ERR_JWT_TOO_LARGE' };
    try {
      const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], issuer: 'app', currentDate: new Date(now()) });
      if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.iat_ms !== 'number') return { code: 'ERR_JWT_CLAIM_MISSING' };
      return { claims: payload };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { code: 'ERR_JWT_EXPIRED' };
      if (error instanceof errors.JWSSignatureVerificationFailed) return { code: 'ERR_JWT_SIGNATURE_INVALID' };
      if (error instanceof errors.JOSEAlgNotAllowed) return { code: 'ERR_JWT_ALG_NOT_ALLOWED' };
      if (error instanceof errors.JWTClaimValidationFailed) return { code: 'ERR_JWT_ISSUER_INVALID' };
      return { code: 'ERR_JWT_MALFORMED' };
    }
  }

  /** Redis did not answer: the write may or may not have happened. */
  const unknownOutcome = (error) => ({ ok: false, code: 'ERR_STORE_UNAVAILABLE', indeterminate: true, redisOps: 1, error: String(error?.message ?? error) });

  return {
    name: 'app-denylist',
    label: 'app denylist',
    guarantee: 'immediate',
    engine: 'jose',
    alg: 'HS256',

    async issue(subject) {
      const issuedAtMs = now();
      const exp = Math.floor(issuedAtMs / 1000) + ttlSeconds;
      const jti = randomUUID();
      // iat is in seconds: a login in the same second as a "log out everywhere" needs the milliseconds.
      const accessToken = await new SignJWT({ iat_ms: issuedAtMs })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer('app')
        .setSubject(subject)
        .setJti(jti)
        .setIssuedAt(Math.floor(issuedAtMs / 1000))
        .setExpirationTime(exp)
        .sign(secret);
      return { ok: true, accessToken, subject, jti, issuedAtMs, accessExpiresAtMs: exp * 1000, redisOps: 0 };
    },

    async verify(token) {
      const { claims, code } = await claimsOf(token);
      if (!claims) return { ok: false, code, redisOps: 0 };
      let revoked;
      let revokedBefore;
      try {
        [revoked, revokedBefore] = await Promise.all([redis.get(revokedKey(claims.jti)), redis.get(revokedBeforeKey(claims.sub))]);
      } catch (error) {
        if (failurePolicy === 'fail-open') return { ok: true, subject: claims.sub, jti: claims.jti, redisOps: 2, degraded: true };
        return { ok: false, code: 'ERR_STORE_UNAVAILABLE', detail: String(error?.message ?? error), redisOps: 2, degraded: true };
      }
      if (revoked !== null) return { ok: false, code: 'ERR_REVOKED', detail: 'logged out', redisOps: 2 };
      if (revokedBefore !== null && claims.iat_ms <= Number(revokedBefore))
        return { ok: false, code: 'ERR_REVOKED', detail: 'every session of this user was ended', redisOps: 2 };
      return { ok: true, subject: claims.sub, jti: claims.jti, redisOps: 2 };
    },

    async revoke(token) {
      const { claims, code } = await claimsOf(token);
      if (code === 'ERR_JWT_EXPIRED') return { ok: true, redisOps: 0, stored: false, detail: 'already expired' };
      if (!claims) return { ok: false, code, indeterminate: false, redisOps: 0, error: 'not a token of ours' };
      // Kept one second past exp: until then the token itself is still valid.
      const seconds = Math.max(1, claims.exp - nowSeconds() + 1);
      try {
        await redis.set(revokedKey(claims.jti), '1', 'EX', seconds);
        return { ok: true, redisOps: 1, stored: true };
      } catch (error) {
        return unknownOutcome(error);
      }
    },

    async revokeAll(subject) {
      try {
        await redis.set(revokedBeforeKey(subject), String(now()), 'EX', ttlSeconds + 1);
        return { ok: true, redisOps: 1, stored: true };
      } catch (error) {
        return unknownOutcome(error);
      }
    },
  };
}
