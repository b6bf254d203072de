import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultFile } from '../../result/schema.ts';
import { startTopology } from '../../topologies/topology.ts';
import type { StartedTopology } from '../../topologies/types.ts';
import { stderrBesidesRunLines, tokenbench } from './helpers.ts';

/** `:`, `/` and `@` must be percent-encoded in a URL: the encoded form is searched for too, and the random part alone. */
const UNIQUE = randomBytes(8).toString('hex');
const SECRET = `Tb:s3cr/t@${UNIQUE}`;
const FORMS = [SECRET, encodeURIComponent(SECRET), UNIQUE];
const leaks = (text: string) => FORMS.filter((form) => text.includes(form));

/** No password from the machine's own environment: each test says where its password comes from. */
const NO_SECRETS_ENV = { REDISCLI_AUTH: undefined, TOKENBENCH_REDIS_PASSWORD: undefined, TOKENBENCH_SENTINEL_PASSWORD: undefined };
const RUN = ['--strategy', 'blacklist', '--quick', '--duration', '1s', '--rate', '300'];

const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-secrets-test-'));
const out = (name: string) => join(scratch, name);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every file a command left, searched for every form of the password. */
function expectNoSecretIn(dir: string): string[] {
  const files = filesUnder(dir);
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) expect(leaks(readFileSync(file, 'utf8')), file).toEqual([]);
  return files.map((f) => f.slice(dir.length + 1)).sort();
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

/** A Redis that refuses every command until AUTH with SECRET: the deployment a run has to log in to. */
describe.sequential('no secret in any artefact', () => {
  let owned: StartedTopology;
  let admin: Redis;
  let port: number;
  beforeAll(async () => {
    owned = await startTopology({ kind: 'single' });
    port = owned.nodes()[0]!.port;
    admin = owned.client() as Redis;
    await admin.config('SET', 'requirepass', SECRET);
    const anonymous = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    anonymous.on('error', () => {});
    try {
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  });
  afterAll(async () => {
    admin?.disconnect();
    await owned?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('in the --redis URL: one warning, the run logs in, and every file says <redacted> with the username kept', async () => {
    const r = await tokenbench(
      ['run', '--redis', `redis://default:${encodeURIComponent(SECRET)}@127.0.0.1:${port}`, ...RUN, '--ci-outputs', 'all', '--out', out('url')],
      NO_SECRETS_ENV,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(stderrBesidesRunLines(r.stderr)).toMatch(
      /^tokenbench: warning: a password on the command line \(the --redis URL's password\) shows in ps and shell history; use --password-file <path> or TOKENBENCH_REDIS_PASSWORD instead$/,
    );
    expect(leaks(r.stdout + r.stderr)).toEqual([]);
    const files = expectNoSecretIn(out('url'));
    expect(files).toEqual(
      expect.arrayContaining(['report.html', 'report.md', 'result.json', 'scenario.json', 'junit.xml', 'summary.md', 'metrics.om.txt', 'hdr/0-blacklist.hlog']),
    );
    expect(files.some((f) => /^history-.*\.ndjson$/.test(f))).toBe(true);
    const scenario = readJson<{ topology: { endpoints: string[] } }>(join(out('url'), 'scenario.json'));
    expect(scenario.topology.endpoints).toEqual([`redis://default:<redacted>@127.0.0.1:${port}`]);
    const result = readJson<ResultFile>(join(out('url'), 'result.json'));
    expect(result.scenario).toEqual(scenario);
    expect(result.runs[0]!.load.completedOps).toBeGreaterThan(0);
    expect(readFileSync(join(out('url'), 'report.md'), 'utf8')).toContain('redis://default:<redacted>@');
  });

  it('from TOKENBENCH_REDIS_PASSWORD, and from --password-file: no warning, the same redacted files', async () => {
    const passwordFile = join(scratch, 'redis-password');
    writeFileSync(passwordFile, `${SECRET}\n`);
    const address = ['--redis', `redis://127.0.0.1:${port}`];
    const fromEnv = await tokenbench(['run', ...address, ...RUN, '--out', out('env')], { ...NO_SECRETS_ENV, TOKENBENCH_REDIS_PASSWORD: SECRET });
    const fromFile = await tokenbench(['run', ...address, ...RUN, '--password-file', passwordFile, '--out', out('file')], NO_SECRETS_ENV);
    for (const [name, r] of [
      ['env', fromEnv],
      ['file', fromFile],
    ] as const) {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(stderrBesidesRunLines(r.stderr)).toBe('');
      expect(leaks(r.stdout)).toEqual([]);
      expectNoSecretIn(out(name));
      expect(readJson<{ topology: { password: string } }>(join(out(name), 'scenario.json')).topology.password).toBe('<redacted>');
      expect(readJson<ResultFile>(join(out(name), 'result.json')).runs[0]!.load.completedOps).toBeGreaterThan(0);
    }
  });

  it('run --scenario <out>/scenario.json: one line naming the missing secret and how to give it, then runs with REDISCLI_AUTH', async () => {
    const again = ['run', '--scenario', join(out('url'), 'scenario.json'), ...RUN];
    const refused = await tokenbench([...again, '--out', out('refused')], NO_SECRETS_ENV);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(
      /^tokenbench: topology\.endpoints\[0\]: the secret is <redacted> \(tokenbench never writes one\); give the data nodes' password with --password-file <path>, TOKENBENCH_REDIS_PASSWORD or REDISCLI_AUTH$/,
    );
    expect(existsSync(out('refused'))).toBe(false);

    const given = await tokenbench([...again, '--out', out('again')], { ...NO_SECRETS_ENV, REDISCLI_AUTH: SECRET });
    expect(given.exitCode, given.stderr).toBe(0);
    expect(stderrBesidesRunLines(given.stderr)).toBe('');
    expectNoSecretIn(out('again'));
    expect(readJson<{ topology: object }>(join(out('again'), 'scenario.json')).topology).toMatchObject({
      endpoints: [`redis://default@127.0.0.1:${port}`],
      password: '<redacted>',
    });
  });

  it('compare, report and merge: nothing of the password, from these results or from old ones that still hold it', async () => {
    const compared = await tokenbench(['compare', join(out('env'), 'result.json'), join(out('file'), 'result.json')]);
    // Compared (0, or 1 when two short runs' latencies cross a threshold), not refused as another scenario.
    expect([0, 1], compared.stderr).toContain(compared.exitCode);
    expect(compared.stdout).toContain('blacklist (single)');
    // A URL with userinfo against a password field: the scenarios differ, and the differences are shown redacted.
    const differing = await tokenbench(['compare', join(out('url'), 'result.json'), join(out('env'), 'result.json')]);
    expect(differing.exitCode).toBe(2);
    expect(differing.stderr).toMatch(/scenario differs .*topology\.endpoints\[0\] redis:\/\/default:<redacted>@127\.0\.0\.1:\d+ vs redis:\/\/127\.0\.0\.1:\d+/);
    expect(differing.stderr).toContain('topology.password (absent) vs <redacted>');

    // Results written before redaction existed: the password in the field and in the URL.
    const old = (password: string, name: string) => {
      const result = readJson<ResultFile>(join(out('url'), 'result.json'));
      result.scenario.topology = {
        ...(result.scenario.topology as object),
        endpoints: [`redis://default:${encodeURIComponent(password)}@127.0.0.1:${port}`],
        password,
      };
      const path = join(scratch, name);
      writeFileSync(path, JSON.stringify(result));
      return path;
    };
    const oldA = old(SECRET, 'old-a.json');
    const oldB = old(`${SECRET}-rotated`, 'old-b.json');
    const outputs = [
      await tokenbench(['compare', oldA, oldB, '--markdown']),
      await tokenbench(['compare', oldA, join(out('env'), 'result.json')]),
      await tokenbench(['report', oldA]),
      await tokenbench(['report', oldA, '--format', 'html']),
      await tokenbench(['report', oldA, '--format', 'json']),
      await tokenbench(['merge', oldA, oldB]),
      await tokenbench(['compare', oldA, oldB, '--json']),
      ...(await Promise.all(
        ['junit', 'benchmark-action', 'bencher', 'openmetrics', 'summary'].map((format) => tokenbench(['report', oldA, '--format', format])),
      )),
    ];
    expect(outputs.map((r) => r.exitCode)).toEqual([0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(outputs[0]!.stdout).toContain('no threshold crossed');
    for (const r of outputs) expect(leaks(r.stdout + r.stderr)).toEqual([]);
    expect(outputs[2]!.stdout).toContain('"password": "<redacted>"');
    expect(readJson<ResultFile>(join(scratch, 'old-a.json')).scenario).toHaveProperty('topology.password', SECRET);
  });
});
