import { describe, expect, it } from 'vitest';
import { ERROR_EXIT_CODES } from './errors.ts';
import { assertSecretsGiven, REDACTED, redactedFields, redactSecrets, redactUrls, SecretMissingError, urlPassword, withoutUrlPassword } from './secrets.ts';
import { parseOrThrow } from './validation.ts';

describe('redactUrls', () => {
  it.each([
    ['redis://:p@h:1', 'redis://:<redacted>@h:1'],
    ['rediss://user:p@h:1', 'rediss://user:<redacted>@h:1'],
    ['redis://user:p@[::1]:6379/0', 'redis://user:<redacted>@[::1]:6379/0'],
    // Percent-encoded: neither the encoded nor the decoded form survives.
    ['redis://:p%40ss%3Aw0rd@h:1', 'redis://:<redacted>@h:1'],
    ['rediss://us%40er:s3cr%2Fet@h:1', 'rediss://us%40er:<redacted>@h:1'],
    // Unencoded @, / or : inside the password: everything up to the last @ is userinfo.
    ['redis://:p@ss/w:rd@h:1', 'redis://:<redacted>@h:1'],
  ])('%s -> %s', (url, redacted) => {
    expect(redactUrls(url)).toBe(redacted);
    expect(redactUrls(redacted)).toBe(redacted);
  });

  it.each([['redis://user@h:1'], ['redis://h:1'], ['redis://user:@h:1'], ['10.0.0.5:6379'], ['[::1]:6379'], ['no url here: a@b']])(
    'leaves %s alone: no password in it',
    (text) => {
      expect(redactUrls(text)).toBe(text);
      expect(urlPassword(text)).toBeUndefined();
    },
  );

  it('finds URLs inside text, each one', () => {
    expect(redactUrls('redis://:a@h:1 did not answer; tried rediss://u:b@k:2 too')).toBe(
      'redis://:<redacted>@h:1 did not answer; tried rediss://u:<redacted>@k:2 too',
    );
  });

  it('withoutUrlPassword keeps the username and drops an empty userinfo; urlPassword gives the password as written', () => {
    expect(withoutUrlPassword('redis://:<redacted>@h:1')).toBe('redis://h:1');
    expect(withoutUrlPassword('redis://user:<redacted>@h:1')).toBe('redis://user@h:1');
    expect(withoutUrlPassword('redis://user@h:1')).toBe('redis://user@h:1');
    expect(urlPassword('redis://u:p%40ss@h:1')).toBe('p%40ss');
  });
});

const SCENARIO = {
  name: 'external',
  topology: {
    kind: 'sentinel',
    backend: 'external',
    endpoints: ['redis://admin:hunter2@10.0.0.5:26379', '10.0.0.6:26379'],
    username: 'admin',
    password: 'hunter2',
    sentinelPassword: 'sentinel-pw',
    masterName: 'mymaster',
  },
  client: { password: 'client-pw', username: 'app', commandTimeout: 1000 },
  jwt: { alg: 'HS256', keys: { secret: 'x'.repeat(32), publicKeyPem: 'PUBLIC', privateKeyPem: 'PRIVATE' } },
  strategies: ['blacklist', { name: 'whitelist', jwt: { keys: { secret: 'y'.repeat(32) } } }],
  topologies: [{ topology: { kind: 'single', backend: 'external', endpoints: ['rediss://:matrix-pw@h:1'] } }],
  load: { rate: 1000 },
};

describe('redactSecrets', () => {
  it('replaces every password and signing key, keeps usernames, the public key and everything else', () => {
    const before = structuredClone(SCENARIO);
    const redacted = redactSecrets(SCENARIO);
    expect(SCENARIO).toEqual(before);
    expect(redacted).toEqual({
      ...SCENARIO,
      topology: {
        ...SCENARIO.topology,
        endpoints: ['redis://admin:<redacted>@10.0.0.5:26379', '10.0.0.6:26379'],
        password: REDACTED,
        sentinelPassword: REDACTED,
      },
      client: { password: REDACTED, username: 'app', commandTimeout: 1000 },
      jwt: { alg: 'HS256', keys: { secret: REDACTED, publicKeyPem: 'PUBLIC', privateKeyPem: REDACTED } },
      strategies: ['blacklist', { name: 'whitelist', jwt: { keys: { secret: REDACTED } } }],
      topologies: [{ topology: { kind: 'single', backend: 'external', endpoints: ['rediss://:<redacted>@h:1'] } }],
    });
    for (const secret of ['hunter2', 'sentinel-pw', 'client-pw', 'x'.repeat(32), 'y'.repeat(32), 'PRIVATE', 'matrix-pw'])
      expect(JSON.stringify(redacted)).not.toContain(secret);
  });

  it('a lone value under a secret field name', () => {
    expect(redactSecrets('hunter2', 'password')).toBe(REDACTED);
    expect(redactSecrets('hunter2', 'username')).toBe('hunter2');
    expect(redactSecrets(42)).toBe(42);
  });
});

describe('a redacted scenario run again', () => {
  it('names every field that holds the marker', () => {
    expect(redactedFields(redactSecrets(SCENARIO)).map((f) => f.path)).toEqual([
      'topology.endpoints[0]',
      'topology.password',
      'topology.sentinelPassword',
      'client.password',
      'jwt.keys.secret',
      'jwt.keys.privateKeyPem',
      'strategies[1].jwt.keys.secret',
      'topologies[0].topology.endpoints[0]',
    ]);
    expect(redactedFields(SCENARIO)).toEqual([]);
    // As a URL parser re-encodes it; a malformed escape is no marker and no crash.
    expect(redactedFields({ endpoints: ['redis://:%3Credacted%3E@h:1', 'redis://:%zz@h:1'] })).toEqual([{ path: 'endpoints[0]', field: 'password' }]);
  });

  it('is refused with one line: which secret, and how to give it; exit 2', () => {
    expect(() => assertSecretsGiven(SCENARIO)).not.toThrow();
    const cases: [object, RegExp][] = [
      [
        { topology: { endpoints: ['redis://:<redacted>@h:1'] } },
        /^topology\.endpoints\[0\]: .*<redacted>.*--password-file <path>, TOKENBENCH_REDIS_PASSWORD or REDISCLI_AUTH$/,
      ],
      [{ topology: { password: REDACTED } }, /^topology\.password: .*--password-file <path>/],
      [{ topology: { sentinelPassword: REDACTED } }, /^topology\.sentinelPassword: .*--sentinel-password-file <path> or TOKENBENCH_SENTINEL_PASSWORD$/],
      [{ client: { password: REDACTED } }, /^client\.password: .*scenario file/],
      [{ jwt: { keys: { secret: REDACTED } } }, /^jwt\.keys\.secret: .*leave the field out/],
    ];
    for (const [scenario, message] of cases) {
      let thrown: unknown;
      try {
        assertSecretsGiven(scenario);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SecretMissingError);
      expect((thrown as SecretMissingError).message).toMatch(message);
      expect((thrown as SecretMissingError).message).not.toContain('\n');
      expect(ERROR_EXIT_CODES[(thrown as SecretMissingError).code]).toBe(2);
    }
  });
});

describe('validation errors', () => {
  it('show a secret field or a URL in the value given redacted', async () => {
    const { z } = await import('zod');
    const schema = z.strictObject({ password: z.string().min(20), endpoints: z.array(z.string().regex(/^\d+$/)) });
    expect(() => parseOrThrow(schema, { password: 'hunter2', endpoints: ['1'] })).toThrow("password: expected a string of length >= 20, got '<redacted>'");
    expect(() => parseOrThrow(schema, { password: 'x'.repeat(20), endpoints: ['redis://:hunter2@h:1'] })).toThrow(
      /endpoints\[0\]: .*got 'redis:\/\/:<redacted>@h:1'$/,
    );
  });
});
