import { execa } from 'execa';
import { Redis } from 'ioredis';
import { newBench, rotate, round, statsOf, TASK_TIME_MS, toRow, WARMUP_TIME_MS } from './jwt-floor.ts';
import type { BenchRow, SectionResult } from './types.ts';

export interface RedisBenchContext {
  redis: Redis;
  redisPort: number;
}

const IN_FLIGHT = 64;
const KEY_COUNT = 100;
const KEY_PREFIX = 'tbbench:floor:';

/** Finds `redis-benchmark` on PATH, or undefined. */
async function findRedisBenchmark(): Promise<string | undefined> {
  try {
    const { stdout } = await execa('sh', ['-c', 'command -v redis-benchmark'], { reject: false });
    const path = stdout.trim();
    return path === '' ? undefined : path;
  } catch {
    return undefined;
  }
}

/** `GET: 123456.79 requests per second, p50=0.143 msec` (older versions: without p50). */
function parseRedisBenchmark(output: string): { rps: number; p50Ms?: number } | undefined {
  // -q redraws progress with \r; the final figure is on the last GET line.
  const lines = output.split(/[\r\n]+/).filter((line) => /^GET:.*requests per second/.test(line.trim()));
  const last = lines.at(-1);
  if (!last) return undefined;
  const rps = /([\d.]+)\s+requests per second/.exec(last);
  if (!rps?.[1]) return undefined;
  const p50 = /p50=([\d.]+)\s*msec/.exec(last);
  return { rps: Number(rps[1]), ...(p50?.[1] && { p50Ms: Number(p50[1]) }) };
}

/** Section 2: what one Redis round trip costs from this process, and what the server does alone. */
export async function benchRedisFloor(ctx: RedisBenchContext): Promise<SectionResult> {
  const keys = Array.from({ length: KEY_COUNT }, (_, i) => `${KEY_PREFIX}${i}`);
  // Half the keys exist, like a store where most lookups hit nothing.
  await ctx.redis.mset(...keys.slice(0, KEY_COUNT / 2).flatMap((key) => [key, '1']));
  const auto = new Redis({ port: ctx.redisPort, host: '127.0.0.1', enableAutoPipelining: true, lazyConnect: false });
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  try {
    await auto.ping();
    const bench = newBench();
    const next = rotate(keys);
    bench.add('EXISTS sequential', async () => {
      await ctx.redis.exists(next());
    });
    bench.add(`EXISTS ${IN_FLIGHT} in flight`, async () => {
      const batch: Promise<number>[] = [];
      for (let i = 0; i < IN_FLIGHT; i++) batch.push(ctx.redis.exists(next()));
      await Promise.all(batch);
    });
    bench.add(`EXISTS ${IN_FLIGHT} in flight, auto-pipelining`, async () => {
      const batch: Promise<number>[] = [];
      for (let i = 0; i < IN_FLIGHT; i++) batch.push(auto.exists(next()));
      await Promise.all(batch);
    });
    await bench.run();
    const [sequential, inFlight, pipelined] = bench.tasks;
    const seq = statsOf(sequential);
    rows.push(toRow('ioredis EXISTS sequential', seq, 'one command awaited at a time: the round-trip floor'));
    const batch = statsOf(inFlight, IN_FLIGHT);
    rows.push(toRow(`ioredis EXISTS ${IN_FLIGHT} in flight`, batch, `ops/s = ${IN_FLIGHT} / batch time; p50/p99 are per batch of ${IN_FLIGHT}`));
    const auto64 = statsOf(pipelined, IN_FLIGHT);
    rows.push(
      toRow(
        `ioredis EXISTS ${IN_FLIGHT} in flight, enableAutoPipelining`,
        auto64,
        `second client; ops/s = ${IN_FLIGHT} / batch time; p50/p99 are per batch of ${IN_FLIGHT}`,
      ),
    );
    notes.push(
      `Round trip: p50 ${round(seq.p50Ms * 1000, 1)} us sequential; ${IN_FLIGHT} in flight gives ${(batch.opsPerSec / seq.opsPerSec).toFixed(1)}x the sequential rate, auto-pipelining ${(auto64.opsPerSec / seq.opsPerSec).toFixed(1)}x.`,
    );
  } finally {
    auto.disconnect();
    await ctx.redis.del(...keys);
  }

  const binary = await findRedisBenchmark();
  if (!binary) {
    rows.push({ name: 'redis-benchmark GET', note: 'redis-benchmark is not installed (not on PATH): no server-side reference' });
  } else {
    const args = ['-h', '127.0.0.1', '-p', String(ctx.redisPort), '-t', 'get', '-n', '50000', '-q'];
    const result = await execa(binary, args, { reject: false, timeout: 60_000 });
    const parsed = parseRedisBenchmark(`${result.stdout}\n${result.stderr}`);
    if (!parsed) {
      rows.push({
        name: 'redis-benchmark GET',
        note: `could not parse the output of \`redis-benchmark ${args.join(' ')}\` (exit ${result.exitCode}): ${result.stdout.slice(-200)}`,
      });
    } else {
      rows.push({
        name: 'redis-benchmark GET (50 clients, C)',
        opsPerSec: Math.round(parsed.rps),
        ...(parsed.p50Ms !== undefined && { p50Ms: parsed.p50Ms }),
        note: `redis-benchmark -t get -n 50000 -q (its defaults: 50 parallel connections, no pipelining); p50 as reported by redis-benchmark`,
      });
    }
  }

  return {
    title: 'Redis floor (ioredis round trip vs redis-benchmark)',
    method: `tinybench, ${TASK_TIME_MS} ms per task after ${WARMUP_TIME_MS} ms warmup: ioredis EXISTS over ${KEY_COUNT} rotating keys against a single local redis-server, one at a time, in Promise.all batches of ${IN_FLIGHT}, and in batches of ${IN_FLIGHT} on a second client with enableAutoPipelining; redis-benchmark GET as the server-side reference.`,
    rows,
    targets: [],
    notes,
  };
}
