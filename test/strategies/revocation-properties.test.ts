/**
 * Revocation, property by property, on a real single Redis: every token verify accepts can be
 * revoked (the entry is there afterwards, with a TTL within the configured bounds, and the ack
 * says so), revoke gives a verdict for any token, and keys built from claims never collide: tokens
 * are signed with the strategy's own key and carry any claims, subjects and jtis included.
 */
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlacklistStrategy, bucketMember } from '../../strategies/blacklist.ts';
import { createStrategy } from '../../strategies/create.ts';
import type { DoubleTokenStrategy } from '../../strategies/double-token.ts';
import type { TokenService } from '../../strategies/jwt/token-service.ts';
import type { StrategyOptionsInput } from '../../strategies/options.ts';
import { fnv1a, redisKey } from '../../strategies/store.ts';
import { REJECT_CODES, type Strategy } from '../../strategies/types.ts';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology } from '../../topologies/types.ts';
import { payloadMembers } from './claim-arbitraries.ts';
import { b64, json, objectText, signedWith } from './hand-signed.ts';

const PREFIX = 'tb:';
const BUCKET_MS = 60_000;
const LAYOUTS = ['key-per-token', 'bucketed'] as const;
/** Subjects and jtis made of the characters that broke key building. */
const awkward = fc.string({ unit: fc.constantFrom('}', '{', ':', '*', '\n', '\0', '%', 'a', '\uD800', '\uDBFF'), minLength: 1, maxLength: 4 });

let topology: StartedTopology;
let redis: Redis;
let run = 0;

beforeAll(async () => {
  topology = await startTopology({ kind: 'single' });
  redis = topology.client() as Redis;
});
afterAll(async () => {
  redis?.disconnect();
  await topology?.stop();
});

function blacklist(layout: (typeof LAYOUTS)[number], groups = 64): Promise<Strategy> {
  return createStrategy({ name: 'blacklist', blacklist: { layout, bucketMs: BUCKET_MS, groups } }, { redis });
}

const tokensOf = (strategy: Strategy): TokenService => (strategy as BlacklistStrategy).tokens;

/** An access token for (sub, jti) signed with the strategy's key, issued now with the default lifetime. */
function tokenFor(strategy: Strategy, sub: string, jti: string): string {
  const nowS = Date.now() / 1000;
  const claims = { iss: 'tokenbench', aud: 'tokenbench-api', sub, jti, iat: nowS, exp: nowS + 600 };
  return signedWith(tokensOf(strategy).keys, json({ alg: tokensOf(strategy).keys.alg, typ: 'at+jwt' }), json(claims));
}

/** Each property run gets its own jtis, so what an earlier run revoked cannot stand in for this one's entry. */
function withRunJti(members: [string, string][], tag: string): [string, string][] {
  return members.map(([name, text]): [string, string] => {
    if (name !== 'jti') return [name, text];
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? [name, JSON.stringify(`${tag}${value}`)] : [name, text];
  });
}

describe.sequential('revocation properties on a single Redis', () => {
  for (const layout of LAYOUTS) {
    it(`${layout}: revoke stores an entry for every token verify accepts, TTL in whole ms within the bounds; any other token gets a verdict`, async () => {
      const strategy = await blacklist(layout);
      const tokens = tokensOf(strategy);
      const { leewayMs } = tokens.settings;
      const maxLifetime = tokens.maxLifetimeMs('access');
      const header = b64(JSON.stringify({ alg: tokens.keys.alg, typ: 'at+jwt' }));
      let accepted = 0;
      await fc.assert(
        fc.asyncProperty(payloadMembers('access', Date.now() / 1000), async (generated) => {
          const token = signedWith(tokens.keys, header, b64(objectText(withRunJti(generated, `r${++run}-`))));
          const before = await strategy.verify(token);
          const ack = await strategy.revoke(token);
          if (!before.ok) {
            // Refused for what the token is, never blamed on Redis.
            expect(ack.ok || (REJECT_CODES as readonly string[]).includes(ack.code)).toBe(true);
            if (!ack.ok) expect(ack).toMatchObject({ code: before.code, indeterminate: false, redisOps: 0 });
            else expect(ack).toMatchObject({ stored: false, redisOps: 0 });
            return;
          }
          accepted++;
          expect(ack).toMatchObject({ ok: true, stored: true, redisOps: 1 });
          const check = await tokens.check(token, 'access');
          if (!check.ok) throw new Error(`accepted, then ${check.code}`);
          const { sub, jti, expiresAtMs } = check.claims;
          const now = Date.now();
          // The entry, found from the claims by the documented layout, not by asking the strategy.
          let entry: string;
          if (layout === 'key-per-token') {
            entry = redisKey(PREFIX, 'bl', sub, jti);
            expect(await redis.exists(entry)).toBe(1);
          } else {
            entry = redisKey(PREFIX, 'blb', `g${fnv1a(sub) % 64}`, String(Math.floor(expiresAtMs / BUCKET_MS)));
            expect(await redis.sismember(entry, bucketMember(sub, jti))).toBe(1);
          }
          const pttl = await redis.pttl(entry);
          // Outlives the token (exp + leeway, ms of test time aside), never beyond the longest lifetime.
          expect(now + pttl).toBeGreaterThanOrEqual(expiresAtMs + leewayMs - 50);
          expect(pttl).toBeLessThanOrEqual(maxLifetime + leewayMs + (layout === 'bucketed' ? BUCKET_MS : 0));
          expect(await strategy.verify(token)).toMatchObject({ ok: false, code: 'ERR_REVOKED' });
        }),
        { numRuns: 150 },
      );
      expect(accepted).toBeGreaterThan(10);
    });

    it(`${layout}: no two (subject, jti) pairs share an entry, nor two subjects a watermark (one group for every user)`, async () => {
      // groups: 1 puts every user in one hash-tag group, so the bucketed layout's sets hold them all.
      const strategy = await blacklist(layout, 1);
      await fc.assert(
        fc.asyncProperty(awkward, awkward, awkward, awkward, async (sub1, jti1, sub2, jti2) => {
          const tag = `r${++run}-`;
          const first = tokenFor(strategy, sub1, tag + jti1);
          const second = tokenFor(strategy, sub2, tag + jti2);
          expect(await strategy.revoke(first)).toMatchObject({ ok: true, stored: true });
          const same = sub1 === sub2 && jti1 === jti2;
          expect(await strategy.verify(second)).toMatchObject(same ? { ok: false, code: 'ERR_REVOKED' } : { ok: true, subject: sub2 });
        }),
        { numRuns: 150 },
      );
      await fc.assert(
        fc.asyncProperty(awkward, awkward, async (sub1, sub2) => {
          const tag = `w${++run}-`;
          const other = tokenFor(strategy, tag + sub2, 'jti');
          expect(await strategy.revokeAll(tag + sub1)).toMatchObject({ ok: true });
          expect(await strategy.verify(other)).toMatchObject(sub1 === sub2 ? { ok: false, code: 'ERR_REVOKED' } : { ok: true });
        }),
        { numRuns: 100 },
      );
    });
  }

  it('the collisions the old layouts had: (a}:b, c) vs (a, b}:c), and two users of one group sharing a jti', async () => {
    for (const layout of LAYOUTS) {
      const strategy = await blacklist(layout, 1);
      expect(await strategy.revoke(tokenFor(strategy, 'a}:b', 'c'))).toMatchObject({ ok: true });
      expect(await strategy.verify(tokenFor(strategy, 'a', 'b}:c')), layout).toMatchObject({ ok: true });
      expect(await strategy.revoke(tokenFor(strategy, 'alice', 'shared-jti'))).toMatchObject({ ok: true });
      expect(await strategy.verify(tokenFor(strategy, 'bob', 'shared-jti')), layout).toMatchObject({ ok: true });
      expect(await strategy.verify(tokenFor(strategy, 'alice', 'shared-jti')), layout).toMatchObject({ ok: false, code: 'ERR_REVOKED' });
    }
  });

  it('whitelist and double-token: revoking one awkward subject leaves every other one alone', async () => {
    const whitelist = await createStrategy({ name: 'whitelist' }, { redis });
    const doubleToken = (await createStrategy({ name: 'double-token' } satisfies StrategyOptionsInput, { redis })) as DoubleTokenStrategy;
    await fc.assert(
      fc.asyncProperty(awkward, awkward, async (sub1, sub2) => {
        const tag = `d${++run}-`;
        const [a, b] = [tag + sub1, tag + sub2];
        const allowedA = await whitelist.issue(a);
        const allowedB = await whitelist.issue(b);
        const loginB = await doubleToken.issue(b);
        if (!allowedA.ok || !allowedB.ok || !loginB.ok) throw new Error('issue failed');
        expect(await whitelist.revoke(allowedA.accessToken)).toMatchObject({ ok: true, stored: true });
        expect(await whitelist.verify(allowedA.accessToken)).toMatchObject({ ok: false, code: 'ERR_NOT_ALLOWLISTED' });
        expect(await whitelist.verify(allowedB.accessToken)).toMatchObject({ ok: true, subject: b });
        expect(await whitelist.revokeAll(a)).toMatchObject({ ok: true });
        expect(await doubleToken.revokeAll(a)).toMatchObject({ ok: true });
        expect(await whitelist.verify(allowedB.accessToken)).toMatchObject(a === b ? { ok: false } : { ok: true });
        expect(await doubleToken.refresh(loginB.refreshToken!)).toMatchObject(a === b ? { ok: false, code: 'ERR_REVOKED' } : { ok: true, subject: b });
      }),
      { numRuns: 60 },
    );
  });
});
