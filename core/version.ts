import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** tokenbench's own version, from its package.json. */
export const TOKENBENCH_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The commit tokenbench runs from, when it runs from a git checkout; null otherwise. */
export function gitSha(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: new URL('..', import.meta.url), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}
