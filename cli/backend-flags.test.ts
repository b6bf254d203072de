import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertSecretsGiven, REDACTED, redactSecrets } from '../core/secrets.ts';
import { backendFromFlags, commandLineSecretWarning, passwordsFromEnvironment } from './backend-flags.ts';
import { scenarioFromFlags } from './run-command.ts';
import { topologyOptionsFromFlags } from './topology-command.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-secrets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

const NO_ENV = {};

describe('passwords from a file', () => {
  it('the first line, its line ending stripped', () => {
    expect(backendFromFlags({ redis: '10.0.0.5:6379', 'password-file': file('lf', 'hunter2\n') }).password).toBe('hunter2');
    expect(backendFromFlags({ redis: '10.0.0.5:6379', 'password-file': file('crlf', 'hunter2\r\nsecond line\r\n') }).password).toBe('hunter2');
    expect(backendFromFlags({ sentinels: '10.0.0.5:26379', 'sentinel-password-file': file('bare', 'sentinel pw') }).sentinelPassword).toBe('sentinel pw');
  });

  it('a file that cannot be read, or whose first line is empty, is one line naming the flag', () => {
    const missing = join(scratch, 'missing');
    expect(() => backendFromFlags({ 'password-file': missing })).toThrow(`--password-file ${missing}: cannot read it (ENOENT)`);
    expect(() => backendFromFlags({ 'sentinel-password-file': file('empty', '\nhunter2\n') })).toThrow(/--sentinel-password-file .*: its first line is empty/);
  });

  it('one way per password: a flag and its file, or a URL password and either, is a usage error', () => {
    const path = file('pw', 'a\n');
    expect(() => backendFromFlags({ password: 'a', 'password-file': path })).toThrow('--password and --password-file: give the password one way');
    expect(() => backendFromFlags({ redis: 'redis://:a@h:1', 'password-file': path })).toThrow(
      "--password-file and --redis (a URL's user:password): give the password one way",
    );
    expect(() => backendFromFlags({ 'sentinel-password': 'a', 'sentinel-password-file': path })).toThrow(/give the password one way/);
    // A URL with a user and no password leaves the password to the flag.
    expect(backendFromFlags({ redis: 'redis://app@h:1', 'password-file': path })).toMatchObject({ endpoints: ['redis://app@h:1'], password: 'a' });
  });
});

describe('passwords from the environment', () => {
  const external = (extra: Record<string, unknown> = {}) => ({ kind: 'single', backend: 'external', endpoints: ['10.0.0.5:6379'], ...extra });
  const fill = (topology: Record<string, unknown>, env: NodeJS.ProcessEnv) => {
    passwordsFromEnvironment(topology, env);
    return topology;
  };

  it('TOKENBENCH_REDIS_PASSWORD before REDISCLI_AUTH; TOKENBENCH_SENTINEL_PASSWORD for a sentinel deployment', () => {
    expect(fill(external(), { REDISCLI_AUTH: 'cli' }).password).toBe('cli');
    expect(fill(external(), { REDISCLI_AUTH: 'cli', TOKENBENCH_REDIS_PASSWORD: 'ours' }).password).toBe('ours');
    expect(fill(external(), { REDISCLI_AUTH: '' }).password).toBeUndefined();
    expect(fill(external({ kind: 'sentinel' }), { TOKENBENCH_SENTINEL_PASSWORD: 's' }).sentinelPassword).toBe('s');
    expect(fill(external(), { TOKENBENCH_SENTINEL_PASSWORD: 's' }).sentinelPassword).toBeUndefined();
  });

  it('only when nothing else gave one: a flag, its file, a URL, the scenario file', () => {
    const env = { TOKENBENCH_REDIS_PASSWORD: 'env', TOKENBENCH_SENTINEL_PASSWORD: 'env' };
    expect(fill(external({ password: 'flag' }), env).password).toBe('flag');
    expect(fill(external({ endpoints: ['redis://:url@h:1'] }), env)).toMatchObject({ endpoints: ['redis://:url@h:1'] });
    expect(fill(external({ endpoints: ['redis://:url@h:1'] }), env).password).toBeUndefined();
    expect(fill(external({ kind: 'sentinel', sentinelPassword: 'flag' }), env).sentinelPassword).toBe('flag');
    const path = file('scenario-with-password.json', JSON.stringify({ topology: external({ password: 'in-file' }) }));
    expect(scenarioFromFlags({ scenario: path }, env).topology).toMatchObject({ password: 'in-file' });
    expect(scenarioFromFlags({ scenario: path, 'password-file': file('flag-pw', 'from-flag\n') }, env).topology).toMatchObject({ password: 'from-flag' });
    // The file's URL password would win at login: a flag's takes it out.
    const withUrl = file('scenario-with-url.json', JSON.stringify({ topology: external({ endpoints: ['redis://app:in-url@h:1'] }) }));
    expect(scenarioFromFlags({ scenario: withUrl, password: 'from-flag' }, env).topology).toMatchObject({
      endpoints: ['redis://app@h:1'],
      password: 'from-flag',
    });
    expect(scenarioFromFlags({ scenario: withUrl }, env).topology).toMatchObject({ endpoints: ['redis://app:in-url@h:1'] });
  });

  it('never reaches the process or container backend: a REDISCLI_AUTH kept for redis-cli is no error there', () => {
    const env = { REDISCLI_AUTH: 'cli', TOKENBENCH_SENTINEL_PASSWORD: 's' };
    expect(scenarioFromFlags({ topology: 'sentinel' }, env).topology).not.toHaveProperty('password');
    expect(topologyOptionsFromFlags('single', {}, env)).not.toHaveProperty('password');
    expect(topologyOptionsFromFlags(undefined, { redis: '127.0.0.1:6379' }, env)).toMatchObject({ password: 'cli' });
  });
});

describe('a scenario.json tokenbench wrote, run again', () => {
  const written = (topology: Record<string, unknown>) =>
    file(`scenario-${Math.random().toString(16).slice(2)}.json`, JSON.stringify(redactSecrets({ name: 'again', topology })));

  it('is refused until the password is given; then the marker is gone, from the field and from the URL', () => {
    const path = written({ kind: 'single', backend: 'external', endpoints: ['redis://app:hunter2@10.0.0.5:6379'] });
    const none = scenarioFromFlags({ scenario: path }, NO_ENV);
    expect(none.topology.endpoints).toEqual([`redis://app:${REDACTED}@10.0.0.5:6379`]);
    expect(() => assertSecretsGiven(none)).toThrow(/^topology\.endpoints\[0\]: the secret is <redacted> .*--password-file <path>/);

    for (const given of [
      scenarioFromFlags({ scenario: path }, { REDISCLI_AUTH: 'hunter2' }),
      scenarioFromFlags({ scenario: path, password: 'hunter2' }, NO_ENV),
    ]) {
      expect(given.topology).toMatchObject({ endpoints: ['redis://app@10.0.0.5:6379'], password: 'hunter2' });
      expect(() => assertSecretsGiven(given)).not.toThrow();
    }
  });

  it('the field forms: password and sentinelPassword', () => {
    const path = written({ kind: 'sentinel', backend: 'external', endpoints: ['10.0.0.5:26379'], password: 'a', sentinelPassword: 'b' });
    expect(() => assertSecretsGiven(scenarioFromFlags({ scenario: path }, { REDISCLI_AUTH: 'a' }))).toThrow(
      /^topology\.sentinelPassword: .*TOKENBENCH_SENTINEL_PASSWORD$/,
    );
    const given = scenarioFromFlags({ scenario: path }, { REDISCLI_AUTH: 'a', TOKENBENCH_SENTINEL_PASSWORD: 'b' });
    expect(given.topology).toMatchObject({ password: 'a', sentinelPassword: 'b' });
  });
});

describe('a password on the command line', () => {
  it('is one warning line naming the flag and what to use instead', () => {
    expect(commandLineSecretWarning({ redis: 'redis://127.0.0.1:6379', username: 'app', 'password-file': 'pw' })).toBeUndefined();
    expect(commandLineSecretWarning({ redis: 'redis://app@127.0.0.1:6379' })).toBeUndefined();
    expect(commandLineSecretWarning({ redis: 'redis://:hunter2@127.0.0.1:6379' })).toBe(
      "tokenbench: warning: a password on the command line (the --redis URL's password) shows in ps and shell history; use --password-file <path> or TOKENBENCH_REDIS_PASSWORD instead\n",
    );
    const both = commandLineSecretWarning({ sentinels: 'h:1', password: 'a', 'sentinel-password': 'b', set: ['client.password=c', 'load.rate=5'] })!;
    expect(both).toBe(
      'tokenbench: warning: a password on the command line (--password, --sentinel-password, --set client.password) shows in ps and shell history; use --password-file <path> or TOKENBENCH_REDIS_PASSWORD, or --sentinel-password-file <path> or TOKENBENCH_SENTINEL_PASSWORD, or a scenario file (--scenario) instead\n',
    );
    for (const secret of ['hunter2', "'a'", "'b'", '=c']) expect(both).not.toContain(secret);
  });
});
