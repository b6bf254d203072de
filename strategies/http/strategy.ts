import { Pool } from 'undici';
import type { Ack, Guarantee, Issued, Strategy, Verdict } from '../types.ts';
import { ackOf, fill, fillJson, type HttpAnswer, issuedOf, type TransportFailure, tokenIdentity, verdictOf } from './mapping.ts';
import type { HttpTarget } from './options.ts';

/** Errors raised before the request left: nothing reached the service. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

interface RouteSpec {
  method: string;
  path: string;
  header?: string | null;
  headers?: Record<string, string> | undefined;
  body?: unknown;
}

type Values = { token?: string; subject?: string };

/**
 * A running service as a strategy: issue is its login, verify its protected route, revoke its
 * logout, revokeAll its revoke-all route. One keep-alive pool per strategy instance (so per load
 * generator thread), without pipelining: a slow answer holds up only its own connection.
 */
export class HttpStrategy implements Strategy {
  readonly name = 'http' as const;
  readonly label: string;
  readonly guarantee: Guarantee;
  /** The JWT engine is the service's own. */
  readonly engine = 'service' as const;
  /** The service's Redis traffic is its own: no round trips, no acknowledging node the harness could see. */
  readonly redisVisible = false as const;
  readonly #target: HttpTarget;
  readonly #pool: Pool;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(target: HttpTarget, options: { label?: string; guarantee?: Guarantee; timeoutMs: number; now?: () => number }) {
    this.#target = target;
    this.label = options.label ?? 'http service';
    this.guarantee = options.guarantee ?? 'immediate';
    this.#timeoutMs = target.timeout ?? options.timeoutMs;
    this.#now = options.now ?? Date.now;
    const url = new URL(target.baseUrl);
    this.#prefix = url.pathname.replace(/\/$/, '');
    this.#pool = new Pool(url.origin, {
      connections: target.connections,
      pipelining: 1,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
      connectTimeout: this.#timeoutMs,
    });
  }

  async #call(route: RouteSpec, values: Values): Promise<HttpAnswer | TransportFailure> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(route.headers ?? {})) headers[name.toLowerCase()] = fill(value, values);
    if (route.header) {
      const colon = route.header.indexOf(':');
      headers[route.header.slice(0, colon).trim().toLowerCase()] = fill(route.header.slice(colon + 1).trim(), values);
    }
    let body: string | undefined;
    if (route.body !== undefined) {
      body = JSON.stringify(fillJson(route.body, values));
      headers['content-type'] ??= 'application/json';
    }
    try {
      const response = await this.#pool.request({
        method: route.method as 'GET',
        path: this.#prefix + fill(route.path, values, encodeURIComponent),
        headers,
        ...(body !== undefined && { body }),
      });
      // Read to the end: a body left unread holds its connection.
      return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      const kind = CONNECT_ERRORS.has(code) ? 'connect' : TIMEOUT_ERRORS.has(code) ? 'timeout' : 'lost';
      return { kind, message: `${route.method} ${route.path}: ${(error as Error).message}${code ? ` (${code})` : ''}` };
    }
  }

  #routeName(route: RouteSpec): string {
    return `${route.method} ${route.path}`;
  }

  async issue(subject: string): Promise<Issued> {
    const login = this.#target.login;
    const result = await this.#call(login, { subject });
    return issuedOf(this.#routeName(login), result, login, this.#target.responses, subject, this.#now());
  }

  async verify(token: string): Promise<Verdict> {
    const result = await this.#call(this.#target.verify, { token });
    // Only its subject and jti are read off a verdict: the token's own claims, if it has any.
    return verdictOf(this.#routeName(this.#target.verify), result, tokenIdentity(token, '', 0, 0), this.#target.responses);
  }

  async revoke(token: string): Promise<Ack> {
    return ackOf(this.#routeName(this.#target.logout), await this.#call(this.#target.logout, { token }), this.#target.responses);
  }

  /**
   * Without a revoke-all route nothing is revoked, and the ack must not say otherwise: an
   * acknowledged revokeAll makes the checkers expect every earlier token of the user rejected.
   */
  async revokeAll(subject: string): Promise<Ack> {
    const route = this.#target.revokeAll;
    if (!route)
      return { ok: false, code: 'ERR_NOT_SUPPORTED', indeterminate: false, redisOps: 0, error: 'no http.revokeAll route configured: nothing revoked' };
    return ackOf(this.#routeName(route), await this.#call(route, { subject }), this.#target.responses);
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
