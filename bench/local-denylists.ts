import type { Redis } from 'ioredis';
import type { CachedBlacklistStrategy } from '../strategies/cached-blacklist.ts';
import { createStrategy } from '../strategies/create.ts';
import type { ReplicatedBlacklistStrategy } from '../strategies/replicated-blacklist.ts';
import type { Strategy, StrategyName } from '../strategies/types.ts';
import type { ClientTarget } from '../topologies/client.ts';
import { startTopology } from '../topologies/topology.ts';
import { AUDIENCE, type BareAlg, type BareEngine, generateBareKeys, ISSUER, newBench, rotate, round, statsOf, type TaskStats, toRow } from './jwt-floor.ts';
// Paired rounds as in the strategy-verify section: the compared tasks side by side in every round.
import { deleteBenchKeys, issueTokens, median, mergeRounds, ROUND_TIME_MS, ROUND_WARMUP_MS, ROUNDS, strategyKeys } from './strategy-verify.ts';
import type { BenchRow, SectionResult, Target } from './types.ts';

export interface LocalDenylistBenchContext {
  redis: Redis;
  target: ClientTarget;
}

const TOKEN_COUNT = 100;
const KEY_PREFIX = 'tbbench:ld:';
const CONFIGS: readonly { engine: BareEngine; alg: BareAlg }[] = [
  { engine: 'fast-jwt', alg: 'HS256' },
  { engine: 'jose', alg: 'ES256' },
];
/** Revocations per second the lag is measured at (the issue's two rates), each for this long. */
const LAG_RATES = [100, 1000] as const;
const LAG_WINDOW_MS = 2000;
/** A revoked token still accepted this long after its ack has missed its invalidation: stop asking. */
const LAG_GIVE_UP_MS = 2000;
const MEMORY_ENTRIES = 20_000;

type Local = 'replicated-blacklist' | 'cached-blacklist';

async function make(name: StrategyName, ctx: LocalDenylistBenchContext, jwt: object): Promise<Strategy> {
  return createStrategy({ name, jwt, keyPrefix: KEY_PREFIX }, { redis: ctx.redis, target: ctx.target, client: {} });
}

const deleteKeys = (redis: Redis) => deleteBenchKeys(redis, KEY_PREFIX);

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Verify throughput of pure, replicated and cached (every token already in the cache), in paired rounds. */
async function throughputRatios(ctx: LocalDenylistBenchContext, engine: BareEngine, alg: BareAlg) {
  const keys = generateBareKeys(alg);
  const jwt = { engine, alg, issuer: ISSUER, audience: AUDIENCE, keys: strategyKeys(keys) };
  const strategies = {
    pure: await make('pure', ctx, jwt),
    'replicated-blacklist': await make('replicated-blacklist', ctx, jwt),
    'cached-blacklist': await make('cached-blacklist', ctx, jwt),
  };
  try {
    const next = {
      pure: rotate(await issueTokens(strategies.pure, TOKEN_COUNT)),
      'replicated-blacklist': rotate(await issueTokens(strategies['replicated-blacklist'], TOKEN_COUNT)),
      // issueTokens verifies each once: every later verify of these tokens is a cache hit.
      'cached-blacklist': rotate(await issueTokens(strategies['cached-blacklist'], TOKEN_COUNT)),
    };
    const order = ['pure', 'replicated-blacklist', 'cached-blacklist'] as const;
    const perRound = new Map<string, TaskStats[]>(order.map((id) => [id, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const bench = newBench({ time: ROUND_TIME_MS, warmupTime: ROUND_WARMUP_MS });
      for (const id of r % 2 === 0 ? order : [...order].reverse())
        bench.add(id, async () => {
          await strategies[id].verify(next[id]());
        });
      await bench.run();
      for (const task of bench.tasks) perRound.get(task.name)!.push(statsOf(task));
    }
    const ratio = (id: Local) => median(perRound.get(id)!.map((s, i) => s.opsPerSec / perRound.get('pure')![i]!.opsPerSec));
    const cached = strategies['cached-blacklist'] as CachedBlacklistStrategy;
    return {
      merged: new Map(order.map((id) => [id, mergeRounds(perRound.get(id)!)])),
      replicated: ratio('replicated-blacklist'),
      cached: ratio('cached-blacklist'),
      cacheStats: cached.stats,
    };
  } finally {
    for (const s of Object.values(strategies)) await s.close?.();
  }
}

interface LagFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  revocations: number;
  beyondBound: number;
  neverRejected: number;
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * Revocations written by one instance at `rate` (open loop), each then asked of another instance
 * until it rejects it: the lag is from the writer's ack to the first rejecting verify's completion
 * (an upper bound). The asking yields between verifies, as any server does between requests:
 * a loop that never yields never reads the invalidations it waits for.
 */
async function propagationLag(ctx: LocalDenylistBenchContext, reader: Local, rate: number): Promise<LagFigures> {
  const keys = generateBareKeys('HS256');
  const jwt = { engine: 'fast-jwt', alg: 'HS256', issuer: ISSUER, audience: AUDIENCE, keys: strategyKeys(keys) };
  const writer = await make('blacklist', ctx, jwt);
  const verifier = await make(reader, ctx, jwt);
  const count = Math.round((rate * LAG_WINDOW_MS) / 1000);
  try {
    const tokens = await issueTokens(writer, count);
    for (const token of tokens) await verifier.verify(token); // cached: every token's "not revoked" in the cache
    const bound = typeof verifier.guarantee === 'object' ? verifier.guarantee.boundedByMs : 0;
    const lags: number[] = [];
    let beyondBound = 0;
    let neverRejected = 0;
    const began = performance.now();
    const probes: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = began + (i * 1000) / rate;
      while (performance.now() < due) await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now() - 1)));
      const token = tokens[i]!;
      const ack = await writer.revoke(token);
      if (!ack.ok) throw new Error(`revoke failed: ${ack.error}`);
      const ackedAt = performance.now();
      probes.push(
        (async () => {
          for (;;) {
            const verdict = await verifier.verify(token);
            const now = performance.now();
            if (!verdict.ok && verdict.code === 'ERR_REVOKED') {
              lags.push(now - ackedAt);
              return;
            }
            if (now - ackedAt > bound) beyondBound++;
            if (now - ackedAt > LAG_GIVE_UP_MS) {
              neverRejected++;
              return;
            }
            await yieldToIo();
          }
        })(),
      );
    }
    await Promise.all(probes);
    lags.sort((a, b) => a - b);
    return { p50Ms: percentile(lags, 0.5), p99Ms: percentile(lags, 0.99), maxMs: lags.at(-1) ?? Number.NaN, revocations: count, beyondBound, neverRejected };
  } finally {
    await verifier.close?.();
    await writer.close?.();
    await deleteKeys(ctx.redis);
  }
}

/** Local state per revoked token: the replica's own estimate over MEMORY_ENTRIES entries, checked against the heap. */
async function memoryPerEntry(ctx: LocalDenylistBenchContext): Promise<{ estimate: number; heap: number }> {
  const jwt = { engine: 'fast-jwt', alg: 'HS256', issuer: ISSUER, audience: AUDIENCE, keys: strategyKeys(generateBareKeys('HS256')) };
  const pipeline = ctx.redis.pipeline();
  for (let i = 0; i < MEMORY_ENTRIES; i++) pipeline.set(`${KEY_PREFIX}bl:{user-${i}}:${'x'.repeat(22)}${i}`, '1', 'PX', 600_000);
  await pipeline.exec();
  // `npm run bench` runs with --expose-gc: collect before each reading so garbage is not counted.
  const heapUsed = () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().heapUsed;
  };
  const heapBefore = heapUsed();
  const replica = (await make('replicated-blacklist', ctx, jwt)) as ReplicatedBlacklistStrategy;
  try {
    const heapAfter = heapUsed();
    const { entries, bytesEstimate } = replica.stats;
    return { estimate: bytesEstimate / Math.max(1, entries), heap: (heapAfter - heapBefore) / Math.max(1, entries) };
  } finally {
    await replica.close?.();
    await deleteKeys(ctx.redis);
  }
}

/**
 * After kill -9 of the Sentinel primary: how long the replica takes to be live again once the
 * failover is done, and whether every revocation acknowledged before the fault is still enforced.
 */
async function afterFailover(): Promise<{ reloadMs: number | null; notLiveMs: number; enforced: number; revoked: number }> {
  const topology = await startTopology({ kind: 'sentinel' });
  const redis = topology.client() as Redis;
  const jwt = { engine: 'fast-jwt', alg: 'HS256', issuer: ISSUER, audience: AUDIENCE, keys: strategyKeys(generateBareKeys('HS256')) };
  const ctx = { redis, target: topology.endpoints() };
  const writer = await make('blacklist', ctx, jwt);
  const replica = (await make('replicated-blacklist', ctx, jwt)) as ReplicatedBlacklistStrategy;
  try {
    const tokens = await issueTokens(writer, 100);
    for (const token of tokens) await writer.revoke(token);
    await topology.waitUntilReady();
    await topology.inject({ action: 'kill', target: 'primary' });
    const killedAt = performance.now();
    while (replica.stats.live && performance.now() - killedAt < 10_000) await new Promise((resolve) => setTimeout(resolve, 5));
    const notLiveAt = performance.now();
    while (!replica.stats.live && performance.now() - killedAt < 60_000) await new Promise((resolve) => setTimeout(resolve, 5));
    let enforced = 0;
    for (const token of tokens) {
      const verdict = await replica.verify(token);
      if (!verdict.ok && verdict.code === 'ERR_REVOKED') enforced++;
    }
    return { reloadMs: replica.stats.lastReloadMs, notLiveMs: performance.now() - notLiveAt, enforced, revoked: tokens.length };
  } finally {
    await replica.close?.();
    await writer.close?.();
    redis.disconnect();
    await topology.stop();
  }
}

/** Section: verify with the denylist in process (replicated) or in a client-side cache (cached), against pure. */
export async function benchLocalDenylists(ctx: LocalDenylistBenchContext): Promise<SectionResult> {
  const rows: BenchRow[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  await deleteKeys(ctx.redis);
  for (const { engine, alg } of CONFIGS) {
    const r = await throughputRatios(ctx, engine, alg);
    for (const [id, s] of r.merged) rows.push(toRow(`${id} verify (${engine} ${alg})`, s));
    targets.push(
      {
        id: `replicated-vs-pure-${engine}-${alg}`,
        description: `replicated-blacklist verify vs pure verify throughput (${engine} ${alg})`,
        measured: round(r.replicated).toString(),
        threshold: '>= 0.9',
        met: r.replicated >= 0.9,
      },
      {
        id: `cached-hit-vs-pure-${engine}-${alg}`,
        description: `cached-blacklist verify (cache hit) vs pure verify throughput (${engine} ${alg})`,
        measured: round(r.cached).toString(),
        threshold: '>= 0.8',
        met: r.cached >= 0.8,
      },
    );
    notes.push(`cached-blacklist cache (${engine} ${alg}): ${JSON.stringify(r.cacheStats)}`);
    await deleteKeys(ctx.redis);
  }
  for (const reader of ['replicated-blacklist', 'cached-blacklist'] as const) {
    for (const rate of LAG_RATES) {
      const lag = await propagationLag(ctx, reader, rate);
      rows.push({
        name: `${reader}: propagation lag at ${rate} revocations/s (${lag.revocations} revocations)`,
        p50Ms: round(lag.p50Ms, 3),
        p99Ms: round(lag.p99Ms, 3),
        note: `max ${round(lag.maxMs, 2)} ms; ${lag.beyondBound} verifies accepted beyond the bound; ${lag.neverRejected} never rejected within ${LAG_GIVE_UP_MS} ms`,
      });
      if (reader === 'replicated-blacklist' && rate === 1000)
        targets.push({
          id: 'replicated-lag-p99-1000',
          description: 'replicated-blacklist propagation lag p99 at 1,000 revocations/s (loopback)',
          measured: `${round(lag.p99Ms, 3)} ms`,
          threshold: '<= 2 ms',
          met: lag.p99Ms <= 2,
        });
      targets.push({
        id: `${reader}-beyond-bound-${rate}`,
        description: `${reader}: accepts of a revoked token beyond the strategy's bound, fault-free, ${rate} revocations/s`,
        measured: String(lag.beyondBound + lag.neverRejected),
        threshold: '0',
        met: lag.beyondBound + lag.neverRejected === 0,
      });
    }
  }
  const memory = await memoryPerEntry(ctx);
  rows.push({
    name: `replicated-blacklist: local state per revoked token (${MEMORY_ENTRIES.toLocaleString('en-US')} entries)`,
    note: `${round(memory.estimate, 0)} B estimated by the replica, ${round(memory.heap, 0)} B of heap measured (heapUsed before / after the load, each after a full GC; includes the replica's connections)`,
  });
  const failover = await afterFailover();
  rows.push({
    name: 'replicated-blacklist after kill -9 of the Sentinel primary',
    note: `not live for ${round(failover.notLiveMs, 0)} ms (detection + promotion + reconnect), last reload ${failover.reloadMs === null ? 'not recorded' : `${round(failover.reloadMs, 1)} ms`}; ${failover.enforced} of ${failover.revoked} revocations acknowledged before the fault enforced after it`,
  });
  targets.push(
    {
      id: 'replicated-reload-after-failover',
      description: "replicated-blacklist: the replica complete again within 1 s of the clients' reconnect (the reload itself)",
      measured: failover.reloadMs === null ? 'not recorded' : `${round(failover.reloadMs, 1)} ms`,
      threshold: '<= 1000 ms',
      met: failover.reloadMs === null ? null : failover.reloadMs <= 1000,
    },
    {
      id: 'replicated-enforced-after-failover',
      description: 'replicated-blacklist: revocations acknowledged before a Sentinel kill -9 enforced after it',
      measured: `${failover.enforced} of ${failover.revoked}`,
      threshold: 'all',
      met: failover.enforced === failover.revoked,
    },
  );
  return {
    title: 'Cached and replicated denylists',
    method: `In process, one strategy instance per scheme on one local Redis, verify throughput in ${ROUNDS} paired rounds of ${ROUND_TIME_MS} ms (the median of per-round ratios to pure, same engine and tokens; the cached tokens are all cache hits). Lag: one blacklist instance revokes at the given rate (open loop), another instance (the reader) verifies each revoked token, yielding between verifies, until it rejects it; from the writer's ack to that verify's completion (in one process, the invalidation can be read before the writer's own reply: across processes add the hand-off, see \`load.verifiers\` in runs). Memory: ${MEMORY_ENTRIES.toLocaleString('en-US')} revoked-token keys loaded by a new replica.`,
    rows,
    targets,
    notes,
  };
}
