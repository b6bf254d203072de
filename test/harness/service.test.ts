import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { ServiceError } from '../../core/errors.ts';
import { runStrategy } from '../../harness/runner.ts';
import { normalizeScenario, type ServiceOptions } from '../../harness/scenario.ts';
import { type RunningService, SERVICE_OWNER_ENV, startService } from '../../harness/service.ts';
import { DATA_DIR_PREFIX } from '../../topologies/owned/base.ts';
import { startTopology } from '../../topologies/topology.ts';
import { BIN } from '../cli/helpers.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/tiny-service.mjs', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'tokenbench-service-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const READY_URL = 'http://127.0.0.1:{{port}}/healthz';
const serviceOptions = (service: Record<string, unknown> = {}): ServiceOptions =>
  normalizeScenario({ service: { command: `node ${FIXTURE}`, ready: { url: READY_URL }, ...service } }).service!;

async function get(service: RunningService, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${service.port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** Processes carrying a given owner's tag in their environment: what `tokenbench doctor` would find once the owner is gone. */
function servicesOwnedBy(ownerPid: number): number[] {
  const tag = `${SERVICE_OWNER_ENV}=tokenbench-owner=${ownerPid}\0`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/environ`, 'utf8').includes(tag);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Running, not a zombie: a shell's child is reparented to init when the shell dies, which may reap it late. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!);
  } catch {
    return false;
  }
}

async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not seen after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a service on a single node', () => {
  it('gets REDIS_URL, PORT=0 and its run label, is ready only after its PING, and is gone after stop', async () => {
    const topology = await startTopology({ kind: 'single' });
    try {
      const logPath = join(out, 'single.log');
      const service = await startService(serviceOptions({ env: { EXTRA: 'given' } }), { target: topology.endpoints(), logPath, runLabel: 'blacklist' });
      const { pid, env } = JSON.parse((await get(service, '/env')).body) as { pid: number; env: Record<string, string> };
      const { port } = topology.nodes()[0]!;
      expect(env).toMatchObject({ REDIS_URL: `redis://127.0.0.1:${port}`, PORT: '0', TOKENBENCH_RUN: 'blacklist', EXTRA: 'given' });
      expect(env[SERVICE_OWNER_ENV]).toBe(`tokenbench-owner=${process.pid}`);
      // /healthz answers 200 only after the PING: startService returning means it waited for it.
      expect((await get(service, '/healthz')).status).toBe(200);
      expect(servicesOwnedBy(process.pid)).toContain(pid);
      await service.stop();
      expect(running(pid)).toBe(false);
      expect(servicesOwnedBy(process.pid)).toEqual([]);
      expect(readFileSync(logPath, 'utf8')).toMatch(/^listening on \d+$/m);
    } finally {
      await topology.stop();
    }
  });
});

describe('a service on Sentinel', () => {
  it('gets REDIS_SENTINELS and REDIS_MASTER_NAME and reaches the primary through them', async () => {
    const topology = await startTopology({ kind: 'sentinel' });
    try {
      const service = await startService(serviceOptions(), { target: topology.endpoints(), logPath: join(out, 'sentinel.log'), runLabel: 'whitelist' });
      const { pid, env } = JSON.parse((await get(service, '/env')).body) as { pid: number; env: Record<string, string> };
      const sentinels = topology
        .nodes()
        .filter((n) => n.role === 'sentinel')
        .map((n) => `${n.host}:${n.port}`);
      expect(env.REDIS_SENTINELS!.split(',').sort()).toEqual(sentinels.sort());
      expect(env.REDIS_MASTER_NAME).toBe(topology.masterName);
      expect(env.REDIS_URL).toBeUndefined();
      await service.stop();
      expect(running(pid)).toBe(false);
    } finally {
      await topology.stop();
    }
  });
});

describe('a service that fails', () => {
  const target = { kind: 'single' as const, endpoint: { host: '127.0.0.1', port: 1 } };

  it('exiting early: one error with the command, the exit code and the log tail', async () => {
    const error = await startService(serviceOptions({ env: { TINY_SERVICE_MODE: 'exit' } }), { target, logPath: join(out, 'exit.log'), runLabel: 'x' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServiceError);
    const [first, ...rest] = (error as Error).message.split('\n');
    expect(first).toBe(
      `service 'node ${FIXTURE}' exited with code 3 before it was ready; the readiness probe last saw: no line matching /listening on (\\d+)/ in its output yet (log: ${join(out, 'exit.log')})`,
    );
    expect(rest).toEqual(['--- last log lines ---', 'tiny-service: cannot read config.yaml']);
  });

  it('never ready: one error with what the probe last saw and the log tail, and nothing left running', async () => {
    const started = Date.now();
    const error = await startService(serviceOptions({ env: { TINY_SERVICE_MODE: 'never-ready' }, ready: { url: READY_URL, timeout: '1500ms' } }), {
      target,
      logPath: join(out, 'never.log'),
      runLabel: 'x',
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect((error as Error).message).toMatch(
      /^service 'node .*tiny-service\.mjs' was not ready after 1500 ms; the readiness probe last saw: http:\/\/127\.0\.0\.1:\d+\/healthz: HTTP 503 Service Unavailable \(log: .*never\.log\)\n--- last log lines ---\nlistening on \d+/,
    );
    expect(servicesOwnedBy(process.pid)).toEqual([]);
  });

  it('ignoring SIGTERM: killed after stopTimeout', async () => {
    const topology = await startTopology({ kind: 'single' });
    try {
      const service = await startService(serviceOptions({ env: { TINY_SERVICE_MODE: 'ignore-term' }, stopTimeout: '300ms' }), {
        target: topology.endpoints(),
        logPath: join(out, 'term.log'),
        runLabel: 'x',
      });
      const { pid } = JSON.parse((await get(service, '/env')).body) as { pid: number };
      await service.stop();
      expect(running(pid)).toBe(false);
      expect(readFileSync(join(out, 'term.log'), 'utf8')).toContain('SIGTERM ignored');
    } finally {
      await topology.stop();
    }
  });
});

describe('a strategy run with a service', () => {
  it('starts it before logging in and stops it before the topology, its output in the service log', async () => {
    const scenario = normalizeScenario({
      strategies: ['blacklist'],
      workload: { users: 200 },
      load: { rate: 200, warmup: '200ms', duration: '1s' },
      service: { command: `node ${FIXTURE}`, ready: { url: READY_URL } },
    });
    const run = await runStrategy(scenario, 0, { outDir: out, index: 7, signal: new AbortController().signal });
    expect(run.load.completedOps).toBeGreaterThan(100);
    const log = readFileSync(join(out, 'service-7-blacklist.log'), 'utf8');
    expect(log).toMatch(/^listening on \d+$/m);
    expect(servicesOwnedBy(process.pid)).toEqual([]);
  });

  it('a failing service fails the run with its error, the topology stopped', async () => {
    const scenario = normalizeScenario({
      strategies: ['blacklist'],
      load: { warmup: '200ms', duration: '1s' },
      service: { command: `node ${FIXTURE}`, env: { TINY_SERVICE_MODE: 'exit' }, ready: { url: READY_URL } },
    });
    await expect(runStrategy(scenario, 0, { outDir: out, index: 8, signal: new AbortController().signal })).rejects.toThrow(/exited with code 3/);
    expect(servicesOwnedBy(process.pid)).toEqual([]);
  });
});

describe('run --exec, interrupted', () => {
  it('SIGINT while the service runs: the run ends interrupted and no service process is left', async () => {
    const dir = join(out, 'cli');
    const child = execa(
      'node',
      [BIN, 'run', '--quick', '--duration', '20s', '--exec', `node ${FIXTURE}`, '--ready-url', READY_URL, '--exec-env', 'EXTRA=1', '--out', dir],
      { reject: false, env: { TOKENBENCH_NO_INSTALL: '1', TOKENBENCH_STAGES: '1' } },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await until('the warm-up stage', () => stderr.includes('warming up'), 60_000);
    const owned = servicesOwnedBy(child.pid!);
    expect(owned.length).toBeGreaterThan(0);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(stderr).toContain('stopping the service');
    for (const pid of owned) expect(running(pid)).toBe(false);
    expect(servicesOwnedBy(child.pid!)).toEqual([]);
    expect(existsSync(join(dir, 'service-0-blacklist.log'))).toBe(true);
    const written = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { interrupted: boolean; scenario: { service: { env: object } } };
    expect(written.interrupted).toBe(true);
    expect(written.scenario.service.env).toEqual({ EXTRA: '1' });
  });
});

describe('run --exec, killed -9', () => {
  it('leaves a service that tokenbench doctor lists as a leftover of the dead run', async () => {
    const dir = join(out, 'cli-kill');
    const child = execa('node', [BIN, 'run', '--quick', '--duration', '30s', '--exec', `node ${FIXTURE}`, '--ready-url', READY_URL, '--out', dir], {
      reject: false,
      env: { TOKENBENCH_NO_INSTALL: '1', TOKENBENCH_STAGES: '1' },
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await until('the warm-up stage', () => stderr.includes('warming up'), 60_000);
    const owner = child.pid!;
    const owned = servicesOwnedBy(owner);
    expect(owned.length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await child;
    try {
      const doctor = await execa('node', [BIN, 'doctor', '--json'], { reject: false });
      const listed = (JSON.parse(doctor.stdout) as { leftovers: { processes: { pid: number; ownerPid: number }[] } }).leftovers.processes;
      for (const pid of owned) expect(listed).toContainEqual(expect.objectContaining({ pid, ownerPid: owner }));
    } finally {
      // Only this test's own leftovers: `doctor --clean` would also take other runs' on a shared machine.
      for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
        try {
          const tagged = readFileSync(`/proc/${entry}/environ`, 'utf8').includes(`tokenbench-owner=${owner}\0`);
          const titled = readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`tokenbench-owner=${owner}`);
          if (tagged || titled) process.kill(Number(entry), 'SIGKILL');
        } catch {}
      }
      for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(DATA_DIR_PREFIX))) {
        try {
          if ((JSON.parse(readFileSync(join(tmpdir(), name, 'owner.json'), 'utf8')) as { pid?: number }).pid === owner)
            rmSync(join(tmpdir(), name), { recursive: true, force: true });
        } catch {}
      }
    }
  });
});
