import type { Cluster, Redis } from 'ioredis';
import { InvalidOptionError, TokenbenchError } from '../core/errors.ts';
import type { StrategyRunResult } from '../result/schema.ts';
import type { Scenario, ScenarioPart } from './scenario.ts';
import type { WorkloadPart } from './workload.ts';

/**
 * One run split across several load generators (machines, pods), k6 execution-segment style:
 * generator `index` of `count` (`load.shard`) takes a contiguous slice of the users, 1/count of
 * the rate and of the closed-loop concurrency, and its own seeds; all of them start their measured
 * phase at the same wall-clock time (`load.startAt`) against one external deployment, and
 * `tokenbench merge` adds their results. The slices do not overlap and together are exactly what
 * one generator would run: the same users, the same total rate, and (open loop) the same arrival
 * times, each generator taking every count-th of them.
 */

/** Seeds of shard i are `seed + i * 64 + w` for its worker thread w: no two threads of any shard share one (load.workers is at most 64). */
const SEEDS_PER_SHARD = 64;

/** How much earlier than its first due operation a late-ready generator starts: what setting the origin on its threads may take. */
const START_MARGIN_MS = 20;

export type Shard = NonNullable<Scenario['load']['shard']>;

/** This shard's [first, first + count) of `total` users (or operations in flight): contiguous, in shard order, none in two shards, every one in a shard. */
export function shardRange(total: number, shard: Shard): { first: number; count: number } {
  const first = Math.floor((total * shard.index) / shard.count);
  return { first, count: Math.floor((total * (shard.index + 1)) / shard.count) - first };
}

/** The part of the scenario this generator runs: the whole scenario without `load.shard`. */
export function shardSlice(scenario: ScenarioPart): ScenarioPart {
  const shard = scenario.load.shard;
  if (!shard) return scenario;
  const users = shardRange(scenario.workload.users, shard);
  const concurrency = shardRange(scenario.load.concurrency, shard).count;
  const workload: WorkloadPart = {
    ...scenario.workload,
    users: users.count,
    firstUser: users.first,
    seed: scenario.workload.seed + shard.index * SEEDS_PER_SHARD,
  };
  return { ...scenario, workload, load: { ...scenario.load, rate: scenario.load.rate / shard.count, concurrency } };
}

/** Cross-checks of `load.shard` and `load.startAt`, when the scenario is read (the start time's distance from now is checked when the run starts). */
export function checkShard(scenario: Scenario, label: (path: readonly PropertyKey[]) => string): void {
  const { shard, startAt } = scenario.load;
  if (startAt !== undefined && !shard)
    throw new InvalidOptionError(label(['load', 'startAt']), 'a start time only with load.shard (--shard <index>/<count>)', startAt);
  if (!shard) return;
  if (shard.index >= shard.count) throw new InvalidOptionError(label(['load', 'shard', 'index']), `an index from 0 to ${shard.count - 1}`, shard.index);
  if (startAt === undefined)
    throw new InvalidOptionError(label(['load', 'startAt']), 'the shared start time of every generator with load.shard, e.g. 2026-12-01T10:00:00Z', undefined);
  const topologies = scenario.topologies?.map((t) => t.topology) ?? [scenario.topology];
  const own = topologies.find((t) => t.backend !== 'external');
  if (own)
    throw new InvalidOptionError(
      label(['load', 'shard']),
      'the external backend (--redis, --sentinels or --cluster): every generator loads the same deployment, where the process and container backends would start one each',
      `backend ${own.backend}`,
    );
  const runs = scenario.strategies.length * topologies.length;
  if (runs > 1)
    throw new InvalidOptionError(
      label(['load', 'shard']),
      'a scenario of one run (one strategy on one topology): generators start together at load.startAt only, a second run would start whenever each finished the first',
      `${runs} runs`,
    );
  const faults = [...scenario.faults, ...(scenario.topologies ?? []).flatMap((t) => t.faults ?? [])];
  if (faults.length > 0)
    throw new InvalidOptionError(
      label(['faults']),
      'no faults with load.shard (every generator would inject each one into the shared deployment)',
      `${faults.length} fault${faults.length === 1 ? '' : 's'}`,
    );
  if (scenario.workload.users < shard.count)
    throw new InvalidOptionError(label(['workload', 'users']), `at least one user per generator (${shard.count})`, scenario.workload.users);
  if (scenario.load.mode === 'closed' && scenario.load.concurrency < shard.count)
    throw new InvalidOptionError(label(['load', 'concurrency']), `at least one operation in flight per generator (${shard.count})`, scenario.load.concurrency);
}

/** Refused before anything starts: a start time that has passed can only be missed. */
export function refuseStartInPast(scenario: Scenario, field = 'load.startAt', nowMs = Date.now()): void {
  const startAt = scenario.load.startAt;
  if (startAt === undefined) return;
  const agoMs = nowMs - Date.parse(startAt);
  if (agoMs >= 0)
    throw new InvalidOptionError(
      field,
      `a time still ahead, when every generator starts its measured phase (e.g. $(date -u -d '+2 min' +%FT%TZ))`,
      `${startAt}, ${(agoMs / 1000).toFixed(1)} s ago`,
    );
}

/** A generator that was ready only after the shared start: the others' measured phase had begun without it. */
export class LateStartError extends TokenbenchError {
  constructor(shard: Shard, startAt: string, lateMs: number) {
    super(
      'ERR_LATE_START',
      `shard ${shard.index}/${shard.count} was ready ${(lateMs / 1000).toFixed(1)} s after --start-at ${startAt}: the other generators' measured phase had begun; give every generator a later --start-at (its topology and logins must be ready before it)`,
    );
  }
}

export interface PlannedStart {
  /** From now to run ms 0, the start of the measured phase. */
  inMs: number;
  /** Run ms the load starts at: -warmup, or for a generator ready late, what is left of the warm-up. */
  fromMs: number;
}

/**
 * When this generator's load starts. Alone: now, the measured phase a warm-up later. A shard: the
 * measured phase at `load.startAt` on this machine's clock; it warms up for what is left of the
 * warm-up by then, starting on the one-generator arrival schedule at its own turn (op `index`,
 * `index + count`, ...), so the generators' arrivals interleave instead of coming together.
 */
export function plannedStart(load: ScenarioPart['load'], nowMs = Date.now()): PlannedStart {
  if (!load.shard || load.startAt === undefined) return { inMs: load.warmup, fromMs: -load.warmup };
  const inMs = Date.parse(load.startAt) - nowMs;
  if (inMs <= START_MARGIN_MS) throw new LateStartError(load.shard, load.startAt, START_MARGIN_MS - inMs);
  const earliest = Math.max(-load.warmup, -inMs + START_MARGIN_MS);
  if (load.mode !== 'open') return { inMs, fromMs: earliest };
  // load.rate is this generator's part, 1 / count of the total.
  const interval = 1000 / load.rate;
  const first = -load.warmup + (load.shard.index * interval) / load.shard.count;
  const turns = Math.max(0, Math.ceil((earliest - first) / interval));
  return { inMs, fromMs: first + turns * interval };
}

export interface ClockOffset {
  /** This machine's Date.now() minus the Redis server's TIME, at the same instant. */
  offsetMs: number;
  /** Half the round trip of the sample it comes from, plus Date.now()'s own millisecond: the offset is within this of the truth. */
  uncertaintyMs: number;
}

const CLOCK_SAMPLES = 5;

/**
 * Every generator of a split run talks to the same Redis: its TIME is a clock they can all be held
 * against without NTP. The sample with the shortest round trip is the one with the least doubt about
 * when the server read its clock (NTP's rule). null when TIME is refused (an ACL) or fails.
 */
export async function measureClockOffset(redis: Redis | Cluster): Promise<ClockOffset | null> {
  let best: ClockOffset | null = null;
  try {
    for (let i = 0; i < CLOCK_SAMPLES; i++) {
      const sentMs = Date.now();
      const sent = performance.now();
      const [seconds, micros] = (await redis.call('TIME')) as [string, string];
      const roundTripMs = performance.now() - sent;
      const serverMs = Number(seconds) * 1000 + Number(micros) / 1000;
      const sample = { offsetMs: sentMs + roundTripMs / 2 - serverMs, uncertaintyMs: roundTripMs / 2 + 1 };
      if (!best || sample.uncertaintyMs < best.uncertaintyMs) best = sample;
    }
  } catch {
    return null;
  }
  return best && { offsetMs: Math.round(best.offsetMs * 1000) / 1000, uncertaintyMs: Math.round(best.uncertaintyMs * 1000) / 1000 };
}

/**
 * This machine's wall clock when run ms 0 comes, read by a timer: how late the generator's own
 * event loop got there is in it (startedAtWallMs - startAt), which the plan alone would not show.
 */
export function readWallClockIn(ms: number): Promise<number> {
  return new Promise((resolve) => setTimeout(() => resolve(Date.now()), Math.max(0, ms)));
}

/** What a shard's run records about its place in the split and its clock (result/schema.ts `runs[].shard`). */
export function shardRecord(load: ScenarioPart['load'], startedAtWallMs: number, clock: ClockOffset | null): NonNullable<StrategyRunResult['shard']> {
  return {
    index: load.shard!.index,
    count: load.shard!.count,
    startAt: load.startAt!,
    startedAtWallMs,
    clockOffsetMs: clock?.offsetMs ?? null,
    clockOffsetUncertaintyMs: clock?.uncertaintyMs ?? null,
  };
}
