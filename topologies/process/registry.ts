import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Every server process this Node process started and has not yet reaped. Servers run in their own
 * process group (so a terminal's Ctrl-C reaches tokenbench, which tears down in order, instead of
 * killing Redis under a run that still wants to write its result); the price is that nothing kills
 * them for us, so this registry does, on every way out of the process.
 */
const live = new Set<ChildProcess>();
/** Temp dirs to remove if the process dies before stop() could (kept dirs are never listed). */
const dirs = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
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

function onSignal(signal: NodeJS.Signals): void {
  // An application that listens for the signal itself (the CLI) owns the shutdown: it stops load,
  // writes results and then stops topologies. Only when nobody else listens do we act as the default.
  if (process.listenerCount(signal) > 1) return;
  cleanUpSync();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  // 'exit' also runs after an uncaught exception and after process.exit().
  process.on('exit', cleanUpSync);
  for (const s of SIGNALS) process.on(s, onSignal);
}
