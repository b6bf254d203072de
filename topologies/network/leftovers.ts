import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { isAlive } from '../pids.ts';
import { which } from '../process/redis-binary.ts';
import { LOCK_FILE_PATTERN, lockOwner } from './address-block.ts';
import { TABLE_NAME_PATTERN } from './nft.ts';

export { findLeftoverNetwork, type LeftoverNetwork, removeLeftoverNetwork };

interface LeftoverNetwork {
  /** nftables tables (family inet) of runs whose process is gone. */
  tables: string[];
  /** Address block lock files of runs whose process is gone. */
  locks: string[];
}

/** A lock file is written right after its O_EXCL create; one still unreadable after this long never will be. */
const UNFINISHED_LOCK_MS = 60_000;

/** Where nft is absent or we are not root, no tables can be listed (and none of ours can exist): none are reported. */
async function findLeftoverTables(): Promise<string[]> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0 || !which('nft')) return [];
  const listed = await execa('nft', ['list', 'tables', 'inet'], { reject: false, timeout: 10_000 });
  if (listed.exitCode !== 0) return [];
  const tables: string[] = [];
  for (const line of listed.stdout.split('\n')) {
    const name = /^table inet (\S+)$/.exec(line.trim())?.[1];
    const match = name ? TABLE_NAME_PATTERN.exec(name) : null;
    if (match && !isAlive(Number(match[1]))) tables.push(name!);
  }
  return tables;
}

function findLeftoverLocks(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const locks: string[] = [];
  for (const name of entries) {
    if (!LOCK_FILE_PATTERN.test(name)) continue;
    const path = join(root, name);
    const owner = lockOwner(path);
    if (owner !== undefined ? !isAlive(owner) : isOld(path)) locks.push(path);
  }
  return locks;
}

function isOld(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > UNFINISHED_LOCK_MS;
  } catch {
    return false;
  }
}

async function findLeftoverNetwork(root = tmpdir()): Promise<LeftoverNetwork> {
  return { tables: await findLeftoverTables(), locks: findLeftoverLocks(root) };
}

async function removeLeftoverNetwork(found: LeftoverNetwork): Promise<void> {
  for (const table of found.tables) await execa('nft', ['delete', 'table', 'inet', table], { reject: false, timeout: 10_000 });
  for (const lock of found.locks) rmSync(lock, { force: true });
}
