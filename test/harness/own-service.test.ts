import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../harness/run-scenario.ts';
import { loadScenarioFile } from '../../harness/scenario.ts';

const out = mkdtempSync(join(tmpdir(), 'tokenbench-own-service-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Every process whose environment carries this test process's owner tag: the services it started. */
function servicesOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`TOKENBENCH_OWNER_TAG=tokenbench-owner=${pid}`)) found.push(Number(entry));
    } catch {}
  }
  return found;
}

describe('the sample service, started by --exec on Sentinel, with the primary killed', () => {
  it('is measured like our own blacklist: fail-closed rejections in the outage, no violation without a lost write, nothing left running', async () => {
    const scenario = loadScenarioFile('examples/http-service/tokenbench.yaml');
    const result = await runScenario(
      {
        ...scenario,
        workload: { ...scenario.workload, users: 300 },
        load: { ...scenario.load, rate: 200, duration: 8000 },
        faults: [{ at: 2000, action: 'kill', target: 'primary' }],
      },
      { outDir: out },
    );
    const [run] = result.runs;
    expect(run).toMatchObject({ strategy: 'http', label: 'sample service', engine: 'service', topology: { kind: 'sentinel' } });
    expect(run!.faults[0]).toMatchObject({ action: 'kill', node: 'redis-0' });
    expect(run!.events.some((e) => e.type === '+switch-master')).toBe(true);
    const checks = run!.checks;
    // The service's own Redis is unreachable while Sentinel fails over: it answers 503, which is fail-closed.
    expect(checks['valid-rejected'].counts.storeUnavailable).toBeGreaterThan(0);
    expect(checks.unavailability.figures.longestWindowMs).toBeGreaterThan(500);
    expect(checks['revoked-accepted'].counts.rejected).toBeGreaterThan(0);
    const violations = checks['revoked-accepted'].counts.violations;
    expect(violations === 0 || (checks['lost-revocations'].lost?.total ?? 0) > 0).toBe(true);
    // What the checkers cannot see through HTTP: the service's Redis round trips.
    expect(run!.redis.roundTripsPerVerify).toBeNull();
    expect(readdirSync(out).some((f) => f.startsWith('service-') && f.endsWith('.log'))).toBe(true);
    expect(existsSync(join(out, 'result.json'))).toBe(true);
    expect(servicesOf(process.pid)).toEqual([]);
  });
});
