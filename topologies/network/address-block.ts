import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkUnsupportedError } from '../../core/errors.ts';
import { onExitSync } from '../exit-cleanup.ts';
import { isAlive } from '../pids.ts';

export { type AddressBlock, allocateAddressBlock, LOCK_FILE_PATTERN, lockOwner };

/**
 * A /24 of loopback addresses owned by one run, so that traffic between two of its nodes is told
 * apart by its (source, destination) pair: node i at <prefix>.(i+1), client group g at <prefix>.(200+g).
 */
interface AddressBlock {
  readonly index: number;
  /** '127.77.5' */
  readonly prefix: string;
  node(i: number): string;
  clientGroup(g: number): string;
  /** Frees the block for other runs; idempotent, and done at exit if forgotten. */
  release(): void;
}

const BLOCKS = 254;
const lockFile = (k: number) => join(tmpdir(), `tokenbench-net-${k}.json`);
/** The lock files, and the short-lived claim files that guard a stale lock's takeover. */
const LOCK_FILE_PATTERN = /^tokenbench-net-(\d+)\.json(\.takeover)?$/;

/** The pid a lock file names, or undefined while it is being written (or was never finished). */
function lockOwner(path: string): number | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown };
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

function createExclusive(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() })}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes block k if free, or if its lock names a dead pid. Unlinking a stale lock and creating ours
 * are two steps: two runs doing them at once could each delete the other's fresh lock. A claim
 * file (itself O_EXCL) lets only one run try; a run that finds a claim moves on to the next k.
 */
function tryTake(k: number): boolean {
  const path = lockFile(k);
  if (createExclusive(path)) return true;
  const owner = lockOwner(path);
  if (owner === undefined || isAlive(owner)) return false;
  const claim = `${path}.takeover`;
  if (!createExclusive(claim)) return false;
  try {
    const again = lockOwner(path);
    if (again === undefined || isAlive(again)) return false;
    // Rename, not unlink: the stale content leaves atomically, and nobody else may create the lock while we hold the claim.
    renameSync(path, `${claim}.stale`);
    unlinkSync(`${claim}.stale`);
    return createExclusive(path);
  } finally {
    unlinkSync(claim);
  }
}

async function canBind(address: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen(0, address, () => server.close(() => resolve(undefined)));
  });
}

/** Picks a free block in 127.77.1.0/24 .. 127.77.254.0/24 (random order, so concurrent runs rarely race for one). */
async function allocateAddressBlock(): Promise<AddressBlock> {
  const start = Math.floor(Math.random() * BLOCKS);
  for (let n = 0; n < BLOCKS; n++) {
    const k = ((start + n) % BLOCKS) + 1;
    if (!tryTake(k)) continue;
    const block = makeBlock(k);
    const failure = await canBind(block.node(0));
    if (failure !== undefined) {
      block.release();
      throw new NetworkUnsupportedError(
        `network faults need every address of 127.0.0.0/8 on the loopback interface (Linux has them); binding ${block.node(0)} failed: ${failure}`,
      );
    }
    return block;
  }
  throw new NetworkUnsupportedError(
    `no free loopback address block: all ${BLOCKS} lock files ${lockFile(1)} .. ${lockFile(BLOCKS)} are held by live processes`,
  );
}

function makeBlock(k: number): AddressBlock {
  const prefix = `127.77.${k}`;
  const path = lockFile(k);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // Only our own lock: after a takeover by mistake (a reused pid), the file is someone else's.
    if (lockOwner(path) === process.pid) {
      try {
        unlinkSync(path);
      } catch {}
    }
  };
  onExitSync(release);
  const inRange = (what: string, n: number, max: number) => {
    if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${what} must be an integer in 0..${max}, got ${n}`);
    return n;
  };
  return {
    index: k,
    prefix,
    node: (i) => `${prefix}.${inRange('node index', i, 198) + 1}`,
    clientGroup: (g) => `${prefix}.${200 + inRange('client group', g, 54)}`,
    release,
  };
}
