import { describe, expect, it } from 'vitest';
import { TokenService } from './jwt/token-service.ts';
import { normalizeStrategyOptions } from './options.ts';
import { PureStrategy } from './pure.ts';

async function pureWithCache(cache: boolean | number, alg: 'HS256' | 'ES256', now: () => number = Date.now): Promise<PureStrategy> {
  const { jwt } = normalizeStrategyOptions({ name: 'pure', jwt: { engine: 'fast-jwt', alg, cache, accessTtlMs: 60_000, leewayMs: 1_000 } });
  return new PureStrategy(await TokenService.create(jwt, now));
}

async function accessToken(strategy: PureStrategy): Promise<string> {
  const issued = await strategy.issue('user-1');
  if (!issued.ok) throw new Error(issued.error);
  return issued.accessToken;
}

describe('pure with fast-jwt verified-token cache', () => {
  it('a cached token is rejected once expired: claims are checked on every verify, with our clock', async () => {
    let nowMs = Date.now();
    const strategy = await pureWithCache(true, 'HS256', () => nowMs);
    const token = await accessToken(strategy);
    for (let i = 0; i < 3; i++) expect(await strategy.verify(token)).toMatchObject({ ok: true });
    // Past exp + leeway; fast-jwt's own entry would live on (10 min cacheTTL, its expiry check off).
    nowMs += 60_000 + 1_000 + 1_000;
    expect(await strategy.verify(token)).toMatchObject({ ok: false, code: 'ERR_JWT_EXPIRED' });
    // Nor does a rejection stick: fast-jwt caches no errors, and ours are computed per verify.
    nowMs -= 2_000;
    expect(await strategy.verify(token)).toMatchObject({ ok: true });
  });

  it('a token whose signature is altered is rejected after the genuine one was cached', async () => {
    const strategy = await pureWithCache(true, 'HS256');
    const token = await accessToken(strategy);
    expect(await strategy.verify(token)).toMatchObject({ ok: true });
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const forged = `${token.slice(0, -2)}${last}${token.at(-1)}`;
    expect(await strategy.verify(forged)).toMatchObject({ ok: false, code: 'ERR_JWT_SIGNATURE_INVALID' });
  });

  it('the cache is in effect: a repeated ES256 verify costs a hash, not a signature check', async () => {
    const median = async (strategy: PureStrategy, token: string) => {
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const start = process.hrtime.bigint();
        await strategy.verify(token);
        times.push(Number(process.hrtime.bigint() - start));
      }
      return times.sort((a, b) => a - b)[100]!;
    };
    const cached = await pureWithCache(true, 'ES256');
    const uncached = await pureWithCache(false, 'ES256');
    const cachedNs = await median(cached, await accessToken(cached));
    const uncachedNs = await median(uncached, await accessToken(uncached));
    // ES256 verify is tens of us; a hit a few: 3x is far inside the gap on a loaded machine.
    expect(cachedNs * 3).toBeLessThan(uncachedNs);
  });
});
