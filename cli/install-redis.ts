import { execa } from 'execa';
import { RedisUnavailableError } from '../core/errors.ts';
import { INSTALL_HINT, type RedisBinary, resolveRedisServer, which } from '../topologies/process/redis-binary.ts';

const APT_PACKAGES = ['redis-server', 'redis-sentinel', 'redis-tools'];

/**
 * The README promises one command on a fresh machine. When the default redis-server is missing and
 * we can install it without asking (root with apt-get, or Homebrew), we do, saying so in one line.
 * TOKENBENCH_NO_INSTALL=1 turns this off. Aborting `signal` stops the installer (a terminal's
 * Ctrl-C has already reached it; a SIGTERM sent to tokenbench alone has not) and throws its reason.
 */
export async function ensureRedisServer(command: string, signal?: AbortSignal): Promise<RedisBinary> {
  try {
    return await resolveRedisServer(command);
  } catch (error) {
    if (!(error instanceof RedisUnavailableError) || command !== 'redis-server' || which(command) || process.env.TOKENBENCH_NO_INSTALL === '1') throw error;
    const installer = pickInstaller();
    if (!installer) throw error;
    process.stderr.write(`redis-server not found: installing it with \`${installer.display}\`\n`);
    for (const [file, ...args] of installer.steps) {
      const result = await execa(file, args, { reject: false, all: true, env: { DEBIAN_FRONTEND: 'noninteractive' }, ...(signal && { cancelSignal: signal }) });
      signal?.throwIfAborted();
      if (result.exitCode !== 0) {
        throw new RedisUnavailableError(
          `installing Redis failed (${[file, ...args].join(' ')} exited ${result.exitCode}):\n${(result.all ?? '').split('\n').slice(-8).join('\n')}\n${INSTALL_HINT}`,
        );
      }
    }
    return resolveRedisServer(command);
  }
}

function pickInstaller(): { display: string; steps: [string, ...string[]][] } | undefined {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && which('apt-get')) {
    return {
      display: `apt-get install -y ${APT_PACKAGES.join(' ')}`,
      steps: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', ...APT_PACKAGES],
      ],
    };
  }
  if (which('brew')) return { display: 'brew install redis', steps: [['brew', 'install', 'redis']] };
  return undefined;
}
