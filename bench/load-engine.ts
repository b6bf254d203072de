import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { LoadEngine } from '../harness/engine.ts';
import { normalizeScenario } from '../harness/scenario.ts';
import type { Strategy } from '../strategies/types.ts';
import type { SectionResult } from './types.ts';

/** Does nothing, at once: what is left is the load engine's own cost (scheduling, histograms, history). */
function noopStrategy(): Strategy {
  let n = 0;
  const issued = (subject: string) => ({ ok: true as const, accessToken: 'x.y.z', subject, jti: `j${n++}`, issuedAtMs: Date.now(), accessExpiresAtMs: Date.now() + 3_600_000, redisOps: 0 });
  return {
    name: 'pure',
    label: 'no-op',
    guarantee: 'none',
    engine: 'jose',
    issue: async (subject) => issued(subject),
    verify: async () => ({ ok: true, subject: 's', jti: 'j', redisOps: 0 }),
    revoke: async () => ({ ok: true, redisOps: 0, stored: false }),
    revokeAll: async () => ({ ok: true, redisOps: 0, stored: false }),
  };
}

async function drive(mode: 'open' | 'closed', rate: number, durationMs: number, sample?: (engine: LoadEngine) => void): Promise<{ engine: LoadEngine; elapsedMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenbench-bench-'));
  try {
    const scenario = normalizeScenario({ workload: { users: 1000 }, load: { mode, rate, concurrency: 64, warmup: 0, duration: durationMs } });
    const engine = new LoadEngine({ scenario, strategy: noopStrategy(), redis: { isCluster: false } as unknown as Redis, historyPath: join(dir, 'history.ndjson'), worker: 0, rate, concurrency: 64, userPrefix: 'u' });
    const signal = new AbortController().signal;
    await engine.login(signal);
    const origin = { absoluteMs: performance.timeOrigin + performance.now() + 200, wallMs: Date.now() + 200 };
    engine.setOrigin(origin);
    const timer = sample ? setInterval(() => sample(engine), 1000) : undefined;
    const started = performance.now();
    await engine.drive(-200, durationMs, signal);
    const elapsedMs = performance.now() - started - 200;
    if (timer) clearInterval(timer);
    await engine.finish();
    return { engine, elapsedMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The load engine driving a no-op: its ceiling, its timing accuracy, and its memory over a longer run. */
export async function benchLoadEngine(): Promise<SectionResult> {
  const rows: SectionResult['rows'] = [];
  const targets: SectionResult['targets'] = [];

  const open = await drive('open', 50_000, 5_000);
  const openRate = (open.engine.metrics.completed / 5_000) * 1000;
  const slipP99 = open.engine.metrics.slip.getValueAtPercentile(99) / 1000;
  rows.push({ name: 'open loop, no-op, target 50,000 ops/s', opsPerSec: Math.round(openRate), p99Ms: slipP99, note: 'p99 = schedule slip' });
  targets.push({ id: 'engine-open-50k', description: 'open loop holds 50,000 ops/s on a no-op', measured: `${Math.round(openRate)} ops/s`, threshold: '>= 50,000', met: openRate >= 49_500 });
  targets.push({ id: 'engine-slip', description: 'p99 schedule slip at 50,000 ops/s', measured: `${slipP99.toFixed(3)} ms`, threshold: '< 1 ms', met: slipP99 < 1 });

  const closed = await drive('closed', 1, 3_000);
  const closedRate = (closed.engine.metrics.completed / 3_000) * 1000;
  rows.push({ name: 'closed loop, no-op, 64 in flight (ceiling)', opsPerSec: Math.round(closedRate) });

  // Memory over a longer run: sampled each second; what matters is that it stops growing.
  const samples: number[] = [];
  await drive('open', 20_000, 20_000, () => {
    global.gc?.();
    samples.push(process.memoryUsage().heapUsed);
  });
  const mb = (b: number) => b / 1024 / 1024;
  const early = samples[4] ?? samples[0] ?? 0;
  const late = samples.at(-1) ?? 0;
  const perMinuteMb = ((late - early) / Math.max(1, samples.length - 5)) * 60;
  rows.push({ name: 'heap after 5 s / 20 s at 20,000 ops/s', note: `${mb(early).toFixed(1)} MB -> ${mb(late).toFixed(1)} MB (${mb(perMinuteMb).toFixed(1)} MB/min)` });
  targets.push({
    id: 'engine-memory',
    description: 'heap stays bounded in a long run (history streams to disk)',
    measured: `${mb(perMinuteMb).toFixed(1)} MB/min after the first 5 s`,
    threshold: '< 10 MB/min (a 10-min run at 20k/s stays under ~100 MB more)',
    met: mb(perMinuteMb) < 10,
  });
  return {
    title: "The load engine's own capacity",
    method: 'LoadEngine (scheduler, HdrHistograms, timeline, NDJSON history to disk) driving a strategy whose every call resolves at once; one thread.',
    rows,
    targets,
  };
}
