import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// From sources (vitest, tsx) this file is core/version.ts; built, it is dist/core/version.js.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const PACKAGE_DIR = fileURLToPath(new URL(FROM_SOURCES ? '..' : '../..', import.meta.url));

/** What the build knew and a run cannot find out: dist/build-info.json, written by `npm run build`. */
export const BUILD_INFO_FILE = fileURLToPath(new URL('../build-info.json', import.meta.url));

export interface BuildInfo {
  gitSha: string | null;
}

/** tokenbench's own version, from its package.json. */
export const TOKENBENCH_VERSION = (JSON.parse(readFileSync(resolve(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The commit tokenbench was built from (or, run from sources, the checkout's HEAD); null when
 * unknown. A built copy never asks git at run time: installed in a user's node_modules, git
 * would answer with the user's repository.
 */
export function gitSha(): string | null {
  if (FROM_SOURCES) return checkoutCommit(PACKAGE_DIR);
  try {
    const { gitSha: sha } = JSON.parse(readFileSync(BUILD_INFO_FILE, 'utf8')) as Partial<BuildInfo>;
    return typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  } catch {
    return null;
  }
}

/** HEAD of the git checkout whose top level is `dir`; null when `dir` is not one (no git, no repository, or only inside a parent's). */
export function checkoutCommit(dir: string): string | null {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  try {
    if (realpathSync(git('rev-parse', '--show-toplevel')) !== realpathSync(dir)) return null;
    return git('rev-parse', 'HEAD') || null;
  } catch {
    return null;
  }
}
