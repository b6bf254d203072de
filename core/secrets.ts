import { TokenbenchError } from './errors.ts';

/**
 * What stands where a secret was. Angle brackets make it read as a marker, and a redacted file
 * that is run again is refused before any login (see assertSecretsGiven), so it is never tried
 * as a password.
 */
export const REDACTED = '<redacted>';

/**
 * Field names whose string value is a secret, wherever they sit: the external backend's
 * `topology.password` and `sentinelPassword`, ioredis' `client.password`, a JWT signing key
 * (`jwt.keys.secret`, `privateKeyPem`; the public key is not one). Usernames are not secrets
 * and stay visible: an ACL user says what the run was allowed to do.
 */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['password', 'sentinelPassword', 'secret', 'privateKeyPem']);

/**
 * A URL and the non-space text after its scheme. The userinfo is taken up to the last `@` of
 * that text, not of the authority alone: a password with an unencoded `/`, `?` or `@` is then
 * still hidden (at worst a bit more than the password is).
 */
const URL_TEXT = /([a-z][a-z0-9+.-]*:\/\/)(\S*)/gi;

interface UrlParts {
  scheme: string;
  username: string;
  password: string;
  /** From the `@` on: host, port, path. */
  rest: string;
}

function urlParts(scheme: string, text: string): UrlParts | undefined {
  const at = text.lastIndexOf('@');
  if (at < 0) return undefined;
  const userinfo = text.slice(0, at);
  const colon = userinfo.indexOf(':');
  return {
    scheme,
    username: colon < 0 ? userinfo : userinfo.slice(0, colon),
    password: colon < 0 ? '' : userinfo.slice(colon + 1),
    rest: text.slice(at),
  };
}

function mapUrls(text: string, change: (parts: UrlParts) => string | undefined): string {
  return text.replace(URL_TEXT, (whole, scheme: string, after: string) => {
    const parts = urlParts(scheme, after);
    return (parts && change(parts)) ?? whole;
  });
}

/** Every URL in the text with its password (not its username) replaced: `redis://user:<redacted>@h:1`. */
export function redactUrls(text: string): string {
  return mapUrls(text, (p) => (p.password === '' ? undefined : `${p.scheme}${p.username}:${REDACTED}${p.rest}`));
}

/** The URL without its password, username kept: where a password given another way replaces it. */
export function withoutUrlPassword(text: string): string {
  return mapUrls(text, (p) => (p.password === '' ? undefined : `${p.scheme}${p.username === '' ? p.rest.slice(1) : `${p.username}${p.rest}`}`));
}

/** The password part of a URL as written (still percent-encoded); undefined when it has none. */
export function urlPassword(text: string): string | undefined {
  let found: string | undefined;
  mapUrls(text, (p) => {
    if (p.password !== '') found ??= p.password;
    return undefined;
  });
  return found;
}

/** A URL whose password is the marker, as written here or percent-encoded by a URL parser on the way. */
export function hasRedactedUrlPassword(text: string): boolean {
  const password = urlPassword(text);
  return password === REDACTED || password === encodeURIComponent(REDACTED);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A copy with every secret replaced by REDACTED: the values of SECRET_FIELDS, and the password of
 * every URL in any string. Everything else is kept as it is, so a redacted scenario still says
 * what ran on what. `field`: the name the value sits under, when it is one field's value.
 */
export function redactSecrets<T>(value: T, field?: string): T {
  const walk = (node: unknown, key: string | undefined): unknown => {
    if (typeof node === 'string') return key !== undefined && SECRET_FIELDS.has(key) && node !== '' ? REDACTED : redactUrls(node);
    if (Array.isArray(node)) return node.map((item) => walk(item, undefined));
    if (isPlainObject(node)) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, k)]));
    return node;
  };
  return walk(value, field) as T;
}

/** Where a value holds REDACTED, as `topology.password` or `topology.endpoints[0]`, with the field that carries the secret. */
export function redactedFields(value: unknown): { path: string; field: string }[] {
  const found: { path: string; field: string }[] = [];
  const walk = (node: unknown, path: string, field: string) => {
    if (typeof node === 'string') {
      if (node === REDACTED && SECRET_FIELDS.has(field)) found.push({ path, field });
      else if (hasRedactedUrlPassword(node)) found.push({ path, field: 'password' });
    } else if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, `${path}[${i}]`, field);
    } else if (isPlainObject(node)) for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k, k);
  };
  walk(value, '', '');
  return found;
}

/** A scenario tokenbench wrote has its secrets redacted: running it again needs them given again. */
export class SecretMissingError extends TokenbenchError {
  readonly path: string;
  constructor(path: string, how: string) {
    super('ERR_SECRET_MISSING', `${path}: the secret is ${REDACTED} (tokenbench never writes one); ${how}`);
    this.path = path;
  }
}

const HOW_TO_GIVE: Record<string, string> = {
  password: "give the data nodes' password with --password-file <path>, TOKENBENCH_REDIS_PASSWORD or REDISCLI_AUTH",
  sentinelPassword: "give the sentinels' password with --sentinel-password-file <path> or TOKENBENCH_SENTINEL_PASSWORD",
  secret: 'put the key back in the scenario file, or leave the field out (each run then makes its own key)',
  privateKeyPem: 'put the key back in the scenario file, or leave the field out (each run then makes its own key)',
};

const CLIENT_PASSWORD_HOW =
  "put it back in the scenario file, or leave it out and give the data nodes' password with --password-file <path> or TOKENBENCH_REDIS_PASSWORD";

/** Refuses a scenario that still holds REDACTED, naming the first such field and how to give its secret; never logs in with the marker. */
export function assertSecretsGiven(scenario: unknown): void {
  const [first] = redactedFields(scenario);
  if (!first) return;
  const how = first.path.startsWith('client.') ? CLIENT_PASSWORD_HOW : HOW_TO_GIVE[first.field]!;
  throw new SecretMissingError(first.path, how);
}
