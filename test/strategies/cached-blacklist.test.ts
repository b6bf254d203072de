import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedBlacklistStrategy } from '../../strategies/cached-blacklist.ts';
import { createStrategy } from '../../strategies/create.ts';
import type { StrategyOptionsInput } from '../../strategies/options.ts';
import type { Issued, Verdict } from '../../strategies/types.ts';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology } from '../../topologies/types.ts';

type Kind = 'single' | 'sentinel' | 'cluster';
const KINDS: Kind[] = ['single', 'sentinel', 'cluster'];
/** Generous: on loopback the push arrives in well under a millisecond, but 2 shared cores stall. */
const PROPAGATION_DEADLINE_MS = 2_000;
const FAULT_DEADLINE_MS = 30_000;

/** Verifiers of one deployment share the signing key, as a fleet of gateways would. */
const OPTIONS: StrategyOptionsInput = {
  name: 'cached-blacklist',
  jwt: { engine: 'fast-jwt', alg: 'HS256', keys: { secret: 'cached-blacklist-test-secret-of-40-chars!' } },
};

let userCounter = 0;
const newUser = () => `user-${process.pid}-${++userCounter}`;

function issued(result: Issued): Extract<Issued, { ok: true }> {
  if (!result.ok) throw new Error(`issue failed: ${result.error}`);
  return result;
}

/** A macrotask turn: a push is read off the socket only when the event loop gets to I/O, and cache hits never yield to it. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, deadlineMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (performance.now() > deadline) throw new Error(`not within ${deadlineMs} ms: ${what}`);
    await sleep(20);
  }
}

/**
 * Verifies until the verdict is ERR_REVOKED; returns it, how long after `sinceMs` it came, and the
 * verdicts before it (by code; `accepted` for an accept).
 */
async function rejectedWithin(
  strategy: CachedBlacklistStrategy,
  token: string,
  sinceMs: number,
  deadlineMs: number,
): Promise<{ verdict: Verdict; afterMs: number; before: Record<string, number> }> {
  const before: Record<string, number> = {};
  for (;;) {
    const verdict = await strategy.verify(token);
    const afterMs = performance.now() - sinceMs;
    if (!verdict.ok && verdict.code === 'ERR_REVOKED') return { verdict, afterMs, before };
    const code = verdict.ok ? 'accepted' : verdict.code;
    before[code] = (before[code] ?? 0) + 1;
    if (afterMs > deadlineMs) throw new Error(`still ${JSON.stringify(verdict)} ${afterMs.toFixed(0)} ms after the ack`);
    await nextTurn();
  }
}

/** The primaries' connections, one per node: CLIENT LIST and KILL are per server. */
function primaryConnections(admin: Redis | Cluster): Redis[] {
  return (admin as Cluster).isCluster ? (admin as Cluster).nodes('master') : [admin as Redis];
}

/**
 * Kills every connection with client tracking on (flag `t`): node-redis tracks on the connection
 * that reads, so this cuts the invalidation stream and the data connection together.
 */
async function killTrackingConnections(admin: Redis | Cluster): Promise<number> {
  let killed = 0;
  for (const node of primaryConnections(admin)) {
    const list = (await node.call('CLIENT', 'LIST')) as string;
    for (const line of list.split('\n')) {
      const fields = Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2) as [string, string]));
      if (fields.flags?.includes('t') && fields.id) {
        await node.call('CLIENT', 'KILL', 'ID', fields.id);
        killed++;
      }
    }
  }
  return killed;
}

async function ackedWithRetry(write: () => Promise<{ ok: boolean }>, deadlineMs: number): Promise<number> {
  return until('an acknowledged revocation', deadlineMs, async () => ((await write()).ok ? performance.now() : undefined));
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

for (const kind of KINDS) {
  describe.sequential(`cached-blacklist on ${kind}`, () => {
    let topology: StartedTopology;
    let redis: Redis | Cluster;
    /** The instance that revokes. */
    let writer: CachedBlacklistStrategy;
    /** Another instance with its own node-redis cache: a second gateway. */
    let verifier: CachedBlacklistStrategy;

    beforeAll(async () => {
      topology = await startTopology({ kind });
      redis = topology.client();
      await redis.set('warm-up', '1');
      writer = (await createStrategy(OPTIONS, { redis, target: topology.endpoints() })) as CachedBlacklistStrategy;
      verifier = (await createStrategy(OPTIONS, { redis, target: topology.endpoints() })) as CachedBlacklistStrategy;
    });
    afterAll(async () => {
      await writer?.close();
      await verifier?.close();
      redis?.disconnect();
      await topology?.stop();
    });

    it('says what it is: bounded by the push delay, no Redis round trip on a hit', async () => {
      expect(verifier.name).toBe('cached-blacklist');
      expect(verifier.guarantee).toEqual({ boundedByMs: 100 });
      const token = issued(await writer.issue(newUser())).accessToken;
      const first = await verifier.verify(token);
      expect(first).toMatchObject({ ok: true, redisOps: 1 });
      const before = verifier.stats;
      for (let i = 0; i < 50; i++) expect(await verifier.verify(token)).toMatchObject({ ok: true, redisOps: 0 });
      const after = verifier.stats;
      // A hit is a negative answer cached: neither key exists.
      expect(after.hits - before.hits).toBe(50);
      expect(after.misses).toBe(before.misses);
      expect(after.entries).toBeGreaterThan(0);
      expect(after.hits / (after.hits + after.misses)).toBeGreaterThan(0);
    });

    it('a revocation in one instance is enforced by another within the bound', async () => {
      const delays: number[] = [];
      for (let i = 0; i < 20; i++) {
        const token = issued(await writer.issue(newUser())).accessToken;
        // Cached as not revoked in the other instance first: the invalidation is what must reach it.
        expect(await verifier.verify(token)).toMatchObject({ ok: true });
        expect(await verifier.verify(token)).toMatchObject({ ok: true, redisOps: 0 });
        const ack = await writer.revoke(token);
        expect(ack).toMatchObject({ ok: true, stored: true });
        delays.push((await rejectedWithin(verifier, token, performance.now(), PROPAGATION_DEADLINE_MS)).afterMs);
      }
      delays.sort((a, b) => a - b);
      console.log(
        `cached-blacklist on ${kind}: revoked token rejected by a second instance ${quantile(delays, 0.5).toFixed(2)} ms (p50) / ${delays.at(-1)!.toFixed(2)} ms (max) after the ack, 20 revocations`,
      );
      expect(delays.at(-1)!).toBeLessThan(PROPAGATION_DEADLINE_MS);
    });

    it('revokeAll reaches a cached instance too: the watermark key is invalidated', async () => {
      const subject = newUser();
      const token = issued(await writer.issue(subject)).accessToken;
      expect(await verifier.verify(token)).toMatchObject({ ok: true });
      expect(await verifier.verify(token)).toMatchObject({ ok: true, redisOps: 0 });
      expect(await writer.revokeAll(subject)).toMatchObject({ ok: true });
      const { verdict } = await rejectedWithin(verifier, token, performance.now(), PROPAGATION_DEADLINE_MS);
      expect(verdict).toMatchObject({ ok: false, code: 'ERR_REVOKED', detail: expect.stringContaining('every token of this user') });
    });

    it('the tracking connection killed: the cache is dropped, and a revocation made meanwhile is enforced', async () => {
      const token = issued(await writer.issue(newUser())).accessToken;
      expect(await verifier.verify(token)).toMatchObject({ ok: true });
      expect(await verifier.verify(token)).toMatchObject({ ok: true, redisOps: 0 });
      const { clears } = verifier.stats;
      expect(verifier.stats.entries).toBeGreaterThan(0);
      expect(await killTrackingConnections(redis)).toBeGreaterThanOrEqual(2);
      await until('the cache dropped', FAULT_DEADLINE_MS, async () => (verifier.stats.clears > clears ? true : undefined));
      expect(verifier.stats.entries).toBe(0);
      // Written while no invalidation could reach the verifier: only the dropped cache makes it seen.
      await ackedWithRetry(() => writer.revoke(token), FAULT_DEADLINE_MS);
      const verdict = await until('a verdict from Redis again', FAULT_DEADLINE_MS, async () => {
        const v = await verifier.verify(token);
        return !v.ok && v.code === 'ERR_STORE_UNAVAILABLE' ? undefined : v;
      });
      expect(verdict).toMatchObject({ ok: false, code: 'ERR_REVOKED' });
    });

    if (kind === 'single') {
      it('Redis down: fail-closed, degraded, cached or not', async () => {
        const cachedToken = issued(await writer.issue(newUser())).accessToken;
        expect(await verifier.verify(cachedToken)).toMatchObject({ ok: true });
        const { clears } = verifier.stats;
        await topology.inject({ action: 'kill' });
        await until('the cache dropped', FAULT_DEADLINE_MS, async () => (verifier.stats.clears > clears ? true : undefined));
        const uncachedToken = issued(await writer.issue(newUser())).accessToken;
        for (const token of [cachedToken, uncachedToken]) {
          expect(await verifier.verify(token)).toMatchObject({ ok: false, code: 'ERR_STORE_UNAVAILABLE', degraded: true });
        }
        await topology.inject({ action: 'restart' });
        await topology.waitUntilReady();
        const verdict = await until('Redis back', FAULT_DEADLINE_MS, async () => {
          const v = await verifier.verify(uncachedToken);
          return v.ok ? v : undefined;
        });
        expect(verdict).toMatchObject({ ok: true, redisOps: 1 });
      });
    }

    if (kind === 'sentinel') {
      it('kill -9 of the primary: the cache is dropped, and a revocation written to the new primary is enforced', async () => {
        const token = issued(await writer.issue(newUser())).accessToken;
        expect(await verifier.verify(token)).toMatchObject({ ok: true });
        expect(await verifier.verify(token)).toMatchObject({ ok: true, redisOps: 0 });
        const [before] = await topology.primaries();
        const { clears } = verifier.stats;
        const fault = await topology.inject({ action: 'kill', target: 'primary' });
        expect(fault.node).toBe(before!.id);
        await until('the cache dropped', FAULT_DEADLINE_MS, async () => (verifier.stats.clears > clears ? true : undefined));
        const ackedAt = await ackedWithRetry(() => writer.revoke(token), FAULT_DEADLINE_MS);
        const [after] = await topology.primaries();
        expect(after!.id).not.toBe(before!.id);
        const { afterMs, before: earlier } = await rejectedWithin(verifier, token, ackedAt, FAULT_DEADLINE_MS);
        console.log(
          `cached-blacklist on sentinel: after the failover, the revocation on ${after!.id} was enforced ${afterMs.toFixed(1)} ms after its ack; verdicts before: ${JSON.stringify(earlier)}`,
        );
        // The cache went with the old primary's connection: the verifier may fail closed until it finds the new one, never accept.
        expect(earlier.accepted ?? 0).toBe(0);
        // And it stays enforced from the cache: the rejection itself is cached now.
        expect(await verifier.verify(token)).toMatchObject({ ok: false, code: 'ERR_REVOKED', redisOps: 0 });
      });
    }
  });
}
