import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStrategy } from '../../strategies/create.ts';
import type { DoubleTokenStrategy } from '../../strategies/double-token.ts';
import type { StrategyOptionsInput } from '../../strategies/options.ts';
import type { Issued, Strategy } from '../../strategies/types.ts';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology } from '../../topologies/types.ts';

type Kind = 'single' | 'sentinel' | 'cluster';
const KINDS: Kind[] = ['single', 'sentinel', 'cluster'];

const REDIS_STRATEGIES: { label: string; options: StrategyOptionsInput; rejects: string }[] = [
  { label: 'blacklist', options: { name: 'blacklist' }, rejects: 'ERR_REVOKED' },
  { label: 'blacklist (bucketed)', options: { name: 'denylist', blacklist: { layout: 'bucketed', bucketMs: 60_000, groups: 8 } }, rejects: 'ERR_REVOKED' },
  { label: 'whitelist', options: { name: 'allowlist' }, rejects: 'ERR_NOT_ALLOWLISTED' },
];

/** What broke key building: braces, the separator, a glob, control characters, the escape character. */
const AWKWARD_SUBJECTS = ['}', '{', '}{', 'a}:b', ':', '*', '\n', '\0', '%7D', '{x}'];

let userCounter = 0;
const newUser = () => `user-${process.pid}-${++userCounter}`;

function issued(result: Issued): Extract<Issued, { ok: true }> {
  if (!result.ok) throw new Error(`issue failed: ${result.error}`);
  return result;
}

/** Counts writes on every socket the client has open: one write per round trip (ioredis writes a pipeline at once). */
function countRoundTrips(client: Redis | Cluster): { count: () => number; restore: () => void } {
  const connections: Redis[] =
    'nodes' in client && typeof (client as Cluster).nodes === 'function' && (client as Cluster).isCluster
      ? (client as Cluster).nodes('all')
      : [client as Redis];
  let writes = 0;
  const restores: (() => void)[] = [];
  for (const connection of connections) {
    const stream = (connection as unknown as { stream?: { write: (...args: unknown[]) => boolean } }).stream;
    if (!stream) continue;
    const original = stream.write;
    stream.write = function (this: unknown, ...args: unknown[]) {
      writes++;
      return original.apply(this, args);
    };
    restores.push(() => {
      stream.write = original;
    });
  }
  return {
    count: () => writes,
    restore: () => {
      for (const r of restores) r();
    },
  };
}

for (const kind of KINDS) {
  describe.sequential(`strategies on ${kind}`, () => {
    let topology: StartedTopology;
    let redis: Redis | Cluster;

    beforeAll(async () => {
      topology = await startTopology({ kind });
      redis = topology.client();
      // Warm the connection (and the cluster slot map) so round-trip counts see steady state.
      await redis.set('warm-up', '1');
    });
    afterAll(async () => {
      redis?.disconnect();
      await topology?.stop();
    });

    for (const { label, options, rejects } of REDIS_STRATEGIES) {
      describe(label, () => {
        let strategy: Strategy;
        beforeAll(async () => {
          strategy = await createStrategy(options, { redis });
        });

        it('issue then verify accepts, in one round trip', async () => {
          const user = newUser();
          const token = issued(await strategy.issue(user));
          const verdict = await strategy.verify(token.accessToken);
          expect(verdict).toEqual({ ok: true, subject: user, jti: token.jti, redisOps: 1 });
        });

        it(`revoke then verify rejects with ${rejects}`, async () => {
          const token = issued(await strategy.issue(newUser()));
          const ack = await strategy.revoke(token.accessToken);
          expect(ack).toMatchObject({ ok: true, stored: true, redisOps: 1 });
          expect(await strategy.verify(token.accessToken)).toMatchObject({ ok: false, code: rejects, redisOps: 1 });
        });

        it("revokeAll rejects every token of that user and still accepts other users'", async () => {
          const banned = newUser();
          const other = newUser();
          const bannedTokens = [issued(await strategy.issue(banned)), issued(await strategy.issue(banned)), issued(await strategy.issue(banned))];
          const otherToken = issued(await strategy.issue(other));
          expect(await strategy.revokeAll(banned)).toMatchObject({ ok: true });
          for (const t of bannedTokens) expect(await strategy.verify(t.accessToken)).toMatchObject({ ok: false, code: rejects });
          expect(await strategy.verify(otherToken.accessToken)).toMatchObject({ ok: true, subject: other });
          // A login after the ban is a new session and must work.
          const fresh = issued(await strategy.issue(banned));
          expect(await strategy.verify(fresh.accessToken)).toMatchObject({ ok: true });
        });

        it('exactly one network round trip per verify', async () => {
          const tokens = await Promise.all(Array.from({ length: 20 }, () => strategy.issue(newUser()).then(issued)));
          const counter = countRoundTrips(redis);
          try {
            for (const t of tokens) expect((await strategy.verify(t.accessToken)).ok).toBe(true);
            expect(counter.count()).toBe(tokens.length);
          } finally {
            counter.restore();
          }
        });

        it('subjects holding }, {, :, *, a newline or NUL: one round trip in one slot, and revocation reaches them', async () => {
          for (const awkward of AWKWARD_SUBJECTS) {
            // Before the counter and after it: a leading } once emptied the hash tag and split the user's keys over slots.
            for (const user of [`${awkward}${newUser()}`, `${newUser()}${awkward}`]) {
              const token = issued(await strategy.issue(user));
              const counter = countRoundTrips(redis);
              try {
                expect(await strategy.verify(token.accessToken)).toEqual({ ok: true, subject: user, jti: token.jti, redisOps: 1 });
                expect(counter.count()).toBe(1);
              } finally {
                counter.restore();
              }
              expect(await strategy.revoke(token.accessToken)).toMatchObject({ ok: true, stored: true });
              expect(await strategy.verify(token.accessToken)).toMatchObject({ ok: false, code: rejects, redisOps: 1 });
              const next = issued(await strategy.issue(user));
              expect(await strategy.revokeAll(user)).toMatchObject({ ok: true });
              expect(await strategy.verify(next.accessToken)).toMatchObject({ ok: false, code: rejects });
            }
          }
        });

        it('a token it did not issue is refused by revoke, not stored', async () => {
          const ack = await strategy.revoke('not.a.jwt');
          expect(ack).toMatchObject({ ok: false, code: 'ERR_JWT_MALFORMED', indeterminate: false, redisOps: 0 });
        });
      });
    }

    describe('blacklist entry lifetime', () => {
      it('outlives the token (remaining lifetime + leeway), never shorter', async () => {
        const leewayMs = 3000;
        const accessTtlMs = 60_000;
        for (const layout of ['key-per-token', 'bucketed'] as const) {
          const strategy = await createStrategy(
            { name: 'blacklist', jwt: { accessTtlMs, leewayMs }, blacklist: { layout, bucketMs: 10_000, groups: 4 } },
            { redis },
          );
          const user = newUser();
          const token = issued(await strategy.issue(user));
          await strategy.revoke(token.accessToken);
          const before = Date.now();
          const keys = await (kind === 'cluster' ? allKeys(redis as Cluster) : (redis as Redis).keys('tb:*'));
          const bucket = Math.floor(token.accessExpiresAtMs / 10_000);
          const entry = keys.find((k) => (layout === 'bucketed' ? k.startsWith('tb:blb:') && k.endsWith(`:${bucket}`) : k.endsWith(token.jti)));
          expect(entry, `${layout} entry key`).toBeDefined();
          const pttl = await redis.pttl(entry!);
          const tokenLeftMs = token.accessExpiresAtMs - before;
          expect(pttl).toBeGreaterThan(tokenLeftMs);
          const bucketSlack = layout === 'bucketed' ? 10_000 : 0;
          expect(pttl).toBeLessThanOrEqual(tokenLeftMs + leewayMs + bucketSlack + 50);
        }
      });
    });

    describe('whitelist session limit', () => {
      it('keeps the newest N sessions and evicts the oldest', async () => {
        const strategy = await createStrategy({ name: 'whitelist', whitelist: { maxSessions: 2 } }, { redis });
        const user = newUser();
        const first = issued(await strategy.issue(user));
        const second = issued(await strategy.issue(user));
        const third = issued(await strategy.issue(user));
        expect(third.evicted).toBe(1);
        expect(await strategy.verify(first.accessToken)).toMatchObject({ ok: false, code: 'ERR_NOT_ALLOWLISTED' });
        expect(await strategy.verify(second.accessToken)).toMatchObject({ ok: true });
        expect(await strategy.verify(third.accessToken)).toMatchObject({ ok: true });
        expect(await (strategy as unknown as { sessionCount(u: string): Promise<number> }).sessionCount(user)).toBe(2);
      });
    });

    describe('double-token', () => {
      let strategy: DoubleTokenStrategy;
      beforeAll(async () => {
        strategy = (await createStrategy({ name: 'double-token' }, { redis })) as DoubleTokenStrategy;
      });

      it('verifies access tokens without Redis and declares a bounded guarantee', async () => {
        const token = issued(await strategy.issue(newUser()));
        expect(await strategy.verify(token.accessToken)).toMatchObject({ ok: true, redisOps: 0 });
        expect(strategy.guarantee).toEqual({ boundedByMs: 30 * 60_000 + 5_000 });
      });

      it('rotates refresh tokens, and reuse of an old one revokes the whole family', async () => {
        const user = newUser();
        const login = issued(await strategy.issue(user));
        const r1 = await strategy.refresh(login.refreshToken!);
        expect(r1).toMatchObject({ ok: true, subject: user });
        if (!r1.ok) return;
        const r2 = await strategy.refresh(r1.refreshToken!);
        expect(r2.ok).toBe(true);
        // The attacker replays the first refresh token: detected, family revoked...
        expect(await strategy.refresh(login.refreshToken!)).toMatchObject({ ok: false, code: 'ERR_REFRESH_REUSED' });
        // ...so the legitimate client's newest token is dead too.
        if (r2.ok) expect(await strategy.refresh(r2.refreshToken!)).toMatchObject({ ok: false, code: 'ERR_REVOKED' });
        // Another session of the same user is untouched.
        const other = issued(await strategy.issue(user));
        expect((await strategy.refresh(other.refreshToken!)).ok).toBe(true);
      });

      it('an access token cannot be used to refresh, nor a refresh token to authenticate', async () => {
        const login = issued(await strategy.issue(newUser()));
        expect(await strategy.refresh(login.accessToken)).toMatchObject({ ok: false, code: 'ERR_JWT_TYPE_INVALID' });
        expect(await strategy.verify(login.refreshToken!)).toMatchObject({ ok: false, code: 'ERR_JWT_TYPE_INVALID' });
      });

      it('logout kills the session; its access token lives out its TTL (the bounded guarantee)', async () => {
        const login = issued(await strategy.issue(newUser()));
        expect(await strategy.revoke(login.refreshToken!)).toMatchObject({ ok: true, stored: true });
        expect(await strategy.refresh(login.refreshToken!)).toMatchObject({ ok: false, code: 'ERR_REVOKED' });
        expect(await strategy.verify(login.accessToken)).toMatchObject({ ok: true });
        const viaAccess = issued(await strategy.issue(newUser()));
        expect(await strategy.revoke(viaAccess.accessToken)).toMatchObject({ ok: true });
        expect(await strategy.refresh(viaAccess.refreshToken!)).toMatchObject({ ok: false, code: 'ERR_REVOKED' });
      });

      it('revokeAll deletes every refresh token of the user', async () => {
        const user = newUser();
        const sessions = [issued(await strategy.issue(user)), issued(await strategy.issue(user))];
        expect(await strategy.revokeAll(user)).toMatchObject({ ok: true });
        for (const s of sessions) expect(await strategy.refresh(s.refreshToken!)).toMatchObject({ ok: false, code: 'ERR_REVOKED' });
      });
    });

    if (kind !== 'single') {
      describe('revocation durability (WAIT)', () => {
        it('the ack counts replicas that confirmed; with the replicas paused it is no ack: unknown, 0 confirmed', async () => {
          const replicas = kind === 'sentinel' ? 2 : 1;
          const strategy = await createStrategy({ name: 'blacklist', wait: { replicas, timeoutMs: 500 } }, { redis });
          const user = newUser();
          const strong = await strategy.revoke(issued(await strategy.issue(user)).accessToken);
          expect(strong).toMatchObject({ ok: true, stored: true, replicasAcked: replicas, replicasRequested: replicas });

          // Pause the replicas that serve this user's key: the write still lands, the ack is weak.
          const token = issued(await strategy.issue(user));
          const primaryPort = await primaryPortFor(topology, redis, `tb:bl:{${user}}:x`);
          const primary = topology.nodes().find((n) => n.port === primaryPort)!;
          const targets = await replicasOf(topology, primary.port);
          for (const id of targets) await topology.inject({ action: 'pause', target: id });
          try {
            const weak = await strategy.revoke(token.accessToken);
            expect(weak).toMatchObject({ ok: false, code: 'ERR_NOT_REPLICATED', indeterminate: true, replicasAcked: 0, replicasRequested: replicas });
            expect((weak as { error: string }).error).toBe(`WAIT: 0 of ${replicas} replicas confirmed within 500 ms`);
            // It landed on the primary all the same: the token is rejected there (until a failover loses it).
            expect(await strategy.verify(token.accessToken)).toMatchObject({ ok: false, code: 'ERR_REVOKED' });
          } finally {
            for (const id of targets) await topology.inject({ action: 'resume', target: id });
          }
        });
      });
    }
  });
}

describe.sequential('failure policy with Redis stopped', () => {
  let topology: StartedTopology;
  beforeAll(async () => {
    topology = await startTopology({ kind: 'single' });
  });
  afterAll(async () => {
    await topology?.stop();
  });

  it('fail-closed rejects with ERR_STORE_UNAVAILABLE, fail-open accepts; both marked degraded', async () => {
    // No offline queue and a short timeout: the answer comes at once instead of after reconnects.
    const redis = topology.client({ enableOfflineQueue: false, commandTimeout: 300, maxRetriesPerRequest: 0 });
    try {
      const closed = await createStrategy({ name: 'blacklist' }, { redis });
      const open = await createStrategy({ name: 'blacklist', failurePolicy: 'fail-open' }, { redis });
      const whitelistClosed = await createStrategy({ name: 'whitelist' }, { redis });
      if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
      const user = newUser();
      const token = issued(await closed.issue(user));
      // Each strategy instance has its own generated keys, so each verifies only its own tokens.
      const openToken = issued(await open.issue(user));
      const allowed = issued(await whitelistClosed.issue(user));
      expect(await closed.verify(token.accessToken)).toMatchObject({ ok: true });

      await topology.inject({ action: 'kill', target: 'primary' });
      expect(await closed.verify(token.accessToken)).toMatchObject({ ok: false, code: 'ERR_STORE_UNAVAILABLE', degraded: true });
      expect(await open.verify(openToken.accessToken)).toMatchObject({ ok: true, degraded: true, subject: user });
      expect(await whitelistClosed.verify(allowed.accessToken)).toMatchObject({ ok: false, code: 'ERR_STORE_UNAVAILABLE', degraded: true });
      // A bad token is still rejected for what it is, Redis or not.
      expect(await open.verify(token.accessToken)).toMatchObject({ ok: false, code: 'ERR_JWT_SIGNATURE_INVALID' });
      const revoke = await closed.revoke(token.accessToken);
      expect(revoke).toMatchObject({ ok: false, code: 'ERR_STORE_UNAVAILABLE' });
      const login = await whitelistClosed.issue(user);
      expect(login).toMatchObject({ ok: false, code: 'ERR_STORE_UNAVAILABLE' });

      await topology.inject({ action: 'restart' });
      await topology.waitUntilReady();
      await expect.poll(async () => (await closed.verify(token.accessToken)).ok, { timeout: 10_000 }).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});

async function allKeys(cluster: Cluster): Promise<string[]> {
  const keys = await Promise.all(cluster.nodes('master').map((n) => n.keys('tb:*')));
  return keys.flat();
}

async function primaryPortFor(topology: StartedTopology, redis: Redis | Cluster, key: string): Promise<number> {
  if (!(redis as Cluster).isCluster) return (await topology.primaries())[0]!.port;
  const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
  const slots = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const range = slots.find(([from, to]) => from <= slot && slot <= to)!;
  return range[2][1];
}

async function replicasOf(topology: StartedTopology, primaryPort: number): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const ids: string[] = [];
  for (const node of topology.nodes()) {
    if (node.role === 'sentinel' || node.port === primaryPort) continue;
    const probe = new Redis({ host: node.host, port: node.port, lazyConnect: true });
    try {
      await probe.connect();
      const role = (await probe.call('ROLE')) as [string, string, number];
      if (role[0] === 'slave' && Number(role[2]) === primaryPort) ids.push(node.id);
    } finally {
      probe.disconnect();
    }
  }
  return ids;
}
