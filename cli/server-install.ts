import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../topologies/process/redis-binary.ts';

/** The server binaries doctor looks for; tokenbench starts sentinels as `<server> <conf> --sentinel`, the *-sentinel packages are Debian's. */
export const SERVER_BINARIES = ['redis-server', 'redis-sentinel', 'valkey-server', 'valkey-sentinel'] as const;
export type ServerBinary = (typeof SERVER_BINARIES)[number];

/** What the install advice depends on, read from the machine. */
export interface InstallContext {
  /** /etc/os-release's ID and VERSION_ID (`debian`, `12`) and PRETTY_NAME. */
  os: { id?: string; versionId?: string; pretty?: string };
  /** /etc/apt/sources.list.d/debian.sources (deb822) exists: the stanza the backports source is derived from. */
  debianSources: boolean;
  /** A source of the machine already lists bookworm-backports. */
  backportsListed: boolean;
  brew: boolean;
}

const APT_SOURCES = '/etc/apt/sources.list.d';
export const BACKPORTS_SOURCE = `${APT_SOURCES}/tokenbench-backports.sources`;

/**
 * The machine's own debian.sources with its suite replaced (security stanza and comments dropped):
 * its mirror and keyring, no host of ours. scripts/install-valkey.sh runs exactly this line.
 */
export const DERIVE_BACKPORTS_SOURCE = `grep -v '^[[:space:]]*#' ${APT_SOURCES}/debian.sources | awk 'BEGIN { RS = ""; ORS = "\\n\\n" } !/-security/' | sed 's/^Suites:.*/Suites: bookworm-backports/' > ${BACKPORTS_SOURCE}`;

const VALKEY_PACKAGES = 'valkey-server valkey-sentinel';
const REDIS_PACKAGES = 'redis-server redis-sentinel redis-tools';

export function readInstallContext(): InstallContext {
  const os: InstallContext['os'] = {};
  try {
    const fields = Object.fromEntries(
      readFileSync('/etc/os-release', 'utf8')
        .split('\n')
        .map((line) => /^([A-Z_]+)="?([^"]*)"?$/.exec(line))
        .filter((m) => m !== null)
        .map((m) => [m[1]!, m[2]!]),
    );
    if (fields.ID) os.id = fields.ID;
    if (fields.VERSION_ID) os.versionId = fields.VERSION_ID;
    if (fields.PRETTY_NAME) os.pretty = fields.PRETTY_NAME;
  } catch {}
  return {
    os,
    debianSources: existsSync(join(APT_SOURCES, 'debian.sources')),
    backportsListed: aptSources().some((text) => /^[^#\n]*bookworm-backports/m.test(text)),
    brew: which('brew') !== undefined,
  };
}

function aptSources(): string[] {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const name of readdirSync(APT_SOURCES)) if (/\.(list|sources)$/.test(name)) files.push(join(APT_SOURCES, name));
  } catch {}
  return files.flatMap((file) => {
    try {
      return [readFileSync(file, 'utf8')];
    } catch {
      return [];
    }
  });
}

const isDebian = (context: InstallContext, version: string) => context.os.id === 'debian' && context.os.versionId === version;

/** How to install a missing Redis or Valkey here: exact commands where the machine is known, one line each. */
export function installAdvice(family: 'redis' | 'valkey', context: InstallContext): string {
  if (family === 'redis') {
    if (context.os.id === 'debian' || context.os.id === 'ubuntu') return `apt-get install -y ${REDIS_PACKAGES}`;
    return context.brew ? 'brew install redis' : `install Redis 6.2 or newer from your system's packages, or pass --redis-server <path>`;
  }
  if (isDebian(context, '13')) return `apt-get install -y ${VALKEY_PACKAGES}   (Debian 13 has Valkey in its main suite)`;
  if (isDebian(context, '12')) {
    const install = `apt-get update && apt-get install -y -t bookworm-backports ${VALKEY_PACKAGES}`;
    if (context.backportsListed) return `${install}   (Debian 12: Valkey is in bookworm-backports, listed here)`;
    if (!context.debianSources)
      return `Debian 12 has Valkey in bookworm-backports, which this machine does not list, and it lists its sources the old way (/etc/apt/sources.list): add a line like its bookworm one with the suite bookworm-backports, then ${install}`;
    return [
      'Debian 12 has Valkey in bookworm-backports, which this machine does not list; as root, scripts/install-valkey.sh (in a tokenbench checkout) runs:',
      DERIVE_BACKPORTS_SOURCE,
      install,
    ].join('\n');
  }
  return context.brew
    ? 'brew install valkey'
    : `install ${VALKEY_PACKAGES} from your system's packages, or run it in containers: --backend container --server valkey/valkey:8`;
}

/** Redis 8 on Debian 12: not packaged for it (it needs a newer glibc than bookworm's); containers are the way. */
export function redis8Note(context: InstallContext, redisVersion: string | undefined): string | undefined {
  if (!isDebian(context, '12') || (redisVersion !== undefined && Number.parseInt(redisVersion, 10) >= 8)) return undefined;
  return 'not installable on Debian 12 (it needs a newer libc than bookworm has): where a registry is reachable, --backend container --server redis:8,valkey/valkey:8';
}
