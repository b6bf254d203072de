import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../topologies/suite.ts';
import { BIN, firstStdoutLine, serversOwnedBy, tokenbench } from './helpers.ts';

describe('tokenbench CLI: usage', () => {
  it.each([[['--help']], [['doctor', '--help']], [['topology', '--help']], [['image', '--help']]])('%j prints help with examples and exits 0', async (args) => {
    const r = await tokenbench(args);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Usage: tokenbench/);
    expect(r.stdout).toMatch(/Examples:/);
  });

  it.each([
    [['topology', 'up', 'ring'], "topology kind: expected single, sentinel, cluster, got 'ring'"],
    [['topology', 'up', 'sentinel', '--sentinels', '0'], '--sentinels: expected an integer >= 1'],
    [['topology', 'up', 'sentinel', '--quorum', '4'], '--quorum: expected a quorum of at most 3 (the number of sentinels), got 4'],
    [['topology', 'up', 'cluster', '--shards', '2'], '--shards: expected an integer >= 3'],
    [['topology', 'up', 'single', '--shards', '3'], '--shards: applies to cluster topologies, not single'],
    [['topology', 'up', 'single', '--nope'], "Unknown option '--nope'"],
    [['bogus'], "unknown command 'bogus'"],
    [
      ['topology', 'up', 'single', '--image', 'redis:7.4'],
      "--image: expected no image with the process backend (images are for --backend container), got 'redis:7.4'",
    ],
    [['topology', 'up', 'single', '--backend', 'vm'], "--backend: expected process, container or external, got 'vm'"],
    [['topology', 'up', '--master-name', 'm'], '--master-name: goes with --sentinels'],
    [['topology', 'up', 'cluster', '--redis', '127.0.0.1:6379'], 'topology up cluster: the addresses given describe a single deployment'],
    [['run', '--redis', '127.0.0.1:6379', '--cluster', '127.0.0.1:7000'], '--redis and --cluster: give one deployment, not both'],
    [['run', '--redis', 'nowhere'], "--redis / --sentinels / --cluster (topology.endpoints[0]): expected host:port or a redis:// URL, got 'nowhere'"],
    [
      ['run', '--redis', '127.0.0.1:6379', '--fault', 'kill:primary@1s'],
      "--fault (faults[0].action): expected failover, pause or resume (an external deployment is not ours to kill or restart), got 'kill'",
    ],
    [['run', '--tls'], '--tls (topology.tls): expected false with the process backend'],
    [['image', 'build', '--tag', 'Not/Valid'], "--tag: expected a lowercase image name such as tokenbench/redis:local, got 'Not/Valid'"],
  ])('%j is a usage error: one line, exit 2', async (args, message) => {
    const r = await tokenbench(args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a file that is not valid YAML is a usage error like a bad field: one line, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenbench-cli-yaml-'));
    try {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'load: { rate: 10\n');
      for (const args of [
        ['run', '--scenario', bad],
        ['decide', '--requirements', bad],
      ]) {
        const r = await tokenbench(args);
        expect(r.exitCode).toBe(2);
        expect(r.stderr).toContain(`${bad}: not valid YAML`);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing redis-server is named, with the command that installs it, exit 1', async () => {
    const r = await tokenbench(['topology', 'up', 'single', '--redis-server', '/nonexistent/redis-server']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("--redis-server: '/nonexistent/redis-server' does not exist or is not executable");
    expect(r.stderr).toContain('apt-get install -y redis-server redis-sentinel redis-tools');
  });
});

describe('tokenbench doctor', () => {
  it('reports what is installed and exits 0 when the process backend can run', async () => {
    const r = await tokenbench(['doctor', '--json']);
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout) as { processBackend: boolean; checks: { name: string; ok: boolean }[] };
    expect(report.processBackend).toBe(true);
    expect(report.checks.find((c) => c.name === 'redis-server')?.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'sentinel mode')?.ok).toBe(true);
  });

  it('exits 1 and says how to install when the server is missing', async () => {
    const r = await tokenbench(['doctor', '--redis-server', '/nonexistent/redis-server']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/MISSING redis-server/);
    expect(r.stdout).toMatch(/fix: install it with `apt-get install -y redis-server/);
  });
});

describe('no orphans', () => {
  it('SIGINT to a running `topology up` leaves no redis-server and no temp dir behind', async () => {
    const child = execa('node', [BIN, 'topology', 'up', 'sentinel', '--json'], { reject: false, env: { TOKENBENCH_NO_INSTALL: '1' } });
    const line = await firstStdoutLine(child);
    const up = JSON.parse(line) as { kind: string; backend: string; dataDir: string; nodes: { id: string; role: string; host: string; port: number }[] };
    expect(up).toMatchObject({ kind: 'sentinel', backend: 'process' });
    expect(up.nodes.map((n) => n.role).sort()).toEqual(['primary', 'replica', 'replica', 'sentinel', 'sentinel', 'sentinel']);
    const pids = serversOwnedBy(child.pid!);
    expect(pids).toHaveLength(6);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(up.dataDir)).toBe(false);
  });

  it('an uncaught error after start still kills every server and removes the temp dir', async () => {
    const fixture = new URL('../fixtures/crash-after-start.ts', import.meta.url).pathname;
    const r = await execa('node', ['--import', 'tsx', fixture, 'sentinel'], { reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('boom');
    const { pids, dataDir } = JSON.parse(r.stdout) as { pids: number[]; dataDir: string };
    expect(pids).toHaveLength(6);
    // SIGKILL was sent before exit; the orphans are reaped by init a moment later.
    await expect.poll(() => pids.filter(isAlive), { timeout: 10_000 }).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('after kill -9 of tokenbench, doctor finds the leftovers and --clean removes them', async () => {
    const child = execa('node', [BIN, 'topology', 'up', 'single', '--json'], { reject: false, env: { TOKENBENCH_NO_INSTALL: '1' } });
    const line = await new Promise<string>((resolve) => child.stdout!.once('data', (c: Buffer) => resolve(c.toString())));
    const { dataDir } = JSON.parse(line) as { dataDir: string };
    const pids = serversOwnedBy(child.pid!);
    expect(pids).toHaveLength(1);
    child.kill('SIGKILL');
    await child;
    expect(pids.filter(isAlive)).toEqual(pids); // nothing can clean up after SIGKILL...
    const report = await tokenbench(['doctor', '--json']);
    const found = JSON.parse(report.stdout) as { leftovers: { processes: { pid: number }[]; dirs: string[] } };
    expect(found.leftovers.processes.map((p) => p.pid)).toEqual(expect.arrayContaining(pids));
    expect(found.leftovers.dirs).toContain(dataDir);
    const cleaned = await tokenbench(['doctor', '--clean']);
    expect(cleaned.stdout).toContain(`removed process ${pids[0]}`);
    await expect.poll(() => pids.filter(isAlive), { timeout: 10_000 }).toEqual([]); // ...but doctor can
    expect(existsSync(dataDir)).toBe(false);
  });
});
