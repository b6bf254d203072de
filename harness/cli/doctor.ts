import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { findLeftovers, removeLeftovers } from '../../topologies/process/leftovers.ts';
import { INSTALL_HINT, MIN_REDIS_VERSION, resolveRedisServer, which } from '../../topologies/process/redis-binary.ts';
import { ServerProcess } from '../../topologies/process/server-process.ts';
import { parseFlags } from './flags.ts';

export const DOCTOR_HELP = `Usage: tokenbench doctor [--redis-server <path>] [--clean] [--json]

Checks what tokenbench needs and what is installed: Node.js, redis-server (and its Sentinel
mode, tried for real), redis-cli, Docker. Says what is missing and the exact command that
installs it. Also finds Redis processes and temp dirs left behind by a crashed run.

Exit code: 0 when the process backend can run, 1 when it cannot.

Options:
  --redis-server <path>   server binary to check [redis-server on PATH]
  --clean                 kill leftover servers of dead runs and remove their temp dirs
  --json                  print the findings as one JSON object

Examples:
  tokenbench doctor
  tokenbench doctor --redis-server /usr/local/bin/valkey-server
  tokenbench doctor --clean
`;

interface Check {
  name: string;
  ok: boolean;
  required: boolean;
  found: string;
  fix?: string;
}

async function version(file: string, args: string[]): Promise<string | undefined> {
  const path = which(file);
  if (!path) return undefined;
  const result = await execa(path, args, { reject: false, timeout: 5000 });
  return result.exitCode === 0 ? `${result.stdout.split('\n')[0]} (${path})` : undefined;
}

/** Sentinel mode is compiled into every redis-server, but a broken install shows only when one starts. */
async function trySentinel(binary: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenbench-doctor-'));
  const server = new ServerProcess(
    {
      id: 'doctor-sentinel',
      dir,
      mode: 'sentinel',
      config: ({ port }) => [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'sentinel monitor probe 127.0.0.1 1 1'],
    },
    binary,
  );
  try {
    await server.startFresh(5000);
    return `started on 127.0.0.1:${server.port} and answered PING`;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { 'redis-server': { type: 'string' }, clean: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, 'doctor');
  if (values.help) {
    process.stdout.write(DOCTOR_HELP);
    return 0;
  }
  const checks: Check[] = [];
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  checks.push({ name: 'node', ok: nodeMajor >= 20, required: true, found: `v${process.versions.node}`, ...(nodeMajor < 20 && { fix: 'install Node.js 20 or newer' }) });

  const serverCommand = values['redis-server'] ?? 'redis-server';
  let serverPath: string | undefined;
  try {
    const binary = await resolveRedisServer(serverCommand);
    serverPath = binary.path;
    checks.push({ name: 'redis-server', ok: true, required: true, found: `${binary.flavor} ${binary.version} (${binary.path})` });
  } catch (error) {
    checks.push({ name: 'redis-server', ok: false, required: true, found: (error as Error).message, fix: `${INSTALL_HINT}; needs ${MIN_REDIS_VERSION}+` });
  }
  if (serverPath) {
    try {
      checks.push({ name: 'sentinel mode', ok: true, required: true, found: await trySentinel(serverPath) });
    } catch (error) {
      checks.push({ name: 'sentinel mode', ok: false, required: true, found: (error as Error).message.split('\n')[0]!, fix: 'apt-get install -y redis-sentinel (Debian/Ubuntu) or a full Redis build' });
    }
  }
  const cli = await version('redis-cli', ['--version']);
  checks.push({ name: 'redis-cli', ok: Boolean(cli), required: false, found: cli ?? 'not found (optional: for poking at a topology by hand)', ...(!cli && { fix: 'apt-get install -y redis-tools, or brew install redis' }) });
  const docker = await version('docker', ['--version']);
  let dockerFound = docker ?? 'not found (optional: the container backend)';
  let dockerOk = false;
  if (docker) {
    const server = await execa('docker', ['version', '--format', '{{.Server.Version}}'], { reject: false, timeout: 5000 });
    dockerOk = server.exitCode === 0;
    dockerFound = dockerOk ? `${docker}; engine ${server.stdout.trim()}` : `${docker}; client only, no engine reachable`;
  }
  checks.push({ name: 'docker', ok: dockerOk, required: false, found: dockerFound, ...(!dockerOk && { fix: 'apt-get install -y docker.io && dockerd & (optional)' }) });

  const leftovers = findLeftovers();
  if (values.clean) removeLeftovers(leftovers);
  const canRun = checks.every((c) => c.ok || !c.required);

  if (values.json) {
    process.stdout.write(`${JSON.stringify({ processBackend: canRun, checks, leftovers, cleaned: Boolean(values.clean) })}\n`);
    return canRun ? 0 : 1;
  }
  for (const c of checks) {
    const mark = c.ok ? 'ok     ' : c.required ? 'MISSING' : 'absent ';
    process.stdout.write(`${mark} ${c.name.padEnd(14)} ${c.found}\n`);
    if (!c.ok && c.fix) process.stdout.write(`        ${''.padEnd(14)} fix: ${c.fix}\n`);
  }
  const total = leftovers.processes.length + leftovers.dirs.length;
  if (total === 0) {
    process.stdout.write('ok      leftovers      none from earlier runs\n');
  } else {
    for (const p of leftovers.processes) process.stdout.write(`${values.clean ? 'removed' : 'LEFT   '} process ${p.pid}: ${p.title} (owner ${p.ownerPid} is gone)\n`);
    for (const d of leftovers.dirs) process.stdout.write(`${values.clean ? 'removed' : 'LEFT   '} dir ${d}\n`);
    if (!values.clean) {
      const pids = leftovers.processes.map((p) => p.pid).join(' ');
      process.stdout.write(`        remove them: tokenbench doctor --clean${pids ? `   (or: kill -9 ${pids}` : ''}${leftovers.dirs.length ? `${pids ? ';' : '   (or:'} rm -rf ${leftovers.dirs.join(' ')}` : ''})\n`);
    }
  }
  process.stdout.write(canRun ? '\nThe process backend can run.\n' : '\nThe process backend cannot run: fix the MISSING lines above.\n');
  return canRun ? 0 : 1;
}
