import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../core/errors.ts';
import { ackOf, classifyStatus, extractToken, fill, fillJson, issuedOf, tokenIdentity, verdictOf } from './mapping.ts';
import { normalizeHttpTarget, RESPONSE_DEFAULTS } from './options.ts';

const responses = { ...RESPONSE_DEFAULTS };
const answer = (status: number, body = '', headers: Record<string, string> = {}) => ({ status, body, headers });
const token = { subject: 'u1', jti: 'j1', issuedAtMs: 0, expiresAtMs: 1 };
const jwt = (payload: object) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

describe('response mapping (defaults)', () => {
  it('classifies statuses: 2xx accepted, 401/403 rejected, 5xx unavailable, the rest unexpected', () => {
    expect([200, 204, 401, 403, 500, 503, 404, 302].map((s) => classifyStatus(s, responses))).toEqual([
      'accepted',
      'accepted',
      'rejected',
      'rejected',
      'unavailable',
      'unavailable',
      'unexpected',
      'unexpected',
    ]);
    expect(classifyStatus(503, { ...responses, refused: ['503'] })).toBe('refused');
  });

  it('verify: accepted, rejected as revoked, degraded on 5xx and on no answer, thrown on an unexpected status', () => {
    expect(verdictOf('GET /me', answer(200), token, responses)).toEqual({ ok: true, subject: 'u1', jti: 'j1', redisOps: 0 });
    expect(verdictOf('GET /me', answer(401, '{"error":"revoked"}'), token, responses)).toEqual({
      ok: false,
      code: 'ERR_REVOKED',
      detail: 'HTTP 401 {"error":"revoked"}',
      redisOps: 0,
    });
    expect(verdictOf('GET /me', answer(503), token, responses)).toMatchObject({ ok: false, code: 'ERR_STORE_UNAVAILABLE', degraded: true });
    expect(verdictOf('GET /me', { kind: 'timeout', message: 't' }, token, responses)).toMatchObject({
      ok: false,
      code: 'ERR_STORE_UNAVAILABLE',
      degraded: true,
    });
    expect(() => verdictOf('GET /me', answer(404), token, responses)).toThrow('GET /me answered HTTP 404');
  });

  it('writes: acked on 2xx, fail when refused or rejected or never sent, info when the outcome is unknown', () => {
    expect(ackOf('POST /logout', answer(204), responses)).toEqual({ ok: true, redisOps: 0, stored: true });
    expect(ackOf('POST /logout', answer(401), responses)).toMatchObject({ ok: false, indeterminate: false });
    expect(ackOf('POST /logout', answer(503), responses)).toMatchObject({ ok: false, code: 'ERR_STORE_UNAVAILABLE', indeterminate: true });
    expect(ackOf('POST /logout', answer(503), { ...responses, refused: ['503'] })).toMatchObject({ ok: false, indeterminate: false });
    expect(ackOf('POST /logout', { kind: 'timeout', message: 't' }, responses)).toMatchObject({ indeterminate: true });
    expect(ackOf('POST /logout', { kind: 'lost', message: 'reset' }, responses)).toMatchObject({ indeterminate: true });
    expect(ackOf('POST /logout', { kind: 'connect', message: 'refused' }, responses)).toMatchObject({ indeterminate: false });
  });

  it('login: the token from a JSON path or a header; 5xx a failed issue; a 2xx without a token a configuration error', () => {
    const login = { token: 'data.token', ttl: 60_000 };
    const issued = issuedOf('POST /login', answer(200, JSON.stringify({ data: { token: 'opaque' } })), login, responses, 'u1', 5_000);
    expect(issued).toMatchObject({ ok: true, accessToken: 'opaque', subject: 'u1', issuedAtMs: 5_000, accessExpiresAtMs: 65_000 });
    expect(extractToken(answer(200, '', { 'x-token': 'Bearer abc' }), { header: 'X-Token' })).toBe('abc');
    expect(issuedOf('POST /login', answer(503), login, responses, 'u1', 0)).toMatchObject({ ok: false, indeterminate: false });
    expect(issuedOf('POST /login', { kind: 'timeout', message: 't' }, login, responses, 'u1', 0)).toMatchObject({ ok: false, indeterminate: true });
    expect(() => issuedOf('POST /login', answer(200, '{}'), login, responses, 'u1', 0)).toThrow("without a token in the body's data.token");
  });
});

describe('token identity', () => {
  it('reads jti, iat_ms and exp from a JWT; leans the issue time late when only iat (seconds) is there', () => {
    expect(tokenIdentity(jwt({ jti: 'a', iat_ms: 1_234, exp: 10 }), 'u', 9_999, 0)).toEqual({ subject: 'u', jti: 'a', issuedAtMs: 1_234, expiresAtMs: 10_000 });
    expect(tokenIdentity(jwt({ jti: 'a', iat: 1, exp: 10 }), 'u', 1_500, 0).issuedAtMs).toBe(1_500);
    expect(tokenIdentity(jwt({ jti: 'a', iat: 1, exp: 10 }), 'u', 5_000, 0).issuedAtMs).toBe(1_999);
  });

  it('an opaque token: a stable hash for its jti, the answer time, the configured lifetime', () => {
    const a = tokenIdentity('opaque-1', 'u', 100, 50);
    expect(a).toMatchObject({ issuedAtMs: 100, expiresAtMs: 150 });
    expect(tokenIdentity('opaque-1', 'u', 0, 0).jti).toBe(a.jti);
    expect(tokenIdentity('opaque-2', 'u', 0, 0).jti).not.toBe(a.jti);
  });
});

describe('templates', () => {
  it('fills {{token}} and {{subject}}, URL-encoded in paths', () => {
    expect(fill('/users/{{subject}}/revoke-all', { subject: 'a/b c' }, encodeURIComponent)).toBe('/users/a%2Fb%20c/revoke-all');
    expect(fillJson({ user: { id: '{{subject}}' }, n: 1, list: ['{{token}}'] }, { subject: 's', token: 't' })).toEqual({
      user: { id: 's' },
      n: 1,
      list: ['t'],
    });
  });
});

describe('the http entry schema', () => {
  const target = { baseUrl: 'http://127.0.0.1:1', login: { path: '/login' }, verify: { path: '/me' }, logout: { path: '/logout' } };
  const label = (path: readonly PropertyKey[]) => ['http', ...path].join('.');

  it('fills the defaults: Bearer header, accessToken, 2xx / 401, 403 / 5xx', () => {
    const parsed = normalizeHttpTarget(target, label);
    expect(parsed.verify).toEqual({ method: 'GET', path: '/me', header: 'Authorization: Bearer {{token}}' });
    expect(parsed.login).toMatchObject({ method: 'POST', token: 'accessToken', body: { subject: '{{subject}}' } });
    expect(parsed.responses).toEqual({ accepted: ['2xx'], rejected: ['401', '403'], unavailable: ['5xx'], refused: [] });
  });

  it('names the field of a bad value', () => {
    expect(() => normalizeHttpTarget({ ...target, verify: { path: 'me' } }, label)).toThrow(InvalidOptionError);
    expect(() => normalizeHttpTarget({ ...target, verify: { path: 'me' } }, label)).toThrow(/^http\.verify\.path: expected a path starting with \//);
    expect(() => normalizeHttpTarget({ ...target, responses: { rejected: ['4yy'] } }, label)).toThrow(/^http\.responses\.rejected\.0: expected/);
    expect(() => normalizeHttpTarget({ ...target, baseUrl: 'ftp://x' }, label)).toThrow(/^http\.baseUrl: expected an http:\/\/ or https:\/\/ URL/);
  });
});
