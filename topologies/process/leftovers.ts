import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_DIR_PREFIX } from '../owned/base.ts';
import { isAlive } from '../pids.ts';
import { TITLE_TAG_PREFIX } from './server-process.ts';

export interface LeftoverProcess {
  pid: number;
  ownerPid: number;
  title: string;
}

export interface Leftovers {
  processes: LeftoverProcess[];
  dirs: string[];
}

/**
 * Where a process tokenbench did not write itself carries its owner tag (`run --exec` services):
 * in the environment, which the service and everything it starts inherit.
 */
export const OWNER_TAG_ENV = 'TOKENBENCH_OWNER_TAG';

function ownerTagOfEnvironment(pid: string): string {
  try {
    return (
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .find((entry) => entry.startsWith(`${OWNER_TAG_ENV}=`)) ?? ''
    );
  } catch {
    return '';
  }
}

/** Our servers carry `tokenbench-owner=<pid>` in their process title, services in their environment; list those whose owner is gone. */
export function findLeftoverProcesses(): LeftoverProcess[] {
  if (!existsSync('/proc')) return [];
  const found: LeftoverProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let title: string;
    try {
      title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    const tag = new RegExp(`${TITLE_TAG_PREFIX}(\\d+)`);
    const match = tag.exec(title) ?? tag.exec(ownerTagOfEnvironment(entry));
    if (!match) continue;
    const ownerPid = Number(match[1]);
    if (!isAlive(ownerPid)) found.push({ pid: Number(entry), ownerPid, title });
  }
  return found;
}

/** Temp dirs of runs whose owner process is gone (crashed, killed -9) and that did not ask to --keep them. */
export function findLeftoverDirs(root = tmpdir()): string[] {
  const dirs: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return dirs;
  }
  for (const name of entries) {
    if (!name.startsWith(DATA_DIR_PREFIX)) continue;
    try {
      const owner = JSON.parse(readFileSync(join(root, name, 'owner.json'), 'utf8')) as { pid?: number; kept?: boolean };
      if (!owner.kept && typeof owner.pid === 'number' && !isAlive(owner.pid)) dirs.push(join(root, name));
    } catch {}
  }
  return dirs;
}

export function findLeftovers(): Leftovers {
  return { processes: findLeftoverProcesses(), dirs: findLeftoverDirs() };
}

export function removeLeftovers(leftovers: Leftovers): void {
  for (const p of leftovers.processes) {
    try {
      process.kill(p.pid, 'SIGCONT');
      process.kill(p.pid, 'SIGKILL');
    } catch {}
  }
  for (const dir of leftovers.dirs) rmSync(dir, { recursive: true, force: true });
}
