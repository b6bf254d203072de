import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { FootprintSampler } from '../../harness/footprint.ts';
import { runScenario } from '../../harness/run-scenario.ts';
import { renderHtml } from '../../reports/html.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import { loadResult } from '../../result/schema.ts';
import { startTopology } from '../../topologies/topology.ts';

const out = mkdtempSync(join(tmpdir(), 'tokenbench-footprint-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Redis's own account of its CPU (getrusage, microseconds): a count independent of /proc/<pid>/stat. */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)![1]);
  return field('used_cpu_user') + field('used_cpu_sys');
}

describe('the measurement footprint of a real run', () => {
  it('is in result.json, plausible, and shown by both reports', async () => {
    const dir = join(out, 'single');
    const written = await runScenario(
      {
        name: 'footprint',
        topology: { kind: 'single' },
        strategies: ['blacklist'],
        workload: { users: 500 },
        load: { rate: 500, warmup: '300ms', duration: '2s' },
      },
      { outDir: dir },
    );
    // Through the schema, as every reader sees it.
    const result = loadResult(join(dir, 'result.json'));
    expect(result.runs[0]!.footprint).toEqual(written.runs[0]!.footprint);
    const footprint = result.runs[0]!.footprint!;
    expect(footprint.procUnavailable).toBeNull();
    // The measured phase and the wait for what was in flight at its end.
    expect(footprint.wallMs).toBeGreaterThanOrEqual(1950);
    expect(footprint.wallMs).toBeLessThan(3500);
    const cpus = footprint.machine!.cpus;
    const wallSeconds = footprint.wallMs / 1000;
    expect(footprint.tokenbench.cpuSeconds).toBeGreaterThan(0);
    expect(footprint.tokenbench.cpuSeconds).toBeLessThan(wallSeconds * cpus);
    const [main] = footprint.tokenbench.generatorThreads!;
    expect(main!.thread).toBe('main');
    expect(main!.cpuSeconds).toBeGreaterThan(0);
    // One thread of the process: never more than the whole (two ticks of rounding).
    expect(main!.cpuSeconds).toBeLessThanOrEqual(footprint.tokenbench.cpuSeconds + 0.02);
    // The open loop's timer thread (the default thread scheduler at 500 ops/s) and the history
    // writer, each listed only when found by the OS id it published.
    const helpers = footprint.tokenbench.helperThreads!;
    expect(helpers.map((h) => h.thread).sort()).toEqual(['history writer (main)', 'timer thread (main)']);
    for (const helper of helpers) {
      expect(helper.cpuSeconds).toBeGreaterThanOrEqual(0);
      expect(helper.cpuSeconds).toBeLessThanOrEqual(footprint.tokenbench.cpuSeconds);
    }
    // Up since the warm-up, closed with the load loop after leaving its CPU as it stopped: exact.
    expect(helpers.find((h) => h.thread === 'timer thread (main)')).not.toHaveProperty('lowerBound');
    expect(footprint.redis.unmeasured).toBeNull();
    expect(footprint.redis.servers.map((s) => s.id)).toEqual(result.runs[0]!.topology.nodes.map((n) => n.id));
    for (const server of footprint.redis.servers) {
      expect(server.cpuSeconds).toBeGreaterThanOrEqual(0);
      expect(server.cpuSeconds!).toBeLessThan(wallSeconds);
      expect(server.lowerBound).toBe(false);
    }
    const machine = footprint.machine!;
    expect(machine.busyShare + machine.stealShare + machine.idleShare).toBeCloseTo(1, 2);
    expect(machine.peakNotIdleShare).toBeGreaterThanOrEqual(0);
    expect(machine.peakNotIdleShare).toBeLessThanOrEqual(1);

    const md = renderMarkdown(result);
    expect(md).toContain('**Measurement footprint.**');
    expect(md).toMatch(
      /\| blacklist on single \| \d+% of a core \| \d+% of a core, \d+% of \d+ CPUs \(peak \d+%; timer thread ≥?\d+%, history writer ≥?\d+%\) \| \d+% of a core, 1 server \|/,
    );
    expect(renderHtml(result)).toContain('<summary>Measurement footprint: load generator');
  });

  it('counts each load-generator worker thread on its own', async () => {
    const dir = join(out, 'workers');
    const result = await runScenario(
      {
        topology: { kind: 'single' },
        strategies: ['pure'],
        workload: { users: 400 },
        load: { rate: 600, warmup: '300ms', duration: '2s', workers: 2 },
      },
      { outDir: dir },
    );
    const footprint = result.runs[0]!.footprint!;
    const threads = footprint.tokenbench.generatorThreads!;
    expect(threads.map((t) => t.thread)).toEqual(['worker 0', 'worker 1']);
    for (const t of threads) expect(t.cpuSeconds).toBeGreaterThan(0);
    // The helpers of engines in worker threads, found through their handles.
    const helpers = footprint.tokenbench.helperThreads!.map((h) => h.thread).sort();
    expect(helpers).toEqual(['history writer (worker 0)', 'history writer (worker 1)', 'timer thread (worker 0)', 'timer thread (worker 1)']);
    // Two threads of the one process.
    expect(threads[0]!.cpuSeconds + threads[1]!.cpuSeconds).toBeLessThanOrEqual(footprint.tokenbench.cpuSeconds + 0.04);
  });

  it("agrees with Redis's own count of its CPU", async () => {
    const topology = await startTopology({ kind: 'single' });
    const redis = topology.client() as Redis;
    try {
      const sampler = new FootprintSampler({ backend: topology.backend, nodes: () => topology.nodes(), generatorThreads: [] });
      const before = await redisCpuSeconds(redis);
      sampler.start();
      // A script that keeps Redis itself busy (tens of ms per call; plain commands cost the client
      // more than the server), until Redis has used half a second: on a shared machine that takes
      // longer, never less CPU.
      const deadline = performance.now() + 60_000;
      while ((await redisCpuSeconds(redis)) - before < 0.5 && performance.now() < deadline) {
        for (let i = 0; i < 5; i++) await redis.eval('local x = 0 for i = 1, 300000 do x = x + i end return x', 0);
      }
      sampler.stop();
      const after = await redisCpuSeconds(redis);
      const [server] = sampler.result()!.redis.servers;
      // Enough CPU for the comparison to mean something, then equal to within tick rounding.
      expect(after - before).toBeGreaterThan(0.5);
      expect(server!.cpuSeconds!).toBeGreaterThan(after - before - 0.05);
      expect(server!.cpuSeconds!).toBeLessThan(after - before + 0.05);
    } finally {
      redis.disconnect();
      await topology.stop();
    }
  });
});
