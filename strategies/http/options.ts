import { z } from 'zod';
import { durationSchema } from '../../core/duration.ts';
import { parseOrThrow } from '../../core/validation.ts';

/** `2xx`, `401`, 503: a status or a class of them. */
const STATUS_PATTERN = /^[1-5](\d\d|xx)$/;
const statusSchema = z
  .union([z.number().int().min(100).max(599), z.string().regex(STATUS_PATTERN, 'a status such as 401 or a class such as 5xx')])
  .transform((s) => String(s));
const statusListSchema = z.array(statusSchema);

/** `Authorization: Bearer {{token}}`: one header line; {{token}} and {{subject}} are filled in. */
const headerLineSchema = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:\s*\S/, 'a header line such as "Authorization: Bearer {{token}}"');
const pathSchema = z.string().regex(/^\//, 'a path starting with /, e.g. /login');
const methodSchema = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const extraHeadersSchema = z
  .record(z.string(), z.string())
  .optional()
  .describe('More headers on every such request (templates allowed), e.g. an admin key for the revoke-all route.');
const BEARER = 'Authorization: Bearer {{token}}';

/** A route called with the token the login returned: verify, logout. */
const tokenRouteSchema = (method: z.infer<typeof methodSchema>, header: string | null) =>
  z.strictObject({
    method: methodSchema.default(method),
    path: pathSchema,
    header: headerLineSchema.nullable().default(header).describe('How the token is presented; null: not in a header (put {{token}} in the body or path).'),
    headers: extraHeadersSchema,
    body: z.json().optional().describe('A JSON template: {{token}} and {{subject}} in its strings are filled in.'),
  });

export const RESPONSE_DEFAULTS = {
  /** verify: accepted; writes: acknowledged. */
  accepted: ['2xx'],
  /** verify: rejected (as revoked); writes: refused (the service did nothing). */
  rejected: ['401', '403'],
  /** verify: the service's store is unavailable (degraded rejection); writes: outcome unknown. */
  unavailable: ['5xx'],
  /** Writes only: unavailable statuses after which the service promises it wrote nothing (fail, not info). */
  refused: [] as string[],
};

function isHttpUrl(text: string): boolean {
  try {
    return /^https?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}

export const httpTargetSchema = z.strictObject({
  baseUrl: z
    .string()
    // `{{port}}`: the port a service started with --exec printed, filled in before the strategy is made.
    .refine(
      (text) => isHttpUrl(text.replaceAll('{{port}}', '1')),
      'an http:// or https:// URL, e.g. http://127.0.0.1:3000 (or http://127.0.0.1:{{port}} with --exec)',
    )
    .describe('Where the service listens; a path in it prefixes every route. `{{port}}`: the port the --exec service printed.'),
  login: z.strictObject({
    method: methodSchema.default('POST'),
    path: pathSchema,
    headers: extraHeadersSchema,
    body: z.json().default({ subject: '{{subject}}' }).describe('A JSON template: {{subject}} in its strings is the user logging in.'),
    token: z
      .union([
        z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'a JSON path such as accessToken or data.token'),
        z.strictObject({ header: z.string().min(1) }),
      ])
      .default('accessToken')
      .describe('Where the access token is in the response: a JSON path into the body, or { header: <name> } (a "Bearer " prefix is dropped).'),
    ttl: durationSchema.default(30 * 60_000).describe("The token's lifetime when it carries no exp claim (an opaque token): when the harness stops using it."),
  }),
  verify: tokenRouteSchema('GET', BEARER),
  logout: tokenRouteSchema('POST', BEARER),
  revokeAll: z
    .strictObject({
      method: methodSchema.default('POST'),
      path: pathSchema.describe('{{subject}} is filled in (URL-encoded), e.g. /users/{{subject}}/revoke-all.'),
      header: headerLineSchema.optional(),
      headers: extraHeadersSchema,
      body: z.json().optional(),
    })
    .optional()
    .describe('Revoke every session of a user. Absent: revokeAll ops fail with ERR_NOT_SUPPORTED and change nothing (set workload.mix.revokeAll: 0).'),
  responses: z
    .strictObject({
      accepted: statusListSchema.default(RESPONSE_DEFAULTS.accepted),
      rejected: statusListSchema.default(RESPONSE_DEFAULTS.rejected),
      unavailable: statusListSchema.default(RESPONSE_DEFAULTS.unavailable),
      refused: statusListSchema.default(RESPONSE_DEFAULTS.refused),
    })
    .prefault({})
    .describe('How statuses map to outcomes; a status in none of the lists is an error (the op is recorded as info).'),
  connections: z.number().int().min(1).max(1024).default(64).describe('Keep-alive connections per load generator (no pipelining).'),
  timeout: durationSchema
    .optional()
    .describe("A request without a complete response after this long is a timeout. Default: the scenario's client.commandTimeout."),
});

export type HttpTargetInput = z.input<typeof httpTargetSchema>;
export type HttpTarget = z.output<typeof httpTargetSchema>;

/** What createStrategy takes for an HTTP target: plain data, so worker threads can build it too. */
export interface HttpStrategyInput {
  name: 'http';
  http: HttpTargetInput;
  label?: string;
  guarantee?: 'none' | 'immediate' | { boundedByMs: number };
  /** The request timeout when the target sets none (ms). */
  timeoutMs: number;
}

export function normalizeHttpTarget(input: unknown, label: (path: readonly PropertyKey[]) => string): HttpTarget {
  return parseOrThrow(httpTargetSchema, input, label);
}
