import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ensureRedisServer } from '../../cli/install-redis.ts';
import { which } from '../../topologies/process/redis-binary.ts';
import { missingToolsLine } from '../support/optional-tools.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A run that cannot go on: one line and exit 1 before any test. Thrown, vitest would print it as an
 * unhandled error under "No test files found" and the include globs, which reads as a config mistake.
 */
function abort(message: string): never {
  process.stderr.write(`tokenbench tests: ${message}\n`);
  process.exit(1);
}

/**
 * Before the integration tests, so `npm test` works on a fresh machine as `npm start` does: the
 * CLI tests run fresh code, Redis is there (installed the way `npm start` installs it), and one
 * line says which optional tools are missing and what that skips.
 */
export default async function setup(): Promise<void> {
  await redis();
  const [, missing] = await Promise.all([build(), missingToolsLine()]);
  if (missing) process.stderr.write(`tokenbench tests: ${missing}\n`);
}

/** The CLI tests spawn the bin, which runs the built code where there is a build step. */
async function build(): Promise<void> {
  const scripts = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  if (!scripts.build) return;
  const result = await execa('npm', ['run', 'build'], { cwd: root, reject: false, all: true });
  if (result.exitCode !== 0) {
    process.stderr.write(`${result.all ?? ''}\n`);
    abort(`\`npm run build\` failed (exit ${result.exitCode}); its output is above`);
  }
}

/** Without Redis the run fails here, once, rather than in every file that starts a topology. */
async function redis(): Promise<void> {
  try {
    await ensureRedisServer('redis-server');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const forbidden = process.env.TOKENBENCH_NO_INSTALL === '1' && !which('redis-server') ? ' and TOKENBENCH_NO_INSTALL=1 forbids installing it' : '';
    abort(`the integration tests need Redis${forbidden}: ${why} (\`npm run test:unit\` runs the pure tests without it)`);
  }
}
