import { describe, expect, it } from 'vitest';
import { normalizeScenario } from './scenario.ts';
import { seededRandom, Workload, ZipfSampler } from './workload.ts';

describe('seeded randomness', () => {
  it('the same seed gives the same sequence', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
    expect(seededRandom(1)()).not.toBe(seededRandom(2)());
  });

  it('zipf favours low ranks in the expected proportion', () => {
    const zipf = new ZipfSampler(100, 1, seededRandom(7));
    const counts = new Array(100).fill(0);
    for (let i = 0; i < 100_000; i++) counts[zipf.next()]++;
    // P(0)/P(1) = 2 for s = 1.
    expect(counts[0] / counts[1]).toBeGreaterThan(1.8);
    expect(counts[0] / counts[1]).toBeLessThan(2.2);
    expect(counts[0]).toBeGreaterThan(counts[99] * 50);
  });
});

describe('workload', () => {
  const scenario = normalizeScenario({ workload: { users: 50, seed: 3, mix: { verify: 0.5, issue: 0, revoke: 0.5, revokeAll: 0, refresh: 0.2 } } });

  it('turns refresh into verify for strategies without refresh tokens', () => {
    const w = new Workload(scenario.workload, { hasRefresh: false });
    for (const u of w.users) w.addSession({ subject: u, accessToken: 't', jti: u, issuedMs: 0, expiresMs: 1e15 });
    const fs = new Set(Array.from({ length: 2000 }, () => w.next().f));
    expect(fs.has('refresh')).toBe(false);
  });

  it('a user without a live session logs in instead', () => {
    const w = new Workload(scenario.workload, { hasRefresh: true });
    const ops = Array.from({ length: 200 }, () => w.next());
    expect(ops.every((o) => o.f === 'issue')).toBe(true);
  });

  it('replays only tokens it revoked, and revokeAll takes only older sessions', () => {
    const w = new Workload(
      { ...scenario.workload, sessionsPerUser: 2, revokedVerifyShare: 1, mix: { verify: 1, issue: 0, revoke: 0, revokeAll: 0, refresh: 0 } },
      { hasRefresh: false },
    );
    const old = { subject: 'user-0', accessToken: 'old', jti: 'old', issuedMs: 100, expiresMs: 1e15 };
    const fresh = { subject: 'user-0', accessToken: 'new', jti: 'new', issuedMs: 300, expiresMs: 1e15 };
    w.addSession(old);
    w.addSession(fresh);
    expect(w.revokedAll('user-0', 200)).toEqual([old]);
    const replay = w.next();
    expect(replay).toMatchObject({ f: 'verify', replay: true, session: old });
  });
});
