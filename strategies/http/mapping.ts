/**
 * How an HTTP service's answers become the harness's verdicts and acks. Pure: no sockets, so the
 * table the README documents is the table tested.
 */
import { createHash } from 'node:crypto';
import type { Ack, Issued, Verdict } from '../types.ts';
import type { HttpTarget } from './options.ts';

export type StatusOutcome = 'accepted' | 'rejected' | 'unavailable' | 'refused' | 'unexpected';

/** A response as the mapping needs it: status, the headers it reads, the body text. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * No response: `connect` (refused, unreachable, connect timeout: the request never left, so a
 * write did not happen), `timeout` or `lost` (sent, then no complete answer: it may have).
 */
export interface TransportFailure {
  kind: 'connect' | 'timeout' | 'lost';
  message: string;
}

function matches(status: number, pattern: string): boolean {
  return pattern.endsWith('xx') ? Math.floor(status / 100) === Number(pattern[0]) : status === Number(pattern);
}

/** First match in the order accepted, rejected, refused, unavailable: refused narrows unavailable. */
export function classifyStatus(status: number, responses: HttpTarget['responses']): StatusOutcome {
  if (responses.accepted.some((p) => matches(status, p))) return 'accepted';
  if (responses.rejected.some((p) => matches(status, p))) return 'rejected';
  if (responses.refused.some((p) => matches(status, p))) return 'refused';
  if (responses.unavailable.some((p) => matches(status, p))) return 'unavailable';
  return 'unexpected';
}

const DETAIL_CHARS = 120;
function describe(answer: HttpAnswer): string {
  const body = answer.body.replace(/\s+/g, ' ').trim();
  return `HTTP ${answer.status}${body ? ` ${body.length > DETAIL_CHARS ? `${body.slice(0, DETAIL_CHARS)}...` : body}` : ''}`;
}

/** A status no list names: thrown, so the engine records the op as info with this message. */
export class UnexpectedResponseError extends Error {
  constructor(route: string, answer: HttpAnswer) {
    super(`${route} answered ${describe(answer)}: a status in none of responses.accepted / rejected / unavailable / refused`);
  }
}

export function isTransportFailure(x: HttpAnswer | TransportFailure): x is TransportFailure {
  return 'kind' in x;
}

/**
 * verify. A rejection (401 / 403) is ERR_REVOKED: nothing else tells the checkers why a token the
 * service itself issued, unexpired, was refused, and that code is what they read either way: for a
 * revoked token it is the rejection they expect, for a valid one it is a lost entry (valid-rejected
 * counts it). 5xx, timeouts and lost connections are the service saying (or showing) that its
 * store did not answer: a degraded rejection, as a fail-closed strategy of ours gives.
 * redisOps is 0: the service's Redis traffic is not the harness's to count (the strategy says so).
 */
export function verdictOf(route: string, result: HttpAnswer | TransportFailure, token: TokenIdentity, responses: HttpTarget['responses']): Verdict {
  if (isTransportFailure(result)) return { ok: false, code: 'ERR_STORE_UNAVAILABLE', detail: `${result.kind}: ${result.message}`, redisOps: 0, degraded: true };
  switch (classifyStatus(result.status, responses)) {
    case 'accepted':
      return { ok: true, subject: token.subject, jti: token.jti, redisOps: 0 };
    case 'rejected':
      return { ok: false, code: 'ERR_REVOKED', detail: describe(result), redisOps: 0 };
    case 'refused':
    case 'unavailable':
      return { ok: false, code: 'ERR_STORE_UNAVAILABLE', detail: describe(result), redisOps: 0, degraded: true };
    case 'unexpected':
      throw new UnexpectedResponseError(route, result);
  }
}

/**
 * logout and revoke-all. Acknowledged on 2xx. A rejection or a refused status means the service
 * did nothing (fail). Any other 5xx, a timeout or a connection lost after sending: the service's
 * write may have landed before it gave up (its Redis timed out after the command was sent), so
 * the outcome is unknown (indeterminate: info). A request that never connected wrote nothing.
 */
export function ackOf(route: string, result: HttpAnswer | TransportFailure, responses: HttpTarget['responses']): Ack {
  if (isTransportFailure(result))
    return { ok: false, code: 'ERR_STORE_UNAVAILABLE', indeterminate: result.kind !== 'connect', redisOps: 0, error: `${result.kind}: ${result.message}` };
  switch (classifyStatus(result.status, responses)) {
    case 'accepted':
      return { ok: true, redisOps: 0, stored: true };
    case 'rejected':
      return { ok: false, code: 'ERR_REVOKED', indeterminate: false, redisOps: 0, error: describe(result) };
    case 'refused':
      return { ok: false, code: 'ERR_STORE_UNAVAILABLE', indeterminate: false, redisOps: 0, error: describe(result) };
    case 'unavailable':
      return { ok: false, code: 'ERR_STORE_UNAVAILABLE', indeterminate: true, redisOps: 0, error: describe(result) };
    case 'unexpected':
      throw new UnexpectedResponseError(route, result);
  }
}

/** What the checkers need of a token: whose it is, an id, and when it was issued and expires (Unix ms). */
export interface TokenIdentity {
  subject: string;
  jti: string;
  issuedAtMs: number;
  expiresAtMs: number;
}

interface Claims {
  sub?: unknown;
  jti?: unknown;
  iat?: unknown;
  iat_ms?: unknown;
  exp?: unknown;
}

/** A JWT's payload, read without verifying (the service verifies it); undefined for an opaque token. */
function claimsOf(token: string): Claims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    return payload !== null && typeof payload === 'object' ? (payload as Claims) : undefined;
  } catch {
    return undefined;
  }
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * The token's identity from its own claims where it has them. Issue time: iat_ms, else the latest
 * instant iat (whole seconds) allows, no later than the login's answer: a revokeAll is only
 * claimed to cover a token issued before it was invoked, so leaning late never reports a violation
 * the service did not commit. Without claims: the answer's time, the jti a hash of the token, and
 * `ttlMs` for the lifetime.
 */
export function tokenIdentity(token: string, subject: string, receivedAtMs: number, ttlMs: number): TokenIdentity {
  const claims = claimsOf(token);
  const issuedAtMs = finite(claims?.iat_ms) ? claims.iat_ms : finite(claims?.iat) ? Math.min(receivedAtMs, claims.iat * 1000 + 999) : receivedAtMs;
  return {
    subject: typeof claims?.sub === 'string' ? claims.sub : subject,
    jti: typeof claims?.jti === 'string' && claims.jti !== '' ? claims.jti : createHash('sha256').update(token).digest('base64url').slice(0, 22),
    issuedAtMs,
    expiresAtMs: finite(claims?.exp) ? claims.exp * 1000 : issuedAtMs + ttlMs,
  };
}

/** The access token in a login answer, where `login.token` says it is. */
export function extractToken(answer: HttpAnswer, where: HttpTarget['login']['token']): string | undefined {
  if (typeof where === 'object') {
    const raw = answer.headers[where.header.toLowerCase()];
    const value = Array.isArray(raw) ? raw[0] : raw;
    return value?.replace(/^Bearer\s+/i, '') || undefined;
  }
  let node: unknown;
  try {
    node = JSON.parse(answer.body);
  } catch {
    return undefined;
  }
  for (const key of where.split('.')) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return typeof node === 'string' && node !== '' ? node : undefined;
}

/**
 * login. A token: issued. Unavailable (5xx) or refused: no token was handed out, so there is
 * nothing to verify later (fail). A timeout or a lost connection: the service may have minted one
 * (info). A 2xx without a token, a rejection or an unexpected status is a configuration error:
 * thrown, so a login at the start of a run stops it with this message.
 */
export function issuedOf(
  route: string,
  result: HttpAnswer | TransportFailure,
  login: Pick<HttpTarget['login'], 'token' | 'ttl'>,
  responses: HttpTarget['responses'],
  subject: string,
  receivedAtMs: number,
): Issued {
  if (isTransportFailure(result))
    return { ok: false, code: 'ERR_STORE_UNAVAILABLE', indeterminate: result.kind !== 'connect', redisOps: 0, error: `${result.kind}: ${result.message}` };
  const outcome = classifyStatus(result.status, responses);
  if (outcome === 'unavailable' || outcome === 'refused')
    return { ok: false, code: 'ERR_STORE_UNAVAILABLE', indeterminate: false, redisOps: 0, error: describe(result) };
  if (outcome !== 'accepted') throw new UnexpectedResponseError(route, result);
  const accessToken = extractToken(result, login.token);
  if (accessToken === undefined) {
    const where = typeof login.token === 'string' ? `the body's ${login.token}` : `the ${login.token.header} header`;
    throw new Error(`${route} answered ${describe(result)} without a token in ${where} (set login.token)`);
  }
  const id = tokenIdentity(accessToken, subject, receivedAtMs, login.ttl);
  // The workload's subject, whatever the service calls the user in its claims.
  return { ok: true, accessToken, subject, jti: id.jti, issuedAtMs: id.issuedAtMs, accessExpiresAtMs: id.expiresAtMs, redisOps: 0 };
}

/** {{token}} and {{subject}} in a string. */
export function fill(template: string, values: { token?: string; subject?: string }, encode: (s: string) => string = (s) => s): string {
  return template.replace(/\{\{(token|subject)\}\}/g, (whole, name: 'token' | 'subject') => {
    const value = values[name];
    return value === undefined ? whole : encode(value);
  });
}

/** A JSON body template with every string filled in. */
export function fillJson(template: unknown, values: { token?: string; subject?: string }): unknown {
  if (typeof template === 'string') return fill(template, values);
  if (Array.isArray(template)) return template.map((v) => fillJson(v, values));
  if (template !== null && typeof template === 'object')
    return Object.fromEntries(Object.entries(template as Record<string, unknown>).map(([k, v]) => [k, fillJson(v, values)]));
  return template;
}
