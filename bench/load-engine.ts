import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { LoadEngine } from '../harness/engine.ts';
import { normalizeScenario } from '../harness/scenario.ts';
import type { Strategy } from '../strategies/types.ts';
import type { SectionResult } from './types.ts';

/** Does nothing, at once: what is left is the load engine's own cost (scheduling, histograms, history). */
function noopStrategy(): Strategy {
  let n = 0;
  const issued = (subject: string) => ({
    ok: true as const,
    accessToken: 'x.y.z',
    subject,
    jti: `j${n++}`,
    issuedAtMs: Date.now(),
    accessExpiresAtMs: Date.now() + 3_600_000,
    redisOps: 0,
  });
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

const VERIFY_ONLY = { revokedVerifyShare: 0, mix: { verify: 1, issue: 0, revoke: 0, revokeAll: 0, refresh: 0 } };

interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
}

interface DriveOptions {
  /** Called every second during the run. */
  sample?: (engine: LoadEngine) => void;
  concurrency?: number;
  /** Workload fields over the default mix. */
  workload?: object;
}

async function drive(
  mode: 'open' | 'closed',
  rate: number,
  durationMs: number,
  { sample, concurrency = 64, workload = {} }: DriveOptions = {},
): Promise<{ engine: LoadEngine; gc: GcPauses }> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenbench-bench-'));
  try {
    const scenario = normalizeScenario({ workload: { users: 1000, ...workload }, load: { mode, rate, concurrency, warmup: 0, duration: durationMs } });
    const signal = new AbortController().signal;
    const engine = new LoadEngine({
      scenario,
      strategy: noopStrategy(),
      redis: { isCluster: false } as unknown as Redis,
      historyPath: join(dir, 'history.ndjson'),
      worker: 0,
      rate,
      concurrency,
      userPrefix: 'u',
      signal,
    });
    await engine.login();
    const origin = { absoluteMs: performance.timeOrigin + performance.now() + 200, wallMs: Date.now() + 200 };
    engine.setOrigin(origin);
    const timer = sample ? setInterval(() => sample(engine), 1000) : undefined;
    // GC pauses are what the schedule slip is made of: count them beside it.
    const gc: GcPauses = { count: 0, totalMs: 0, maxMs: 0 };
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        gc.count++;
        gc.totalMs += entry.duration;
        gc.maxMs = Math.max(gc.maxMs, entry.duration);
      }
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    await engine.drive(-200, durationMs);
    // Entries are delivered asynchronously: let the last ones in before counting.
    await new Promise((resolve) => setTimeout(resolve, 20));
    gcObserver.disconnect();
    if (timer) clearInterval(timer);
    await engine.finish();
    return { engine, gc };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The load engine's own cost per verify: a closed loop of no-op verifies at `concurrency` in flight, in ops/s. */
export async function noopCeiling(concurrency: number, durationMs: number): Promise<number> {
  const { engine } = await drive('closed', 1, durationMs, { concurrency, workload: VERIFY_ONLY });
  return (engine.metrics.completed / durationMs) * 1000;
}

/** The load engine driving a no-op: its ceiling, its timing accuracy, and its memory over a longer run. */
export async function benchLoadEngine(): Promise<SectionResult> {
  const rows: SectionResult['rows'] = [];
  const targets: SectionResult['targets'] = [];

  const open = await drive('open', 50_000, 5_000);
  const openRate = (open.engine.metrics.completed / 5_000) * 1000;
  const slipP99 = open.engine.metrics.slip.getValueAtPercentile(99) / 1000;
  rows.push({
    name: 'open loop, no-op, target 50,000 ops/s',
    opsPerSec: Math.round(openRate),
    p99Ms: slipP99,
    note: `p99 = schedule slip; ${open.gc.count} GC pauses in the run, ${open.gc.totalMs.toFixed(0)} ms in all, longest ${open.gc.maxMs.toFixed(1)} ms`,
  });
  targets.push({
    id: 'engine-open-50k',
    description: 'open loop holds 50,000 ops/s on a no-op',
    measured: `${Math.round(openRate)} ops/s`,
    threshold: '>= 50,000',
    met: openRate >= 49_500,
  });
  targets.push({
    id: 'engine-slip',
    description: 'p99 schedule slip at 50,000 ops/s',
    measured: `${slipP99.toFixed(3)} ms`,
    threshold: '< 1 ms',
    met: slipP99 < 1,
    ...(slipP99 >= 1 && {
      why: `ops due during a GC pause leave late, as one burst (${open.gc.count} pauses, longest ${open.gc.maxMs.toFixed(1)} ms). Pauses grow with what survives a young-generation GC; the engine keeps per-op garbage short-lived (no object spreads, history lines encoded straight into a buffer, no promise per loop turn).`,
    }),
  });

  const closed = await drive('closed', 1, 3_000);
  const closedRate = (closed.engine.metrics.completed / 3_000) * 1000;
  rows.push({ name: 'closed loop, no-op, 64 in flight (ceiling)', opsPerSec: Math.round(closedRate) });

  // Memory over a longer run: sampled each second; what matters is that it stops growing.
  const samples: number[] = [];
  await drive('open', 20_000, 20_000, {
    sample: () => {
      global.gc?.();
      samples.push(process.memoryUsage().heapUsed);
    },
  });
  const mb = (b: number) => b / 1024 / 1024;
  const early = samples[4] ?? samples[0] ?? 0;
  const late = samples.at(-1) ?? 0;
  const perMinuteMb = ((late - early) / Math.max(1, samples.length - 5)) * 60;
  rows.push({
    name: 'heap after 5 s / 20 s at 20,000 ops/s',
    note: `${mb(early).toFixed(1)} MB -> ${mb(late).toFixed(1)} MB (${mb(perMinuteMb).toFixed(1)} MB/min)`,
  });
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
