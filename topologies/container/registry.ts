import { spawnSync } from 'node:child_process';
import { onExitSync } from '../exit-cleanup.ts';

/**
 * Containers this process created and has not removed. Without Ryuk nothing removes them for us
 * if the process dies, so on every way out we remove them synchronously with the docker CLI
 * (the only synchronous way to reach the engine); `tokenbench doctor` catches the rest.
 */
const live = new Set<string>();
let installed = false;

export function trackContainer(id: string): void {
  live.add(id);
  install();
}

export function untrackContainer(id: string): void {
  live.delete(id);
}

export function removeAllSync(): void {
  if (live.size === 0) return;
  spawnSync('docker', ['rm', '--force', '--volumes', ...live], { stdio: 'ignore', timeout: 20_000 });
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  onExitSync(removeAllSync);
}
