import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';

export const BIN = fileURLToPath(new URL('../../bin/tokenbench.js', import.meta.url));

export function tokenbench(args: string[], options: Options = {}) {
  return execa('node', [BIN, ...args], { reject: false, env: { TOKENBENCH_NO_INSTALL: '1' }, ...options });
}

/** Our servers carry tokenbench-owner=<pid> in their title: find the ones a given process started. */
export function serversOwnedBy(ownerPid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.includes(`tokenbench-owner=${ownerPid} `) || title.endsWith(`tokenbench-owner=${ownerPid}`) || title.includes(`tokenbench-owner=${ownerPid}\0`)) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}
