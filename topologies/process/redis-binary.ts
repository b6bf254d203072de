import { accessSync, constants } from 'node:fs';
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path';
import { execa } from 'execa';
import { RedisUnavailableError } from '../../core/errors.ts';

export interface RedisBinary {
  path: string;
  flavor: 'redis' | 'valkey';
  version: string;
}

/** Oldest Redis we start: 6.2 brought proc-title-template (leftover detection) and the CLUSTER/SENTINEL replies we parse. */
export const MIN_REDIS_VERSION = '6.2.0';

export const INSTALL_HINT =
  'install it with `apt-get install -y redis-server redis-sentinel redis-tools` (Debian/Ubuntu) or `brew install redis` (macOS), or pass --redis-server <path>';

/** Debian 12 has Valkey only in bookworm-backports, which these machines do not list: doctor derives the source from the machine's own. */
export const VALKEY_INSTALL_HINT =
  '`tokenbench doctor` prints the commands that install it here (Debian 12: from bookworm-backports, as scripts/install-valkey.sh does; Debian 13: `apt-get install -y valkey-server valkey-sentinel`; macOS: `brew install valkey`)';

function installHint(command: string): string {
  return basename(command).startsWith('valkey') ? VALKEY_INSTALL_HINT : INSTALL_HINT;
}

export function which(command: string): string | undefined {
  if (command.includes('/')) {
    const full = isAbsolute(command) ? command : resolve(command);
    return isExecutable(full) ? full : undefined;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** `Redis server v=7.0.15 sha=...` or `Valkey server v=8.0.1 ...` */
export function parseServerVersion(output: string): { flavor: 'redis' | 'valkey'; version: string } | undefined {
  const match = /^(Redis|Valkey|KeyDB) server v=(\d+\.\d+\.\d+)/m.exec(output);
  if (!match) return undefined;
  return { flavor: match[1] === 'Valkey' ? 'valkey' : 'redis', version: match[2]! };
}

const cache = new Map<string, Promise<RedisBinary>>();

/** Finds and checks the server binary once per process; a problem is named as `field`'s (the flag or scenario field that gave it). */
export async function resolveRedisServer(command: string, field = '--redis-server'): Promise<RedisBinary> {
  let found = cache.get(command);
  if (!found) {
    found = probe(command);
    cache.set(command, found);
    found.catch(() => cache.delete(command));
  }
  try {
    return await found;
  } catch (error) {
    throw error instanceof RedisUnavailableError ? new RedisUnavailableError(`${field}: ${error.message}`) : error;
  }
}

async function probe(command: string): Promise<RedisBinary> {
  const path = which(command);
  if (!path) {
    const where = command.includes('/') ? 'does not exist or is not executable' : 'was not found on PATH';
    throw new RedisUnavailableError(`'${command}' ${where}; ${installHint(command)}`);
  }
  const result = await execa(path, ['--version'], { reject: false, timeout: 5000 });
  const parsed = parseServerVersion(result.stdout);
  if (!parsed) {
    throw new RedisUnavailableError(`'${path}' did not answer --version like a Redis server (got '${result.stdout.slice(0, 80)}')`);
  }
  // Valkey forked from Redis 7.2, so every Valkey release is new enough.
  if (parsed.flavor === 'redis' && compareVersions(parsed.version, MIN_REDIS_VERSION) < 0) {
    throw new RedisUnavailableError(`'${path}' is Redis ${parsed.version}; tokenbench needs ${MIN_REDIS_VERSION} or newer: ${INSTALL_HINT}`);
  }
  return { path, ...parsed };
}
