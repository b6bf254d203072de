import { performance } from 'node:perf_hooks';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokedTokenKey } from '../../strategies/blacklist.ts';
import { createStrategy } from '../../strategies/create.ts';
import { TokenService } from '../../strategies/jwt/token-service.ts';
import { normalizeStrategyOptions, type StrategyOptionsInput } from '../../strategies/options.ts';
import { DenylistReplica, type ReplicaHooks, ReplicatedBlacklistStrategy } from '../../strategies/replicated-blacklist.ts';
import type { Issued, Strategy } from '../../strategies/types.ts';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology } from '../../topologies/types.ts';

const IOREDIS_VERSION = (await import('ioredis/package.json', { with: { type: 'json' } })).default.version;

/** Generous on a shared 2-core machine; what is measured is printed. */
const PROPAGATION_LIMIT_MS = 500;
const FAILOVER_DEADLINE_MS = 60_000;

/** One signing key for every instance: tokens issued by one verify on another, as in a fleet. */
const JWT = { engine: 'fast-jwt', alg: 'HS256', keys: { secret: 'replicated-blacklist-test-secret-0123456789' } } as const;

let userCounter = 0;
const newUser = () => `repl-${process.pid}-${++userCounter}`;

function issued(result: Issued): Extract<Issued, { ok: true }> {
  if (!result.ok) throw new Error(`issue failed: ${result.error}`);
  return result;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, deadlineMs = 10_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** ms from `since` until verify on `strategy` rejects the token: the propagation a second verifier sees. Polls every turn of the event loop. */
async function msUntilRejected(strategy: Strategy, token: string, since: number): Promise<number> {
  const end = performance.now() + PROPAGATION_LIMIT_MS * 20;
  for (;;) {
    const verdict = await strategy.verify(token);
    if (!verdict.ok && verdict.code === 'ERR_REVOKED') return performance.now() - since;
    if (performance.now() > end)
      throw new Error(`the revocation did not reach the other verifier within ${PROPAGATION_LIMIT_MS * 20} ms: ${JSON.stringify(verdict)}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function replicated(options: Partial<StrategyOptionsInput>, redis: Redis | Cluster, hooks: ReplicaHooks = {}): Promise<ReplicatedBlacklistStrategy> {
  const normalized = normalizeStrategyOptions({ name: 'replicated-blacklist', jwt: JWT, ...options });
  const strategy = new ReplicatedBlacklistStrategy(await TokenService.create(normalized.jwt), redis, normalized, hooks);
  expect(await strategy.start()).toBe(true);
  return strategy;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const summary = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return `p50 ${percentile(s, 0.5).toFixed(2)} ms, p99 ${percentile(s, 0.99).toFixed(2)} ms, max ${s.at(-1)!.toFixed(2)} ms over ${s.length}`;
};

describe.sequential('replicated-blacklist on single', () => {
  let topology: StartedTopology;
  let redis: Redis;
  let writerClient: Redis;
  const closing: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    topology = await startTopology({ kind: 'single' });
    redis = topology.client() as Redis;
    writerClient = topology.client() as Redis;
  });
  afterAll(async () => {
    for (const c of closing) await c.close();
    redis?.disconnect();
    writerClient?.disconnect();
    await topology?.stop();
  });

  it(`the protocol trap: ioredis ${IOREDIS_VERSION} drops RESP3 invalidate pushes; a RESP2 subscriber gets __redis__:invalidate`, async () => {
    // If this fails after an ioredis upgrade, the reason the tracking connections use protocol 2 may be gone: look again.
    expect(IOREDIS_VERSION).toBe('6.0.0');
    const prefix = `trap-${process.pid}:`;
    const received = { resp3: 0, resp2: 0 };
    let resp3FrameBytes = 0;
    const arm = async (subscriber: Redis, name: keyof typeof received) => {
      const tracker = redis.duplicate();
      const id = await subscriber.client('ID');
      subscriber.on('message', () => received[name]++);
      subscriber.on('messageBuffer', () => {});
      await subscriber.subscribe('__redis__:invalidate');
      await tracker.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', prefix);
      return tracker;
    };
    const resp3 = redis.duplicate();
    const resp2 = redis.duplicate({ protocol: 2 });
    const trackers = [await arm(resp3, 'resp3'), await arm(resp2, 'resp2')];
    // Watch the RESP3 socket itself: the push does arrive, ioredis just says nothing.
    (resp3 as unknown as { stream: NodeJS.ReadableStream }).stream.on('data', (chunk: Buffer) => {
      if (chunk.includes('invalidate')) resp3FrameBytes += chunk.length;
    });
    try {
      await writerClient.set(`${prefix}k`, '1');
      await until('the RESP2 subscriber to hear of the SET', () => (received.resp2 > 0 ? true : undefined));
      // Both were sent in the same event-loop turn; a PING answered after it proves the RESP3 frame came before.
      await resp3.ping();
      expect(resp3FrameBytes).toBeGreaterThan(0);
      expect(received).toEqual({ resp3: 0, resp2: 1 });
    } finally {
      for (const c of [resp3, resp2, ...trackers]) c.disconnect();
    }
  });

  it('loads what was revoked before it started, and what is revoked between arming and the end of the load', async () => {
    const writer = await createStrategy({ name: 'blacklist', jwt: JWT }, { redis: writerClient });
    const before = issued(await writer.issue(newUser()));
    expect(await writer.revoke(before.accessToken)).toMatchObject({ ok: true });
    const duringUser = newUser();
    const during = issued(await writer.issue(duringUser));
    const bannedDuring = issued(await writer.issue(newUser()));
    const gone = issued(await writer.issue(newUser()));
    expect(await writer.revoke(gone.accessToken)).toMatchObject({ ok: true });
    const goneKey = revokedTokenKey('tb:', gone.subject, gone.jti);
    let armed = 0;
    const strategy = await replicated({}, redis, {
      afterArm: async () => {
        armed++;
        // Tracking is on, SCAN has not started: a write here is either scanned or announced, and an
        // entry deleted here must not survive in the replica.
        expect(await writer.revoke(during.accessToken)).toMatchObject({ ok: true });
        expect(await writer.revokeAll(bannedDuring.subject)).toMatchObject({ ok: true });
        await writerClient.del(goneKey);
      },
    });
    closing.push(strategy);
    expect(armed).toBe(1);
    for (const t of [before, during, bannedDuring]) expect(await strategy.verify(t.accessToken)).toMatchObject({ ok: false, code: 'ERR_REVOKED', redisOps: 0 });
    expect(await strategy.verify(gone.accessToken)).toEqual({ ok: true, subject: gone.subject, jti: gone.jti, redisOps: 0 });
    const stats = strategy.stats;
    expect(stats).toMatchObject({ live: true, nodes: 1, reloads: 1 });
    expect(stats.entries).toBeGreaterThanOrEqual(2);
    expect(stats.watermarks).toBeGreaterThanOrEqual(1);
    console.log(`first load: ${stats.lastReloadMs!.toFixed(1)} ms for ${stats.entries} entries, ${stats.watermarks} watermarks`);
  });

  it('loads a live-sized denylist (10/s x 15 min = 9,000 entries) and counts it', async () => {
    const prefix = `load-${process.pid}:`;
    const pipeline = writerClient.pipeline();
    for (let i = 0; i < 9000; i++) pipeline.set(revokedTokenKey(prefix, `user-${i}`, `jti-${i}`), '1', 'PX', 60_000);
    for (let i = 0; i < 100; i++) pipeline.set(`${prefix}wm:{user-${i}}`, String(Date.now()), 'PX', 60_000);
    await pipeline.exec();
    const strategy = await replicated({ keyPrefix: prefix }, redis);
    closing.push(strategy);
    const { entries, watermarks, bytesEstimate, lastReloadMs } = strategy.stats;
    expect({ entries, watermarks }).toEqual({ entries: 9000, watermarks: 100 });
    console.log(`load of 9,000 entries + 100 watermarks: ${lastReloadMs!.toFixed(1)} ms, ~${Math.round(bytesEstimate / 1024)} KiB estimated`);
  });

  it('verify asks Redis nothing while live', async () => {
    const strategy = await replicated({}, redis);
    closing.push(strategy);
    const token = issued(await strategy.issue(newUser()));
    let writes = 0;
    const stream = (redis as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream;
    const original = stream.write;
    stream.write = function (this: unknown, ...args: unknown[]) {
      writes++;
      return original.apply(this, args);
    };
    try {
      for (let i = 0; i < 50; i++) expect(await strategy.verify(token.accessToken)).toMatchObject({ ok: true, redisOps: 0 });
    } finally {
      stream.write = original;
    }
    expect(writes).toBe(0);
  });

  it('a revocation by another instance reaches this one by invalidation; revokeAll too', async () => {
    const verifier = await replicated({}, redis);
    const writer = await replicated({}, writerClient);
    closing.push(verifier, writer);
    const lags: number[] = [];
    for (let i = 0; i < 30; i++) {
      const token = issued(await writer.issue(newUser()));
      expect(await verifier.verify(token.accessToken)).toMatchObject({ ok: true });
      const ack = await writer.revoke(token.accessToken);
      const acked = performance.now();
      expect(ack).toMatchObject({ ok: true, stored: true });
      lags.push(await msUntilRejected(verifier, token.accessToken, acked));
    }
    const bans: number[] = [];
    for (let i = 0; i < 10; i++) {
      const tokens = [issued(await writer.issue(`ban-${i}-${newUser()}`))];
      tokens.push(issued(await writer.issue(tokens[0]!.subject)));
      expect(await writer.revokeAll(tokens[0]!.subject)).toMatchObject({ ok: true });
      const acked = performance.now();
      for (const t of tokens) bans.push(await msUntilRejected(verifier, t.accessToken, acked));
    }
    console.log(`propagation, revoke: ${summary(lags)}; revokeAll: ${summary(bans)}`);
    expect(Math.max(...lags, ...bans)).toBeLessThan(PROPAGATION_LIMIT_MS);
    expect(verifier.stats.invalidationsReceived).toBeGreaterThanOrEqual(40);
  });

  it('an entry that expires disappears from the replica', async () => {
    const replica = new DenylistReplica(redis, 'tb:');
    closing.push(replica);
    replica.start();
    expect(await replica.whenLive(10_000)).toBe(true);
    const key = revokedTokenKey('tb:', newUser(), 'short-lived');
    await writerClient.set(key, '1', 'PX', 200);
    await until('the entry to arrive', () => (replica.isRevoked(key) ? true : undefined));
    // Redis expires keys lazily or in its active cycle (10 Hz); a read forces it if the cycle has not come round.
    await until('the expiry to reach the replica', async () => {
      await writerClient.exists(key);
      return replica.isRevoked(key) ? undefined : true;
    });
  });

  it('while the replica is not live, fail-closed rejects and fail-open accepts, degraded', async () => {
    const closed = await replicated({}, redis);
    const open = await replicated({ failurePolicy: 'fail-open' }, redis);
    closing.push(closed, open);
    const token = issued(await closed.issue(newUser()));
    await writerClient.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await until('the replicas to notice', () => (!closed.live && !open.live ? true : undefined));
    expect(await closed.verify(token.accessToken)).toMatchObject({ ok: false, code: 'ERR_STORE_UNAVAILABLE', degraded: true, redisOps: 0 });
    expect(await open.verify(token.accessToken)).toMatchObject({ ok: true, degraded: true, redisOps: 0 });
    expect(await closed.whenLive(10_000)).toBe(true);
    expect(await closed.verify(token.accessToken)).toEqual({ ok: true, subject: token.subject, jti: token.jti, redisOps: 0 });
    expect(closed.stats.reloads).toBe(2);
  });

  it('refuses the bucketed layout, naming the option', async () => {
    await expect(createStrategy({ name: 'replicated-blacklist', blacklist: { layout: 'bucketed' } }, { redis })).rejects.toThrow(
      /blacklist\.layout: expected key-per-token.*got 'bucketed'/,
    );
  });

  it('close releases its connections', async () => {
    const count = async () => ((await writerClient.client('LIST')) as string).split('\n').filter(Boolean).length;
    // The replicas of earlier tests may still be reconnecting after the CLIENT KILL above.
    for (const c of closing) if (c instanceof DenylistReplica || c instanceof ReplicatedBlacklistStrategy) expect(await c.whenLive(10_000)).toBe(true);
    const baseline = await count();
    const strategy = await replicated({}, redis);
    expect(await count()).toBe(baseline + 2);
    await strategy.close();
    await until('the connections to close', async () => ((await count()) === baseline ? true : undefined));
  });
});

for (const kind of ['sentinel', 'cluster'] as const) {
  describe.sequential(`replicated-blacklist on ${kind}: re-armed after a kill -9 of the primary`, () => {
    let topology: StartedTopology;
    let verifierClient: Redis | Cluster;
    let writerClient: Redis | Cluster;
    let verifier: ReplicatedBlacklistStrategy;
    let writer: Strategy;
    let plainWriter: Strategy;

    beforeAll(async () => {
      topology = await startTopology({ kind });
      verifierClient = topology.client();
      writerClient = topology.client();
      verifier = await replicated({}, verifierClient);
      // WAIT 1: a revocation acknowledged before the kill is on a replica, so the promoted one has it.
      writer = await createStrategy({ name: 'blacklist', jwt: JWT, wait: { replicas: 1, timeoutMs: 2000 } }, { redis: writerClient });
      // After the kill a Cluster shard has no replica left to WAIT for.
      plainWriter = await createStrategy({ name: 'blacklist', jwt: JWT }, { redis: writerClient });
    });
    afterAll(async () => {
      await verifier?.close();
      verifierClient?.disconnect();
      writerClient?.disconnect();
      await topology?.stop();
    });

    it('revocations propagate to the other instance', async () => {
      const lags: number[] = [];
      for (let i = 0; i < 20; i++) {
        const token = issued(await writer.issue(newUser()));
        expect(await writer.revoke(token.accessToken)).toMatchObject({ ok: true });
        lags.push(await msUntilRejected(verifier, token.accessToken, performance.now()));
      }
      console.log(`${kind} propagation: ${summary(lags)}`);
      expect(verifier.stats.nodes).toBe(kind === 'cluster' ? 3 : 1);
    });

    it('after the promotion the replica reloads, keeps what was revoked before, and hears of writes to the new primary; fail-closed meanwhile', async () => {
      const users = Array.from({ length: 12 }, newUser);
      const revokedBefore = await Promise.all(users.map(async (u) => issued(await writer.issue(u))));
      for (const t of revokedBefore) expect(await writer.revoke(t.accessToken)).toMatchObject({ ok: true });
      const valid = issued(await writer.issue(newUser()));
      // Another instance's revocations arrive by invalidation, a fraction of a millisecond after the ack: wait for them, do not race them.
      for (const t of revokedBefore) await msUntilRejected(verifier, t.accessToken, performance.now());
      const reloadsBefore = verifier.stats.reloads;

      const fault = await topology.inject({ action: 'kill', target: 'primary' });
      const killedAt = performance.now();
      await until('the replica to stop being live', () => (!verifier.live ? true : undefined));
      const notLiveAt = performance.now();
      expect(await verifier.verify(valid.accessToken)).toMatchObject({ ok: false, code: 'ERR_STORE_UNAVAILABLE', degraded: true, redisOps: 0 });
      expect(await verifier.whenLive(FAILOVER_DEADLINE_MS)).toBe(true);
      const liveAt = performance.now();
      console.log(
        `${kind}: ${fault.node} killed; not live after ${(notLiveAt - killedAt).toFixed(0)} ms, live again after ${(liveAt - killedAt).toFixed(0)} ms; last reload ${verifier.stats.lastReloadMs!.toFixed(1)} ms`,
      );
      expect(verifier.stats.reloads).toBeGreaterThan(reloadsBefore);
      expect(verifier.stats.nodes).toBe(kind === 'cluster' ? 3 : 1);

      for (const t of revokedBefore) expect(await verifier.verify(t.accessToken)).toMatchObject({ ok: false, code: 'ERR_REVOKED', redisOps: 0 });
      expect(await verifier.verify(valid.accessToken)).toEqual({ ok: true, subject: valid.subject, jti: valid.jti, redisOps: 0 });

      // Written to the new primary (every shard's, with 12 users): the writer retries until its client has found it.
      const after = await Promise.all(users.map(async (u) => issued(await plainWriter.issue(u))));
      for (const t of after) {
        await until('the write to reach the new primary', async () => ((await plainWriter.revoke(t.accessToken)).ok ? true : undefined), FAILOVER_DEADLINE_MS);
      }
      const lags: number[] = [];
      const since = performance.now();
      for (const t of after) lags.push(await msUntilRejected(verifier, t.accessToken, since));
      console.log(`${kind} after the failover: ${summary(lags)} (measured from the last ack)`);
      expect(Math.max(...lags)).toBeLessThan(PROPAGATION_LIMIT_MS);
    });
  });
}
