import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { containerRuntime, DEFAULT_IMAGE, imagePresent, installedTestcontainers, LOCAL_IMAGE, TESTCONTAINERS_INSTALL } from '../topologies/container/docker.ts';
import { findLeftoverContainers, type LeftoverContainer, removeLeftoverContainers } from '../topologies/container/leftovers.ts';
import { findLeftoverNetwork, removeLeftoverNetwork } from '../topologies/network/leftovers.ts';
import { networkFaultSupport } from '../topologies/network/nft.ts';
import { findLeftovers, removeLeftovers } from '../topologies/process/leftovers.ts';
import { INSTALL_HINT, MIN_REDIS_VERSION, resolveRedisServer, which } from '../topologies/process/redis-binary.ts';
import { ServerProcess } from '../topologies/process/server-process.ts';
import { DOCTOR_HELP, DOCTOR_USAGE } from './doctor-flags.ts';
import { parseFlags } from './flags.ts';
import { type InstallContext, installAdvice, readInstallContext, redis8Note, SERVER_BINARIES, type ServerBinary } from './server-install.ts';

export { DOCTOR_HELP } from './doctor-flags.ts';

/** valkey-sentinel, the longest check name. */
const NAME_WIDTH = 15;

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

const SERVER_USE: Record<ServerBinary, string> = {
  'redis-server': 'Redis runs, --server redis-server',
  'redis-sentinel': "Debian's Sentinel package; tokenbench starts sentinels as redis-server --sentinel",
  'valkey-server': 'Valkey runs, --server valkey-server',
  'valkey-sentinel': "Debian's Sentinel package; tokenbench starts sentinels as valkey-server --sentinel",
};

/**
 * The servers besides the one checked above, each with its version: one line each, the way to
 * install a missing family (Redis, Valkey) on its first missing line, and Redis 8 where this
 * machine cannot have it.
 */
async function serverChecks(checked: string, context: InstallContext): Promise<Check[]> {
  const found = await Promise.all(SERVER_BINARIES.map(async (name) => ({ name, binary: await resolveRedisServer(name).catch(() => undefined) })));
  const advised = new Set<string>();
  const checks: Check[] = found
    .filter(({ name }) => name !== checked)
    .map(({ name, binary }) => {
      const family = name.startsWith('valkey') ? 'valkey' : 'redis';
      const fix = !binary && !advised.has(family) ? installAdvice(family, context) : undefined;
      if (fix) advised.add(family);
      return {
        name,
        ok: binary !== undefined,
        required: false,
        found: binary ? `${binary.flavor} ${binary.version} (${binary.path})` : `not found (optional: ${SERVER_USE[name]})`,
        ...(fix && { fix }),
      };
    });
  const note = redis8Note(context, found.find((f) => f.name === 'redis-server')?.binary?.version);
  if (note) checks.push({ name: 'redis 8', ok: false, required: false, found: note });
  return checks;
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, DOCTOR_USAGE.flags, DOCTOR_USAGE.command);
  if (values.help) {
    process.stdout.write(DOCTOR_HELP);
    return 0;
  }
  const checks: Check[] = [];
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  checks.push({
    name: 'node',
    ok: nodeMajor >= 20,
    required: true,
    found: `v${process.versions.node}`,
    ...(nodeMajor < 20 && { fix: 'install Node.js 20 or newer' }),
  });

  const serverCommand = values['redis-server'] ?? 'redis-server';
  let serverPath: string | undefined;
  try {
    const binary = await resolveRedisServer(serverCommand);
    serverPath = binary.path;
    checks.push({ name: 'redis-server', ok: true, required: true, found: `${binary.flavor} ${binary.version} (${binary.path})` });
  } catch (error) {
    checks.push({ name: 'redis-server', ok: false, required: true, found: (error as Error).message, fix: `${INSTALL_HINT}; needs ${MIN_REDIS_VERSION}+` });
  }
  const serverLines = serverChecks(serverCommand, readInstallContext());
  if (serverPath) {
    try {
      checks.push({ name: 'sentinel mode', ok: true, required: true, found: await trySentinel(serverPath) });
    } catch (error) {
      checks.push({
        name: 'sentinel mode',
        ok: false,
        required: true,
        found: (error as Error).message.split('\n')[0]!,
        fix: 'apt-get install -y redis-sentinel (Debian/Ubuntu) or a full Redis build',
      });
    }
  }
  checks.push(...(await serverLines));
  const cli = await version('redis-cli', ['--version']);
  checks.push({
    name: 'redis-cli',
    ok: Boolean(cli),
    required: false,
    found: cli ?? 'not found (optional: for poking at a topology by hand)',
    ...(!cli && { fix: 'apt-get install -y redis-tools, or brew install redis' }),
  });
  // Asked for real: the probe creates and deletes a table (and, for delay, starts the packet holder).
  const cutLinks = await networkFaultSupport({});
  const delayLinks = cutLinks ?? (await networkFaultSupport({ delay: true }));
  checks.push({
    name: 'network',
    ok: cutLinks === undefined,
    required: false,
    found:
      cutLinks !== undefined
        ? `${cutLinks} (optional: partition, loss and delay faults)`
        : delayLinks === undefined
          ? 'nft table created and removed: partition, loss and delay can run'
          : `partition and loss can run; delay cannot: ${delayLinks}`,
  });
  const testcontainers = installedTestcontainers();
  checks.push({
    name: 'testcontainers',
    ok: Boolean(testcontainers),
    required: false,
    found: testcontainers ? `testcontainers ${testcontainers}` : 'not installed (optional: the container backend needs it)',
    ...(!testcontainers && { fix: TESTCONTAINERS_INSTALL }),
  });
  // The engine as testcontainers finds it (DOCKER_HOST, ~/.testcontainers.properties, the default socket): what the container backend will use.
  let containers: LeftoverContainer[] = [];
  try {
    const runtime = await containerRuntime();
    const images = await Promise.all([DEFAULT_IMAGE, LOCAL_IMAGE].map(async (image) => `${image} ${(await imagePresent(image)) ? 'present' : 'absent'}`));
    checks.push({
      name: 'docker',
      ok: true,
      required: false,
      found: `engine ${runtime.info.containerRuntime.serverVersion} at ${runtime.info.containerRuntime.remoteSocketPath ?? runtime.info.containerRuntime.host}; images: ${images.join(', ')}`,
    });
    containers = await findLeftoverContainers();
  } catch (error) {
    const client = await version('docker', ['--version']);
    checks.push({
      name: 'docker',
      ok: false,
      required: false,
      found: `${client ? `${client}; ` : ''}${testcontainers ? `no engine reachable (optional: the container backend): ${(error as Error).message.split(';')[0]}` : 'engine not checked (tokenbench reaches it through testcontainers)'}`,
      ...(testcontainers !== undefined && { fix: 'apt-get install -y docker.io && dockerd &  (then `tokenbench image build` where no registry is reachable)' }),
    });
  }

  const leftovers = findLeftovers();
  const network = await findLeftoverNetwork();
  if (values.clean) {
    removeLeftovers(leftovers);
    await removeLeftoverContainers(containers);
    await removeLeftoverNetwork(network);
  }
  const canRun = checks.every((c) => c.ok || !c.required);

  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ processBackend: canRun, checks, leftovers: { ...leftovers, containers, ...network }, cleaned: Boolean(values.clean) })}\n`,
    );
    return canRun ? 0 : 1;
  }
  for (const c of checks) {
    const mark = c.ok ? 'ok     ' : c.required ? 'MISSING' : 'absent ';
    process.stdout.write(`${mark} ${c.name.padEnd(NAME_WIDTH)} ${c.found}\n`);
    // A fix of several commands: one per line, under the first.
    if (!c.ok && c.fix) process.stdout.write(`        ${''.padEnd(NAME_WIDTH)} fix: ${c.fix.split('\n').join(`\n${' '.repeat(NAME_WIDTH + 14)}`)}\n`);
  }
  const total = leftovers.processes.length + leftovers.dirs.length + containers.length + network.tables.length + network.locks.length;
  if (total === 0) {
    process.stdout.write(`ok      ${'leftovers'.padEnd(NAME_WIDTH)} none from earlier runs\n`);
  } else {
    for (const p of leftovers.processes)
      process.stdout.write(`${values.clean ? 'removed' : 'LEFT   '} process ${p.pid}: ${p.title} (owner ${p.ownerPid} is gone)\n`);
    for (const d of leftovers.dirs) process.stdout.write(`${values.clean ? 'removed' : 'LEFT   '} dir ${d}\n`);
    for (const c of containers)
      process.stdout.write(`${values.clean ? 'removed' : 'LEFT   '} container ${c.id.slice(0, 12)} (${c.node}, ${c.state}; owner ${c.ownerPid} is gone)\n`);
    for (const t of network.tables) process.stdout.write(`${values.clean ? 'removed' : 'LEFT   '} nft table inet ${t}\n`);
    for (const l of network.locks) process.stdout.write(`${values.clean ? 'removed' : 'LEFT   '} address block lock ${l}\n`);
    if (!values.clean) {
      const pids = leftovers.processes.map((p) => p.pid).join(' ');
      const by = [
        pids && `kill -9 ${pids}`,
        leftovers.dirs.length > 0 && `rm -rf ${leftovers.dirs.join(' ')}`,
        containers.length > 0 && `docker rm -f ${containers.map((c) => c.id.slice(0, 12)).join(' ')}`,
        ...network.tables.map((t) => `nft delete table inet ${t}`),
        network.locks.length > 0 && `rm -f ${network.locks.join(' ')}`,
      ].filter(Boolean);
      process.stdout.write(`        remove them: tokenbench doctor --clean   (or: ${by.join('; ')})\n`);
    }
  }
  process.stdout.write(canRun ? '\nThe process backend can run.\n' : '\nThe process backend cannot run: fix the MISSING lines above.\n');
  return canRun ? 0 : 1;
}
