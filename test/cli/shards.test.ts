import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../harness/history-file.ts';
import { outsideNoise } from '../../reports/compare.ts';
import { loadResult, type ResultFile, type StrategyRunResult } from '../../result/schema.ts';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology } from '../../topologies/types.ts';
import { type CliResult, tokenbench } from './helpers.ts';

/**
 * One run split across two generator processes at half the rate each, against one Redis this test
 * starts (the external backend, as a team's deployment would be), merged, and held against one
 * process at the whole rate: the counts must be exact, and (with a core for each process) the
 * merged p99 within compare's noise of one process's.
 */
const RATE = 400;
const LOAD = [
  '--strategy',
  'blacklist',
  '--engine',
  'fast-jwt',
  '--alg',
  'HS256',
  '--rate',
  String(RATE),
  '--duration',
  '4s',
  '--warmup',
  '500ms',
  '--users',
  '400',
];
// Limits a shard alone could not meet (it runs at half the rate): they hold only for the whole run.
const THRESHOLDS = ['--threshold', `throughput=${RATE * 0.95}`, '--threshold', 'verify.steady.p99=2s', '--threshold', 'violations=0'];
/** Two generators and Redis, each on a core of its own: see p99OutsideNoise. */
const CORES_FOR_LATENCY = 4;
if (availableParallelism() < CORES_FOR_LATENCY) {
  // Shards on one machine share its cores: on fewer than 4 they compete for CPU and their merged p99 is the machine's, not the split's.
  console.warn(
    `SKIPPED: the merged-p99-vs-one-process check of test/cli/shards.test.ts did not run: this machine has ${availableParallelism()} cores, it needs ${CORES_FOR_LATENCY} (counts, users and thresholds are still checked)`,
  );
}
/** Long enough for two node processes on 2 cores to connect and log their users in before it. */
const START_IN_MS = 6000;

const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-shards-test-'));
const at = (...parts: string[]) => join(scratch, ...parts);

function expectExit(r: CliResult, code: number): void {
  expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(code);
}

/** Measured-phase verifies and the users acting, counted from the history files themselves. */
async function fromHistory(run: StrategyRunResult): Promise<{ verifies: number; subjects: Set<string> }> {
  let verifies = 0;
  const subjects = new Set<string>();
  for (const file of run.historyFiles)
    for await (const op of readHistory(file)) {
      subjects.add(op.subject);
      if (op.f === 'verify' && op.phase !== 'warmup' && op.phase !== 'final' && !op.probe) verifies++;
    }
  return { verifies, subjects };
}

interface Attempt {
  one: ResultFile;
  shards: ResultFile[];
  merged: ResultFile;
  runs: CliResult[];
  merge: CliResult;
  startAt: string;
}

/** One process at the whole rate, then two at half each from one start time, then their merge. */
async function measure(redisFlag: string[], name: string): Promise<Attempt> {
  const dir = (...parts: string[]) => at(name, ...parts);
  expectExit(await tokenbench(['run', ...redisFlag, ...LOAD, ...THRESHOLDS, '--out', dir('one'), '--json']), 0);
  const startAt = new Date(Date.now() + START_IN_MS).toISOString();
  const runs = await Promise.all(
    [0, 1].map((index) =>
      tokenbench([
        'run',
        ...redisFlag,
        ...LOAD,
        ...THRESHOLDS,
        '--shard',
        `${index}/2`,
        '--start-at',
        startAt,
        '--out',
        dir(`shard-${index}`),
        '--ci-outputs',
        'hdr-log',
      ]),
    ),
  );
  for (const r of runs) expectExit(r, 0);
  const merge = await tokenbench(['merge', dir('shard-0', 'result.json'), dir('shard-1', 'result.json'), '--out', dir('merged.json')]);
  expectExit(merge, 0);
  return {
    one: loadResult(dir('one', 'result.json')),
    shards: [0, 1].map((index) => loadResult(dir(`shard-${index}`, 'result.json'))),
    merged: loadResult(dir('merged.json')),
    runs,
    merge,
    startAt,
  };
}

/**
 * Whether the merged verify p99 is outside what one process measured before and after the shards
 * ran, widened by compare's noise estimate (each run's own, from its timeline): what else runs on
 * the machine drifts between runs, which no estimate from within one run can see.
 *
 * Only with a core for each generator and one for Redis. Generators stand for machines of their
 * own; on 2 cores two generator processes and Redis share them, and the merged p99 is the machine's.
 * Measured here with the timer thread scheduler (5 tries at 400 ops/s, one process before and after
 * the shards): 2 shards' merged p99 was within this bound in 5 of 5 tries, 4 shards' in 3 of 5 (the
 * other two merged *below* both one-process runs, which had caught the machine's slip spikes: one
 * process alone ranged from 3.8 to 13.6 ms between tries); the total ops were 1,600 every time.
 * Under the spin scheduler the merged p99 was above both beyond the noise in most tries (5.8 ms
 * against 3.1 and 3.7). So no longer the generators' own doing, but a 2-core machine's p99 moves
 * more between runs than within one: not a check to gate CI on there. p50 stays out: a generator at
 * half the rate measures a higher p50 even alone (0.78 to 1.20 ms merged against 0.51 to 0.82 ms
 * here: its threads wake from colder idle), about 1% of it being compare's p50 noise.
 */
function p99OutsideNoise(ones: readonly ResultFile[], merged: ResultFile): string | null {
  return outsideNoise(
    ones.map((one) => one.runs[0]!),
    merged.runs[0]!,
    'p99',
  );
}

describe.sequential('a run split across two generators (run --shard, merge)', () => {
  let redis: StartedTopology;
  let redisFlag: string[];
  let first: Attempt;
  beforeAll(async () => {
    redis = await startTopology({ kind: 'single' });
    redisFlag = ['--redis', `127.0.0.1:${redis.nodes()[0]!.port}`];
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('every shard starts at the shared time, records its clock, exits 0 and checks no threshold of its own', async () => {
    first = await measure(redisFlag, 'first');
    expect(first.runs[1]!.stdout).toMatch(/^shard 1\/2: measured phase from .*; this clock against Redis TIME [+-]\d/m);
    for (const [index, shard] of first.shards.entries()) {
      const run = shard.runs[0]!;
      expect(run.shard).toMatchObject({ index, count: 2, startAt: first.startAt });
      expect(run.shard!.clockOffsetMs).not.toBeNull();
      expect(run.load.targetRate).toBe(RATE / 2);
      expect(run.thresholds).toEqual([]);
      // Its measured phase began at the shared time, by its own clock, within a timer's lateness.
      expect(Math.abs(run.shard!.startedAtWallMs - Date.parse(first.startAt))).toBeLessThan(50);
      expect(readFileSync(at('first', `shard-${index}`, 'hdr', '0-blacklist.hlog'), 'utf8')).toContain(
        `StartTime: ${(Date.parse(first.startAt) / 1000).toFixed(3)}`,
      );
    }
  });

  it('merge: the counts are exact, the shards owned disjoint slices of the users, and the thresholds hold on the merged run', async () => {
    const { shards, merged, merge } = first;
    expect(merge.stdout).toContain('merged 2 shards of one run (1 run)');
    expect(merge.stdout).toContain(`ok throughput (achieved operations per second) >= ${RATE * 0.95} ops/s`);
    const run = merged.runs[0]!;
    expect(merged.mergedFrom!.shards!.members.map((m) => m.index)).toEqual([0, 1]);
    expect(merged.mergedFrom!.shards!.clockOffsetSpreadMs).not.toBeNull();
    expect(run.thresholds.map((t) => [t.metric, t.ok])).toEqual([
      ['throughput', true],
      ['verify.steady.p99', true],
      ['violations', true],
    ]);
    const counted = await Promise.all(shards.map((s) => fromHistory(s.runs[0]!)));
    const shardVerifies = shards.map((s) => s.runs[0]!.latency.verify!.all.count);
    expect(shardVerifies).toEqual(counted.map((c) => c.verifies));
    expect(run.latency.verify!.all.count).toBe(shardVerifies[0]! + shardVerifies[1]!);
    expect(run.load.completedOps).toBe(shards[0]!.runs[0]!.load.completedOps + shards[1]!.runs[0]!.load.completedOps);
    expect((await fromHistory(run)).verifies).toBe(run.latency.verify!.all.count);
    expect(run.load.targetRate).toBe(RATE);
    // Shard 0 owns user-0 .. user-199, shard 1 user-200 .. user-399: one generator's 400 users, none in both.
    const owner = (subject: string) => (Number(subject.replace('user-', '')) < 200 ? 0 : 1);
    for (const [index, { subjects }] of counted.entries()) {
      expect(subjects.size).toBeGreaterThan(150);
      for (const subject of subjects) expect(subject).toMatch(/^user-\d+$/);
      expect([...subjects].every((s) => owner(s) === index)).toBe(true);
    }
    // The merged run is the one-generator run's scenario: compare takes them side by side.
    expectExit(
      await tokenbench(['compare', at('first', 'one', 'result.json'), at('first', 'merged.json'), '--max-regression', 'p99=1000%,p50=1000%,throughput=50%']),
      0,
    );
  });

  it.skipIf(availableParallelism() < CORES_FOR_LATENCY)(
    `with ${CORES_FOR_LATENCY}+ cores, the merged p99 is one process's within compare's noise estimate (measured again once if not)`,
    async () => {
      const one = async (name: string) => {
        expectExit(await tokenbench(['run', ...redisFlag, ...LOAD, ...THRESHOLDS, '--out', at(name), '--json']), 0);
        return loadResult(at(name, 'result.json'));
      };
      let outside = p99OutsideNoise([first.one, await one('one-after')], first.merged);
      if (outside !== null) {
        const again = await measure(redisFlag, 'again');
        outside = p99OutsideNoise([again.one, await one('again-after')], again.merged);
      }
      expect(outside).toBeNull();
    },
  );

  it('a broken threshold on the merged run exits 3; a repeated shard or a whole run among shards is one line, exit 2', async () => {
    for (const index of [0, 1]) {
      const shard = structuredClone(first.shards[index]!);
      shard.scenario.thresholds = { throughput: RATE * 10 };
      writeFileSync(at(`strict-${index}.json`), JSON.stringify(shard));
    }
    const strict = await tokenbench(['merge', at('strict-0.json'), at('strict-1.json'), '--out', at('strict.json')]);
    expectExit(strict, 3);
    expect(strict.stdout).toContain('BROKEN throughput');
    const shard0 = at('first', 'shard-0', 'result.json');
    const twice = await tokenbench(['merge', shard0, shard0]);
    expectExit(twice, 2);
    expect(twice.stderr.trim()).toMatch(/^tokenbench: merge: shard 0\/2 is in both .* each shard once$/);
    const mixed = await tokenbench(['merge', shard0, at('first', 'one', 'result.json')]);
    expectExit(mixed, 2);
    expect(mixed.stderr.trim().split('\n')).toHaveLength(1);
  });
});
