import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DERIVE_BACKPORTS_SOURCE, type InstallContext, installAdvice, redis8Note } from './server-install.ts';

const debian = (versionId: string, extra: Partial<InstallContext> = {}): InstallContext => ({
  os: { id: 'debian', versionId },
  debianSources: true,
  backportsListed: false,
  brew: false,
  ...extra,
});

describe('how doctor says to install a missing server', () => {
  it('Debian 12: the backports source derived from debian.sources, then the install from bookworm-backports; no mirror host anywhere', () => {
    const lines = installAdvice('valkey', debian('12')).split('\n');
    expect(lines).toEqual([
      expect.stringContaining('scripts/install-valkey.sh'),
      DERIVE_BACKPORTS_SOURCE,
      'apt-get update && apt-get install -y -t bookworm-backports valkey-server valkey-sentinel',
    ]);
    expect(lines.join('\n')).not.toMatch(/https?:|deb\.debian\.org/);
    expect(installAdvice('valkey', debian('12', { backportsListed: true }))).toMatch(
      /^apt-get update && apt-get install -y -t bookworm-backports valkey-server valkey-sentinel /,
    );
    expect(installAdvice('valkey', debian('12', { debianSources: false }))).toMatch(/lists its sources the old way \(\/etc\/apt\/sources\.list\)/);
  });

  it('scripts/install-valkey.sh runs the very derivation doctor prints', () => {
    expect(readFileSync(join(import.meta.dirname, '..', 'scripts', 'install-valkey.sh'), 'utf8')).toContain(DERIVE_BACKPORTS_SOURCE);
  });

  it('Debian 13 from its main suite, macOS from Homebrew; Redis 8 on Debian 12 only in containers', () => {
    expect(installAdvice('valkey', debian('13'))).toMatch(/^apt-get install -y valkey-server valkey-sentinel /);
    expect(installAdvice('redis', debian('13'))).toBe('apt-get install -y redis-server redis-sentinel redis-tools');
    expect(installAdvice('valkey', { os: {}, debianSources: false, backportsListed: false, brew: true })).toBe('brew install valkey');
    expect(redis8Note(debian('12'), '7.0.15')).toMatch(/--backend container --server redis:8,valkey\/valkey:8/);
    expect(redis8Note(debian('13'), '8.0.2')).toBeUndefined();
  });
});
