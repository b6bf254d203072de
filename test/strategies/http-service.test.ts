import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStrategy } from '../../harness/runner.ts';
import { loadScenarioFile, normalizeScenario } from '../../harness/scenario.ts';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology } from '../../topologies/types.ts';

const out = mkdtempSync(join(tmpdir(), 'tokenbench-http-test-'));
let redis: StartedTopology;
let service: ChildProcess;
let baseUrl: string;

/** The sample service on its own Redis, on a port it picks and announces as its first line. */
beforeAll(async () => {
  redis = await startTopology({ kind: 'single' });
  const target = redis.endpoints();
  if (target.kind !== 'single') throw new Error('a single node');
  service = spawn(process.execPath, ['examples/http-service/server.mjs'], {
    env: { ...process.env, REDIS_URL: `redis://${target.endpoint.host}:${target.endpoint.port}`, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: service.stdout! }).once('line', resolve);
    service.once('exit', (code) => reject(new Error(`the service exited (${code}) before listening`)));
  });
  const port = /^listening on (\d+)$/.exec(first)?.[1];
  if (!port) throw new Error(`expected "listening on <port>", got ${first}`);
  baseUrl = `http://127.0.0.1:${port}`;
}, 30_000);

afterAll(async () => {
  service?.kill('SIGTERM');
  await redis?.stop();
  rmSync(out, { recursive: true, force: true });
});

describe('the sample HTTP service as a strategy', () => {
  it('runs open-loop without a violation: verifies accepted, revoked tokens rejected as revoked', async () => {
    // The shipped entry, pointed at this service's port.
    const shipped = loadScenarioFile('examples/http-service/tokenbench.yaml');
    const entry = shipped.strategies[0] as { http: { baseUrl: string }; label: string };
    const scenario = normalizeScenario({
      strategies: [{ ...entry, http: { ...entry.http, baseUrl } }],
      workload: { users: 200 },
      load: { rate: 200, warmup: '500ms', duration: '3s' },
    });
    const run = await runStrategy(scenario, 0, { outDir: out, index: 0, signal: new AbortController().signal });
    expect(run.strategy).toBe('http');
    expect(run.label).toBe('sample service');
    expect(run.engine).toBe('service');
    expect(run.guarantee).toBe('immediate');
    expect(run.checks['revoked-accepted']!.counts.violations).toBe(0);
    expect(run.checks['valid-rejected']!.counts.entryLost).toBe(0);
    expect(run.checks['lost-revocations']!.valid).toBe(true);
    expect(run.verdict.valid).toBe(true);
    const verifies = run.latency.verify!.all.count;
    expect(verifies).toBeGreaterThan(300);
    // Replays of revoked tokens were made and rejected as revoked; the rest were accepted.
    const revoked = run.checks['revoked-accepted']!.counts;
    expect(revoked.replays).toBeGreaterThan(0);
    expect(revoked.rejected).toBeGreaterThan(0);
    expect(revoked.accepted).toBe(0);
    // Rejections of never-revoked tokens: none for any reason (those a revokeAll touched are not among them).
    expect(run.checks['valid-rejected']!.counts).toMatchObject({ entryLost: 0, jwtOrClock: 0, storeUnavailable: 0, other: 0 });
    expect(run.timeline.reduce((n, b) => n + b.errors, 0)).toBe(0);
    // The service's Redis traffic is its own: not measured, not zero.
    expect(run.redis.roundTripsPerVerify).toBeNull();
    expect(run.timeline.every((b) => b.verifyRedisOps === undefined)).toBe(true);
  }, 60_000);
});
