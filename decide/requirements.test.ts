import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../core/errors.ts';
import { ContradictionError, DEFAULT_REQUIREMENTS, loadRequirementsFile, normalizeRequirements } from './requirements.ts';

const dir = mkdtempSync(join(tmpdir(), 'tokenbench-requirements-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(input: unknown): Error {
  try {
    normalizeRequirements(input);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('requirements', () => {
  it('fills every default, and reads durations with units up to days', () => {
    const r = normalizeRequirements({ tokens: { accessTtl: '15m', refreshTtl: '30d' }, revocation: { mode: 'bounded', within: '5s' } });
    expect(r.tokens).toEqual({ accessTtl: 900_000, refreshTtl: 30 * 86_400_000, leeway: 5000 });
    expect(r.revocation.within).toBe(5000);
    expect(r.latency).toEqual(DEFAULT_REQUIREMENTS.latency);
    expect(r.redis.topologies).toEqual(['single', 'sentinel', 'cluster']);
    expect(r.assumptions.redisOpsPerNode).toBeNull();
  });

  it.each([
    [{ revocation: { mode: 'soon' } }, 'revocation.mode: expected one of "none", "logout", "immediate", "bounded", got \'soon\''],
    [{ revocation: { mod: 'none' } }, "revocation.mod: expected no such field (unknown option), got 'none'"],
    [{ latency: { verifyP99: 'fast' } }, "latency.verifyP99: expected a duration such as 500ms, 10s, 2m or 7d, got 'fast'"],
    [{ latency: { verifyP99: 0 } }, 'latency.verifyP99: expected a duration above 0, got 0'],
    [{ scale: { activeUsers: -5 } }, 'scale.activeUsers: expected a number >= 1, got -5'],
    [{ scale: { tokensPerUser: 1.5 } }, 'scale.tokensPerUser: expected an integer, got 1.5'],
    [{ redis: { topologies: ['single', 'kubernetes'] } }, 'redis.topologies[1]: expected one of "single", "sentinel", "cluster", got \'kubernetes\''],
    [{ redis: { topologies: ['single', 'single'] } }, 'redis.topologies: expected each topology at most once, got ["single","single"]'],
    [{ revocation: { mode: 'bounded' } }, "revocation.within: expected a bound such as 5s (revocation.mode is 'bounded'), got nothing"],
    [
      { revocation: { mode: 'immediate', within: '5s' } },
      "revocation.within: expected nothing: a bound applies only to revocation.mode 'bounded' (mode is 'immediate'), got '5s'",
    ],
    [
      { latency: { verifyP99: '10ms', verifyP999: '5ms' } },
      "latency.verifyP999: expected a budget >= latency.verifyP99 (10 ms): p99.9 cannot be faster than p99, got '5ms'",
    ],
    [{ tokens: { accessTtl: '1h', refreshTtl: '10m' } }, "tokens.refreshTtl: expected a lifetime >= tokens.accessTtl (1 h), got '10m'"],
  ])('%j is an error naming the field, what was expected and what was given', (input, message) => {
    const error = errorOf(input);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toBe(message);
  });

  it.each([
    [
      { revocation: { mode: 'immediate' }, redis: { topologies: [] } },
      "'immediate revocation' (revocation.mode: immediate) needs shared state in Redis, but redis.topologies is [] (no Redis allowed)",
    ],
    [
      { revocation: { mode: 'none', maxSessionsPerUser: 2 }, scale: { tokensPerUser: 1 }, redis: { topologies: [] } },
      "'a session limit' (revocation.maxSessionsPerUser) needs shared state in Redis",
    ],
    [
      { revocation: { mode: 'none', onlineUserCount: true }, redis: { topologies: [] } },
      "'an online-user count' (revocation.onlineUserCount) needs shared state",
    ],
    [
      { revocation: { mode: 'immediate', neverAcceptRevoked: true }, redis: { onFailure: 'allow', ackedRevocationsMayBeLost: false } },
      "redis.onFailure 'allow' (fail-open accepts every token while Redis is down, revoked ones included) contradicts revocation.neverAcceptRevoked: true",
    ],
    [
      { revocation: { mode: 'logout', neverAcceptRevoked: true }, redis: { ackedRevocationsMayBeLost: false } },
      "revocation.neverAcceptRevoked: true needs revocation.mode 'immediate'; 'logout' accepts a revoked token for a while",
    ],
    [{ revocation: { mode: 'immediate', neverAcceptRevoked: true } }, 'redis.ackedRevocationsMayBeLost: true contradicts revocation.neverAcceptRevoked: true'],
    [{ revocation: { maxSessionsPerUser: 2 }, scale: { tokensPerUser: 3 } }, 'scale.tokensPerUser 3 exceeds revocation.maxSessionsPerUser 2'],
  ])('names the contradiction in %j instead of resolving it', (input, contradiction) => {
    const error = errorOf(input);
    expect(error).toBeInstanceOf(ContradictionError);
    expect((error as ContradictionError).contradictions.some((c) => c.includes(contradiction))).toBe(true);
  });

  it('lists every contradiction at once, one line each', () => {
    const error = errorOf({ revocation: { mode: 'immediate', neverAcceptRevoked: true }, redis: { onFailure: 'allow', topologies: [] } }) as ContradictionError;
    expect(error.contradictions).toHaveLength(2);
    expect(error.message.split('\n')).toHaveLength(3);
  });

  it('a file error names the file and the field path', () => {
    const path = join(dir, 'req.yaml');
    writeFileSync(path, 'latency:\n  peakVerifyRate: lots\n');
    expect(() => loadRequirementsFile(path)).toThrow(`${path}: latency.peakVerifyRate: expected a number, got 'lots'`);
    writeFileSync(path, 'latency: [\n');
    expect(() => loadRequirementsFile(path)).toThrow(`${path}: not valid YAML`);
  });

  it('the shipped examples are valid', () => {
    for (const name of ['internal-tool', 'shop-bans', 'bank-immediate']) {
      expect(() => loadRequirementsFile(new URL(`../examples/decide/${name}.yaml`, import.meta.url).pathname)).not.toThrow();
    }
  });
});
