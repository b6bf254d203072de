import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../core/errors.ts';
import { TokenService } from './jwt/token-service.ts';
import { DEFAULT_CACHED_BLACKLIST, normalizeStrategyOptions } from './options.ts';
import { PureStrategy } from './pure.ts';

function optionError(input: unknown): InvalidOptionError {
  try {
    normalizeStrategyOptions(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
}

describe('cached-blacklist options', () => {
  it('defaults: a push-invalidated LRU cache with a bound two orders above the measured push delay', () => {
    const options = normalizeStrategyOptions({ name: 'cached-blacklist' });
    expect(options.name).toBe('cached-blacklist');
    expect(options.cachedBlacklist).toEqual(DEFAULT_CACHED_BLACKLIST);
    expect(options.cachedBlacklist).toEqual({ boundedByMs: 100, maxEntries: 50_000, ttlMs: 0, evictPolicy: 'LRU' });
  });

  it('takes its own settings', () => {
    const options = normalizeStrategyOptions({
      name: 'cached-blacklist',
      cachedBlacklist: { boundedByMs: 5, maxEntries: 10, ttlMs: 60_000, evictPolicy: 'FIFO' },
    });
    expect(options.cachedBlacklist).toEqual({ boundedByMs: 5, maxEntries: 10, ttlMs: 60_000, evictPolicy: 'FIFO' });
  });

  it('refuses the bucketed layout, naming the field', () => {
    const error = optionError({ name: 'cached-blacklist', blacklist: { layout: 'bucketed' } });
    expect(error.field).toBe('blacklist.layout');
    expect(error.message).toBe("blacklist.layout: expected key-per-token: cached-blacklist caches one entry per token, got 'bucketed'");
  });

  it.each([
    [{ maxEntries: 0 }, 'cachedBlacklist.maxEntries'],
    [{ ttlMs: -1 }, 'cachedBlacklist.ttlMs'],
    [{ boundedByMs: 1.5 }, 'cachedBlacklist.boundedByMs'],
    [{ evictPolicy: 'LFU' }, 'cachedBlacklist.evictPolicy'],
    [{ size: 3 }, 'cachedBlacklist.size'],
  ])('refuses %j (%s)', (cachedBlacklist, field) => {
    expect(optionError({ name: 'cached-blacklist', cachedBlacklist }).field).toBe(field);
  });
});

describe('jwt.cache (fast-jwt verified-token cache)', () => {
  it('is off by default', () => {
    expect(normalizeStrategyOptions({ name: 'pure' }).jwt.cache).toBe(false);
  });

  it.each([true, 1, 5000])('fast-jwt takes %j', (cache) => {
    expect(normalizeStrategyOptions({ name: 'pure', jwt: { engine: 'fast-jwt', cache } }).jwt.cache).toBe(cache);
  });

  it('jose has none: one line naming the field and the way out', () => {
    const error = optionError({ name: 'pure', jwt: { engine: 'jose', cache: true } });
    expect(error.field).toBe('jwt.cache');
    expect(error.message).toBe('jwt.cache: expected false with the jose engine: only fast-jwt has a verified-token cache (set jwt.engine: fast-jwt), got true');
    expect(optionError({ name: 'pure', jwt: { cache: 100 } }).field).toBe('jwt.cache');
  });

  it.each([0, -1, 2.5, 'yes'])('refuses %j', (cache) => {
    expect(optionError({ name: 'pure', jwt: { engine: 'fast-jwt', cache } }).field).toBe('jwt.cache');
  });

  it('pure says when it runs with the cache', async () => {
    const label = async (cache: boolean | number) =>
      new PureStrategy(await TokenService.create(normalizeStrategyOptions({ name: 'pure', jwt: { engine: 'fast-jwt', alg: 'HS256', cache } }).jwt)).label;
    expect(await label(false)).toBe('pure');
    expect(await label(true)).toBe('pure (fast-jwt cache)');
    expect(await label(50)).toBe('pure (fast-jwt cache)');
  });
});
