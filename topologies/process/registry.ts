import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { onExitSync } from '../exit-cleanup.ts';

/**
 * Every server process this Node process started and has not yet reaped. Servers run in their own
 * process group (so a terminal's Ctrl-C reaches tokenbench, which tears down in order, instead of
 * killing Redis under a run that still wants to write its result); the price is that nothing kills
 * them for us, so this registry does, on every way out of the process.
 */
const live = new Set<ChildProcess>();
/** Temp dirs to remove if the process dies before stop() could (kept dirs are never listed). */
const dirs = new Set<string>();
let installed = false;

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  install();
}

export function untrack(child: ChildProcess): void {
  live.delete(child);
}

export function trackDir(dir: string): void {
  dirs.add(dir);
  install();
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

export function liveCount(): number {
  return live.size;
}

function cleanUpSync(): void {
  killAllSync();
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
}

/** SIGCONT first: a stopped process only dies of SIGKILL, but its exit is only reported once it runs. */
export function killAllSync(): void {
  for (const child of live) {
    if (child.pid === undefined) continue;
    try {
      process.kill(child.pid, 'SIGCONT');
    } catch {}
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {}
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  onExitSync(cleanUpSync);
}
