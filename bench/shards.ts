// Issue 21's scale-out target: one run split across 2 and 4 generator processes (`run --shard
// i/N --start-at`), merged (`merge`), against one process at the whole rate, through the CLI a
// team runs, on one Redis started here (the external backend, as a team's deployment would be).
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { readHistory } from '../harness/history-file.ts';
import { outsideNoise } from '../reports/compare.ts';
import { loadResult, type StrategyRunResult } from '../result/schema.ts';
import { startTopology } from '../topologies/topology.ts';
import type { SectionResult } from './types.ts';

const BIN = fileURLToPath(new URL('../bin/tokenbench.js', import.meta.url));
const RATE = 400;
const SHARD_COUNTS = [2, 4] as const;
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
  '5s',
  '--warmup',
  '1s',
  '--users',
  '400',
];
/** Long enough for four node processes on 2 cores to start, connect and log their users in. */
const START_IN_MS = 10_000;

async function tokenbench(args: string[]): Promise<void> {
  const r = await execa('node', [BIN, ...args], { reject: false, env: { TOKENBENCH_NO_INSTALL: '1' } });
  if (r.exitCode !== 0) throw new Error(`tokenbench ${args.join(' ')} exited ${r.exitCode}:\n${r.stderr}`);
}

/** Measured-phase verifies counted from the history files themselves, not from the result. */
async function verifiesInHistory(run: StrategyRunResult): Promise<number> {
  let verifies = 0;
  for (const file of run.historyFiles)
    for await (const op of readHistory(file)) if (op.f === 'verify' && op.phase !== 'warmup' && op.phase !== 'final' && !op.probe) verifies++;
  return verifies;
}

interface Split {
  shards: number;
  merged: StrategyRunResult;
  /** Each shard's verify count, in its result and in its history. */
  shardVerifies: number[];
  shardHistoryVerifies: number[];
  clockOffsetSpreadMs: number | null;
  startSpreadMs: number;
}

export async function benchShards(): Promise<SectionResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-bench-shards-'));
  const redis = await startTopology({ kind: 'single' });
  const redisFlag = ['--redis', `127.0.0.1:${redis.nodes()[0]!.port}`];
  try {
    const one = async (name: string) => {
      await tokenbench(['run', ...redisFlag, ...LOAD, '--out', join(scratch, name), '--json']);
      return loadResult(join(scratch, name, 'result.json')).runs[0]!;
    };
    const split = async (shards: number): Promise<Split> => {
      const startAt = new Date(Date.now() + START_IN_MS).toISOString();
      const dirs = Array.from({ length: shards }, (_, index) => join(scratch, `${shards}-shards`, `shard-${index}`));
      await Promise.all(
        dirs.map((dir, index) => tokenbench(['run', ...redisFlag, ...LOAD, '--shard', `${index}/${shards}`, '--start-at', startAt, '--out', dir])),
      );
      const mergedPath = join(scratch, `${shards}-shards`, 'merged.json');
      await tokenbench(['merge', ...dirs.map((dir) => join(dir, 'result.json')), '--out', mergedPath]);
      const merged = loadResult(mergedPath);
      const runs = dirs.map((dir) => loadResult(join(dir, 'result.json')).runs[0]!);
      return {
        shards,
        merged: merged.runs[0]!,
        shardVerifies: runs.map((run) => run.latency.verify?.all.count ?? 0),
        shardHistoryVerifies: await Promise.all(runs.map(verifiesInHistory)),
        clockOffsetSpreadMs: merged.mergedFrom?.shards?.clockOffsetSpreadMs ?? null,
        startSpreadMs: merged.mergedFrom?.shards?.startSpreadMs ?? Number.NaN,
      };
    };
    // One process before and after the splits: what else runs here drifts between runs.
    const before = await one('one-before');
    const splits: Split[] = [];
    for (const shards of SHARD_COUNTS) splits.push(await split(shards));
    const after = await one('one-after');
    return report([before, after], splits);
  } finally {
    await redis.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function report(ones: StrategyRunResult[], splits: Split[]): SectionResult {
  const verifies = (run: StrategyRunResult) => run.latency.verify?.all.count ?? 0;
  const ms = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(3));
  const rows: SectionResult['rows'] = [
    ...ones.map((run, i) => ({
      name: `one generator at ${RATE} ops/s (${i === 0 ? 'before' : 'after'} the splits)`,
      opsPerSec: Math.round(run.load.achievedRate),
      p50Ms: run.latency.verify?.all.p50,
      p99Ms: run.latency.verify?.all.p99,
      note: `${run.load.completedOps} ops, ${verifies(run)} verifies; generator slip p99 ${ms(run.slip?.p99)} ms`,
    })),
    ...splits.map((s) => ({
      name: `${s.shards} generators at ${RATE / s.shards} ops/s each, merged`,
      opsPerSec: Math.round(s.merged.load.achievedRate),
      p50Ms: s.merged.latency.verify?.all.p50,
      p99Ms: s.merged.latency.verify?.all.p99,
      note: `${s.merged.load.completedOps} ops, ${verifies(s.merged)} verifies (shards: ${s.shardVerifies.join(' + ')}), slip p99 ${ms(s.merged.slip?.p99)} ms; clock offsets against Redis TIME within ${ms(s.clockOffsetSpreadMs)} ms, measured phases began within ${ms(s.startSpreadMs)} ms`,
    })),
  ];
  const countProblems = splits.flatMap((s) => {
    const problems: string[] = [];
    if (s.merged.load.completedOps !== ones[0]!.load.completedOps)
      problems.push(`${s.shards} shards completed ${s.merged.load.completedOps} ops, one generator ${ones[0]!.load.completedOps}`);
    if (verifies(s.merged) !== s.shardVerifies.reduce((a, b) => a + b, 0)) problems.push(`${s.shards} shards: merged verifies are not the shards' sum`);
    if (s.shardVerifies.some((count, i) => count !== s.shardHistoryVerifies[i]))
      problems.push(`${s.shards} shards: results say ${s.shardVerifies.join(', ')} verifies, histories ${s.shardHistoryVerifies.join(', ')}`);
    return problems;
  });
  const cores = availableParallelism();
  const p99 = splits.map((s) => ({ s, outside: outsideNoise(ones, s.merged, 'p99'), enoughCores: cores >= s.shards + 2 }));
  const p99Met = p99.every((x) => x.outside === null) ? true : p99.some((x) => x.outside !== null && x.enoughCores) ? false : null;
  const notes: string[] = [];
  if (p99Met === null)
    notes.push(
      `The merged p99 is not judged here: ${p99
        .filter((x) => x.outside !== null)
        .map((x) => `${x.s.shards} generators and Redis need ${x.s.shards + 2} cores to stand for machines of their own, this one has ${cores}`)
        .join(
          '; ',
        )}, so their merged p99 is this machine's contention, not the split's (${p99.map((x) => `${x.s.shards} shards: ${x.outside ?? 'within the noise'}`).join('; ')}).`,
    );
  return {
    title: 'One run split across generators (run --shard, merge)',
    method: `The CLI as a team runs it, against one local redis-server: blacklist verifies (fast-jwt HS256) at ${RATE} ops/s for 5 s after 1 s of warm-up, 400 users; one process before and after, then ${SHARD_COUNTS.join(' and ')} processes at ${RATE}/N each from one --start-at time, merged with \`tokenbench merge\`. Verify counts are also counted from each shard's history file. The noise bound is compare's (per-bucket p99 over each run's steady timeline), around the range of the two one-process runs.`,
    rows,
    targets: [
      {
        id: 'shards-counts',
        description: `${SHARD_COUNTS.join(' and ')} shards merged vs one generator: total ops equal, merged verifies the shards' sum, each shard's count its history's`,
        measured: `${ones[0]!.load.completedOps} ops in one generator; ${splits.map((s) => `${s.merged.load.completedOps} in ${s.shards} shards`).join(', ')}${countProblems.length ? ` (${countProblems.join('; ')})` : ''}`,
        threshold: 'exactly equal',
        met: countProblems.length === 0,
      },
      {
        id: 'shards-p99',
        description: `${SHARD_COUNTS.join(' and ')} shards merged vs one generator: verify p99 within compare's noise estimate`,
        measured:
          p99.map((x) => `${x.s.shards} shards ${ms(x.s.merged.latency.verify?.all.p99)} ms${x.outside === null ? ' (within)' : ''}`).join(', ') +
          ` vs one ${ones.map((o) => ms(o.latency.verify?.all.p99)).join(' and ')} ms`,
        threshold: 'within the noise bound',
        met: p99Met,
        ...(p99Met === false && { why: p99.flatMap((x) => (x.outside !== null ? [`${x.s.shards} shards: ${x.outside}`] : [])).join('; ') }),
      },
    ],
    notes,
  };
}
