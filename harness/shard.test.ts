import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../core/errors.ts';
import { normalizeScenario, type ScenarioInput } from './scenario.ts';
import { LateStartError, plannedStart, refuseStartInPast, shardRange, shardSlice } from './shard.ts';
import { Workload, type WorkloadPart } from './workload.ts';

const EXTERNAL = { kind: 'single' as const, backend: 'external' as const, endpoints: ['127.0.0.1:6379'] };
const inAMinute = () => new Date(Date.now() + 60_000).toISOString();

function sharded(index: number, count: number, extra: ScenarioInput = {}) {
  return normalizeScenario({
    topology: EXTERNAL,
    ...extra,
    load: { rate: 1000, warmup: 2000, ...extra.load, shard: { index, count }, startAt: extra.load?.startAt ?? inAMinute() },
    workload: { users: 1001, ...extra.workload },
  });
}

describe('shardRange: slices of users or operations in flight', () => {
  it('are contiguous, in order, never overlap and cover the total exactly', () => {
    for (const total of [1, 2, 7, 100, 1001, 10_000])
      for (const count of [2, 3, 4, 7]) {
        if (total < count) continue;
        const ranges = Array.from({ length: count }, (_, index) => shardRange(total, { index, count }));
        let next = 0;
        for (const range of ranges) {
          expect(range.first).toBe(next);
          expect(range.count).toBeGreaterThanOrEqual(Math.floor(total / count));
          expect(range.count).toBeLessThanOrEqual(Math.ceil(total / count));
          next += range.count;
        }
        expect(next).toBe(total);
      }
  });
});

describe('shardSlice: what one generator of a split run runs', () => {
  it("the shards' users are exactly one generator's users, their rates add up to the total, and no two share a seed", () => {
    const whole = normalizeScenario({ workload: { users: 1001 } });
    const alone = new Workload(whole.workload, { hasRefresh: false }).users;
    for (const count of [2, 3, 4]) {
      const slices = Array.from({ length: count }, (_, index) => shardSlice(sharded(index, count)));
      const users = slices.flatMap((slice) => new Workload(slice.workload, { hasRefresh: false }).users);
      expect(users).toEqual(alone);
      expect(new Set(users).size).toBe(users.length);
      expect(slices.reduce((sum, slice) => sum + slice.load.rate, 0)).toBeCloseTo(1000, 9);
      expect(new Set(slices.map((slice) => slice.workload.seed)).size).toBe(count);
      // What the run writes as its scenario keeps the whole run's figures: only the generator's own part changes.
      for (const slice of slices) expect(slice.load.shard!.count).toBe(count);
    }
  });

  it('splits closed-loop concurrency the same way; a scenario without a shard is left as it is', () => {
    const parts = Array.from({ length: 3 }, (_, index) => shardSlice(sharded(index, 3, { load: { mode: 'closed', concurrency: 32 } })).load.concurrency);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(32);
    const whole = normalizeScenario({});
    expect(shardSlice(whole)).toBe(whole);
    expect((shardSlice(whole).workload as WorkloadPart).firstUser).toBeUndefined();
  });
});

describe('plannedStart', () => {
  it('alone: the warm-up now, the measured phase a warm-up later', () => {
    const load = normalizeScenario({ load: { warmup: 1500 } }).load;
    expect(plannedStart(load)).toEqual({ inMs: 1500, fromMs: -1500 });
  });

  it("a shard's measured phase starts at load.startAt, its arrivals interleaved with the others' into one generator's schedule", () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    const startAt = new Date(now + 10_000).toISOString();
    const count = 4;
    const whole = 1000;
    const due: number[] = [];
    for (let index = 0; index < count; index++) {
      const load = shardSlice(sharded(index, count, { load: { startAt, rate: whole } })).load;
      const start = plannedStart(load, now);
      expect(start.inMs).toBe(10_000);
      for (let t = start.fromMs; t < 200; t += 1000 / load.rate) due.push(t);
    }
    due.sort((a, b) => a - b);
    // One generator at the whole rate: op g due at -warmup + g / rate.
    const alone = Array.from({ length: due.length }, (_, g) => -2000 + (g * 1000) / whole);
    expect(due.length).toBe(2200);
    for (let g = 0; g < due.length; g++) expect(due[g]).toBeCloseTo(alone[g]!, 6);
  });

  it('ready late, a shard warms up for what is left, on its own turns of the schedule; after the start it refuses', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    const load = shardSlice(sharded(1, 2, { load: { startAt: new Date(now + 500).toISOString(), rate: 100 } })).load;
    const start = plannedStart(load, now);
    expect(start.fromMs).toBeGreaterThanOrEqual(-500);
    expect(start.fromMs).toBeLessThan(-500 + 20 + 20);
    // Shard 1 of 2 at 100 ops/s in all: its turns are 10 ms after the first shard's, every 20 ms.
    expect((((start.fromMs + 2000 - 10) % 20) + 20) % 20).toBeCloseTo(0, 6);
    expect(() => plannedStart(load, now + 600)).toThrow(LateStartError);
    expect(() => plannedStart(load, now + 600)).toThrow(/^shard 1\/2 was ready 0\.1 s after --start-at .*: the other generators' measured phase had begun/);
  });
});

describe('scenario checks of a split run', () => {
  const refused = (input: ScenarioInput) => {
    try {
      normalizeScenario(input);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };
  const startAt = inAMinute();

  it('one clear line for each thing a split run cannot do', () => {
    expect(refused({ topology: EXTERNAL, load: { shard: { index: 2, count: 2 }, startAt } })).toBe('load.shard.index: expected an index from 0 to 1, got 2');
    expect(refused({ topology: EXTERNAL, load: { shard: { index: 0, count: 1 }, startAt } })).toMatch(/^load\.shard\.count: /);
    expect(refused({ topology: EXTERNAL, load: { shard: { index: 0, count: 2 } } })).toMatch(
      /^load\.startAt: expected the shared start time of every generator/,
    );
    expect(refused({ topology: EXTERNAL, load: { startAt } })).toMatch(/^load\.startAt: expected a start time only with load\.shard/);
    expect(refused({ load: { shard: { index: 0, count: 2 }, startAt } })).toMatch(/^load\.shard: expected the external backend .*, got 'backend process'$/);
    expect(refused({ topology: EXTERNAL, strategies: ['blacklist', 'whitelist'], load: { shard: { index: 0, count: 2 }, startAt } })).toMatch(
      /^load\.shard: expected a scenario of one run .*, got '2 runs'$/,
    );
    expect(
      refused({ topology: EXTERNAL, faults: [{ at: 1000, action: 'pause', for: 1000 }], load: { shard: { index: 0, count: 2 }, startAt, duration: 5000 } }),
    ).toMatch(/^faults: expected no faults with load\.shard/);
    expect(refused({ topology: EXTERNAL, workload: { users: 1 }, load: { shard: { index: 0, count: 2 }, startAt } })).toMatch(
      /^workload\.users: expected at least one user per generator \(2\)/,
    );
    expect(refused({ topology: EXTERNAL, load: { shard: { index: 0, count: 2 }, startAt: '10:00' } })).toMatch(/^load\.startAt: expected an ISO 8601 time/);
  });

  it('a start time that has passed is refused before anything starts, naming how long ago', () => {
    const scenario = sharded(0, 2);
    expect(() => refuseStartInPast(scenario)).not.toThrow();
    expect(() => refuseStartInPast(scenario, '--start-at (load.startAt)', Date.parse(scenario.load.startAt!) + 12_300)).toThrow(
      /^--start-at \(load\.startAt\): expected a time still ahead, when every generator starts its measured phase .*, got '.*, 12\.3 s ago'$/,
    );
  });
});
