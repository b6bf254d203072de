/**
 * Hostile and malformed tokens against PureStrategy.verify, for both JWT engines and every
 * algorithm. No Redis: the pure strategy is the shared token check, so every verdict here must
 * carry `redisOps: 0`, and none may be a throw. The same table also drives an engine-agreement
 * test, since the token service promises one verdict per token whichever engine is configured.
 */
import { constants, createHmac, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { JWT_ENGINES, type JwtEngineName } from '../../strategies/jwt/engines.ts';
import { JWT_ALGORITHMS, type JwtAlgorithm, type KeyMaterial, type ProvidedKeys } from '../../strategies/jwt/keys.ts';
import { type JwtSettings, TokenService } from '../../strategies/jwt/token-service.ts';
import { DEFAULT_JWT_SETTINGS, jwtSettingsSchema } from '../../strategies/options.ts';
import { PureStrategy } from '../../strategies/pure.ts';
import type { RejectCode } from '../../strategies/types.ts';
import { b64, json, signedWith } from './hand-signed.ts';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** A whole second, so `exp * 1000` lands exactly on the boundaries the expiry cases probe. */
const FIXED_MS = 1_750_000_000_000;
const FIXED_S = FIXED_MS / 1000;
const ISSUER = DEFAULT_JWT_SETTINGS.issuer;
const AUDIENCE = DEFAULT_JWT_SETTINGS.audience;
const TTL_MS = DEFAULT_JWT_SETTINGS.accessTtlMs;
const LEEWAY_MS = DEFAULT_JWT_SETTINGS.leewayMs;
const MAX_BYTES = DEFAULT_JWT_SETTINGS.maxTokenBytes;
/** A cap raised far enough that nesting deeper than recursive code tolerates gets past the size check. */
const ROOMY_BYTES = 1024 * 1024;
/** Deep enough to overflow any recursive walk of the parsed value (JSON.stringify gives up near 4k). */
const VERY_DEEP = 100_000;

/** Services that share one key pair, so a token made for one of them is meaningful to all. */
interface Rig {
  engine: JwtEngineName;
  alg: JwtAlgorithm;
  /** Default settings: the service under test. */
  service: TokenService;
  /** Same keys, 1 MiB cap: only for the very deep nesting cases. */
  roomy: TokenService;
  /** Same keys, clock standing exactly at a fresh token's exp + leeway. */
  late: TokenService;
  /** Same keys, other issuer / audience: signers of tokens that are authentic but not for us. */
  foreignIssuer: TokenService;
  foreignAudience: TokenService;
}
type Verifier = 'service' | 'roomy' | 'late';

const rigs = new Map<string, Rig>();
function rig(engine: JwtEngineName, alg: JwtAlgorithm): Rig {
  const found = rigs.get(`${engine}/${alg}`);
  if (!found) throw new Error(`no rig for ${engine}/${alg}: beforeAll did not run`);
  return found;
}

function providedKeys(keys: KeyMaterial): ProvidedKeys {
  return keys.alg === 'HS256' ? { secret: keys.signingKeyForFastJwt } : { privateKeyPem: keys.signingKeyForFastJwt as string };
}

async function makeService(
  engine: JwtEngineName,
  alg: JwtAlgorithm,
  keys: ProvidedKeys | undefined,
  overrides: Partial<JwtSettings> = {},
  now = () => FIXED_MS,
): Promise<TokenService> {
  // The schema takes only a string secret; HS256 keys are Buffers, so they go in after parsing.
  const settings: JwtSettings = { ...jwtSettingsSchema.parse({ engine, alg }), ...overrides, ...(keys && { keys }) };
  return TokenService.create(settings, now);
}

beforeAll(async () => {
  for (const alg of JWT_ALGORITHMS) {
    // One key per algorithm (RSA generation is the slow part), shared by both engines so the
    // agreement test can feed the very same token to each.
    const keys = providedKeys((await makeService('jose', alg, undefined)).keys);
    for (const engine of JWT_ENGINES) {
      rigs.set(`${engine}/${alg}`, {
        engine,
        alg,
        service: await makeService(engine, alg, keys),
        roomy: await makeService(engine, alg, keys, { maxTokenBytes: ROOMY_BYTES }),
        late: await makeService(engine, alg, keys, {}, () => FIXED_MS + TTL_MS + LEEWAY_MS),
        foreignIssuer: await makeService(engine, alg, keys, { issuer: 'someone-else' }),
        foreignAudience: await makeService(engine, alg, keys, { audience: 'another-api' }),
      });
    }
  }
});

const header = (alg: string, extra: Record<string, unknown> = {}): string => json({ alg, typ: 'at+jwt', ...extra });
const claims = (patch: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'alice',
  jti: 'forged-jti',
  iat: FIXED_S,
  exp: FIXED_S + TTL_MS / 1000,
  ...patch,
});
function claimsWithout(name: string): Record<string, unknown> {
  const all = claims();
  delete all[name];
  return all;
}

/** header.payload signed with the rig's key: everything but the tested defect is genuine. */
function signed(r: Rig, headerSegment: string, payloadSegment: string): string {
  return signedWith(r.service.keys, headerSegment, payloadSegment);
}

async function issued(r: Rig): Promise<string> {
  return (await r.service.sign('access', { sub: 'alice' })).token;
}

function segments(token: string): [string, string, string] {
  const [h, p, s, ...rest] = token.split('.');
  if (h === undefined || p === undefined || s === undefined || rest.length > 0) throw new Error(`not a compact JWS: ${token.slice(0, 40)}`);
  return [h, p, s];
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/**
 * Flips the top bit of one base64url digit. Only the last digit of a segment can carry unused
 * bits, so flipping any other one always changes the decoded bytes.
 */
function flip(segment: string, index: number): string {
  const digit = ALPHABET.indexOf(segment.charAt(index));
  if (digit < 0 || index >= segment.length - 1) throw new Error(`cannot flip digit ${index} of ${segment.length}`);
  return segment.slice(0, index) + ALPHABET.charAt(digit ^ 32) + segment.slice(index + 1);
}

function insertMiddle(segment: string, text: string): string {
  const middle = segment.length >> 1;
  return segment.slice(0, middle) + text + segment.slice(middle);
}

/** Replaces segment `index` of a token. */
function withSegment(token: string, index: 0 | 1 | 2, change: (segment: string) => string): string {
  const parts = segments(token);
  parts[index] = change(parts[index]);
  return parts.join('.');
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** A token carrying `pad` bytes of padding, signed by the service: its size moves, nothing else does. */
async function padded(service: TokenService, pad: number): Promise<string> {
  return (await service.sign('access', { sub: 'alice', jti: 'padded-jti', extra: { pad: 'x'.repeat(pad) } })).token;
}

/**
 * The largest and the smallest padded tokens on either side of the cap. Base64url lengths skip
 * values, so "just under" is max or max - 1 and "just over" is max + 1 or max + 2.
 */
async function aroundCap(service: TokenService): Promise<{ under: string; over: string }> {
  const max = service.settings.maxTokenBytes;
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((await padded(service, mid)).length <= max) lo = mid;
    else hi = mid - 1;
  }
  return { under: await padded(service, lo), over: await padded(service, lo + 1) };
}

// Keys of other algorithms, for tokens that are genuinely signed but not with the pinned algorithm.
const OTHER_SECRET = randomBytes(32);
const OTHER_EC_KEY: KeyObject = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

type Outcome = { verdict: RejectCode | 'ok' | 'THREW'; detail?: string; redisOps?: number };

interface Case {
  id: string;
  /** Algorithms the case makes sense for (default: all). */
  algs?: readonly JwtAlgorithm[];
  /** Which service of the rig judges the token (default: the one with default settings). */
  via?: Verifier;
  /** Check as a refresh token through the service rather than as an access token through verify. */
  asRefresh?: boolean;
  expected: RejectCode | 'ok';
  make(r: Rig): unknown;
}

/** Runs one case; a throw is an outcome too, so a failing test says which case threw. */
async function judge(c: Case, r: Rig, input: unknown): Promise<Outcome> {
  const service = r[c.via ?? 'service'];
  try {
    if (c.asRefresh) {
      const check = await service.check(input, 'refresh');
      return check.ok ? { verdict: 'ok' } : { verdict: check.code, detail: check.detail };
    }
    const verdict = await new PureStrategy(service).verify(input as never);
    return verdict.ok ? { verdict: 'ok', redisOps: verdict.redisOps } : { verdict: verdict.code, detail: verdict.detail, redisOps: verdict.redisOps };
  } catch (error) {
    return { verdict: 'THREW', detail: String((error as Error)?.message ?? error) };
  }
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

const ASYMMETRIC = ['ES256', 'EdDSA', 'RS256'] as const satisfies readonly JwtAlgorithm[];
const BAD_BASE64URL = { plus: '+', slash: '/', equals: '=', bang: '!', space: ' ' } as const;
const UNICODE = {
  emoji: '😀',
  'lone high surrogate': '\uD83D',
  'lone low surrogate': '\uDE00',
  'right-to-left override': '\u202E',
  'right-to-left mark': '\u200F',
  'NUL byte': '\u0000',
  'zero-width space': '\u200B',
  'fullwidth letter': '\uFF21',
} as const;
const SEGMENT_NAMES = ['header', 'payload', 'signature'] as const;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** A UTF-16 surrogate encoded as if it were a code point (CESU-8): not valid UTF-8. */
const CESU_SURROGATE = Buffer.from([0xed, 0xa0, 0x80]);

const CASES: Case[] = [
  // 1. Segment count.
  { id: '1 empty string', expected: 'ERR_JWT_MALFORMED', make: () => '' },
  { id: '1 two segments (a.b)', expected: 'ERR_JWT_MALFORMED', make: () => 'a.b' },
  { id: '1 four segments (a.b.c.d)', expected: 'ERR_JWT_MALFORMED', make: () => 'a.b.c.d' },
  { id: '1 no dot at all', expected: 'ERR_JWT_MALFORMED', make: () => 'eyJhbGciOiJFUzI1NiJ9' },
  { id: '1 only dots (..)', expected: 'ERR_JWT_MALFORMED', make: () => '..' },
  {
    id: '1 real token with its signature segment cut off',
    expected: 'ERR_JWT_MALFORMED',
    make: async (r) =>
      segments(await issued(r))
        .slice(0, 2)
        .join('.'),
  },
  { id: '1 real token with a fourth segment appended', expected: 'ERR_JWT_MALFORMED', make: async (r) => `${await issued(r)}.AAAA` },
  { id: '1 real token with the signature emptied', expected: 'ERR_JWT_MALFORMED', make: async (r) => withSegment(await issued(r), 2, () => '') },

  // 2. Characters outside the base64url alphabet. Buffer.from(…, 'base64url') would skip or
  // translate them, so only an explicit alphabet check stops a non-canonical twin of a token.
  ...SEGMENT_NAMES.flatMap((name, index) =>
    Object.entries(BAD_BASE64URL).map(
      ([what, char]): Case => ({
        id: `2 ${what} (${JSON.stringify(char)}) inside the ${name}`,
        expected: 'ERR_JWT_MALFORMED',
        make: async (r) => withSegment(await issued(r), index as 0 | 1 | 2, (s) => insertMiddle(s, char)),
      }),
    ),
  ),
  { id: '2 base64 padding after the signature', expected: 'ERR_JWT_MALFORMED', make: async (r) => `${await issued(r)}==` },
  { id: '2 trailing newline', expected: 'ERR_JWT_MALFORMED', make: async (r) => `${await issued(r)}\n` },
  { id: '2 leading space', expected: 'ERR_JWT_MALFORMED', make: async (r) => ` ${await issued(r)}` },
  {
    id: '2 standard base64 (+ and /) instead of base64url',
    expected: 'ERR_JWT_MALFORMED',
    make: (r) => `${header(r.alg)}.${json(claims())}.${Buffer.from([0xfb, 0xff, 0xbf]).toString('base64')}`,
  },

  // 3. Header (and payload) that is not a JSON object.
  { id: '3 header is not JSON', expected: 'ERR_JWT_MALFORMED', make: (r) => signed(r, b64('not json'), json(claims())) },
  { id: '3 header is truncated JSON', expected: 'ERR_JWT_MALFORMED', make: (r) => signed(r, b64(`{"alg":"${r.alg}","typ":"at+jwt"`), json(claims())) },
  ...['[]', '"x"', 'null', '1', 'true', '[{"alg":"ES256","typ":"at+jwt"}]'].map(
    (text): Case => ({ id: `3 header is JSON but not an object: ${text}`, expected: 'ERR_JWT_MALFORMED', make: (r) => signed(r, b64(text), json(claims())) }),
  ),
  {
    id: '3 header bytes are not UTF-8',
    expected: 'ERR_JWT_MALFORMED',
    make: (r) => signed(r, b64(Buffer.concat([Buffer.from(`{"alg":"${r.alg}","typ":"at+jwt","x":"`), Buffer.from([0xff]), Buffer.from('"}')])), json(claims())),
  },
  { id: '3 payload is not JSON (valid signature)', expected: 'ERR_JWT_MALFORMED', make: (r) => signed(r, header(r.alg), b64('not json')) },
  ...['[]', '"x"', 'null', '1'].flatMap((text): Case[] => [
    { id: `3 payload is JSON but not an object, ${text} (valid signature)`, expected: 'ERR_JWT_MALFORMED', make: (r) => signed(r, header(r.alg), b64(text)) },
    // The shape of the payload is judged before the signature ("not JSON" is malformed with
    // either engine), so a non-object payload must not turn into a signature failure.
    {
      id: `3 payload is JSON but not an object, ${text} (foreign signature)`,
      expected: 'ERR_JWT_MALFORMED',
      make: async (r) => `${header(r.alg)}.${b64(text)}.${segments(await issued(r))[2]}`,
    },
  ]),

  // 4. alg: none, in the spellings libraries have been caught accepting.
  { id: '4 alg none with an empty signature', expected: 'ERR_JWT_ALG_NOT_ALLOWED', make: () => `${header('none')}.${json(claims())}.` },
  { id: '4 alg none with a garbage signature', expected: 'ERR_JWT_ALG_NOT_ALLOWED', make: () => `${header('none')}.${json(claims())}.${b64('garbage')}` },
  {
    id: '4 alg none with the signature of a real token',
    expected: 'ERR_JWT_ALG_NOT_ALLOWED',
    make: async (r) => `${header('none')}.${json(claims())}.${segments(await issued(r))[2]}`,
  },
  ...['None', 'NONE', 'nOnE'].map(
    (alg): Case => ({ id: `4 alg ${alg}`, expected: 'ERR_JWT_ALG_NOT_ALLOWED', make: () => `${header(alg)}.${json(claims())}.` }),
  ),

  // 5. Algorithms other than the pinned one.
  {
    id: '5 HS256 token (own secret) against a pinned asymmetric key',
    algs: ASYMMETRIC,
    expected: 'ERR_JWT_ALG_NOT_ALLOWED',
    make: () => {
      const input = `${header('HS256')}.${json(claims())}`;
      return `${input}.${createHmac('sha256', OTHER_SECRET).update(input).digest('base64url')}`;
    },
  },
  {
    id: '5 ES256 token (own key) against a pinned HS256 secret',
    algs: ['HS256'],
    expected: 'ERR_JWT_ALG_NOT_ALLOWED',
    make: () => {
      const input = `${header('ES256')}.${json(claims())}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key: OTHER_EC_KEY, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    },
  },
  {
    // The classic confusion: a verifier that picks the algorithm from the header would use the
    // public key PEM, which the attacker knows, as an HMAC secret.
    id: '5 RS/HS confusion: HS256 keyed with the public key PEM',
    algs: ASYMMETRIC,
    expected: 'ERR_JWT_ALG_NOT_ALLOWED',
    make: (r) => {
      const pem = r.service.keys.publicKeyPem;
      if (!pem) throw new Error('an asymmetric key has a public PEM');
      const input = `${header('HS256')}.${json(claims())}`;
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    },
  },
  {
    id: '5 PS256 signed with the pinned RSA key',
    algs: ['RS256'],
    expected: 'ERR_JWT_ALG_NOT_ALLOWED',
    make: (r) => {
      const input = `${header('PS256')}.${json(claims())}`;
      const key = r.service.keys.signingKeyForFastJwt as string;
      return `${input}.${sign('sha256', Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString('base64url')}`;
    },
  },
  { id: '5 alg in lower case', expected: 'ERR_JWT_ALG_NOT_ALLOWED', make: (r) => signed(r, header(r.alg.toLowerCase()), json(claims())) },
  { id: '5 alg missing', expected: 'ERR_JWT_ALG_NOT_ALLOWED', make: (r) => signed(r, json({ typ: 'at+jwt' }), json(claims())) },
  {
    id: '5 alg as an array holding the pinned alg',
    expected: 'ERR_JWT_ALG_NOT_ALLOWED',
    make: (r) => signed(r, json({ alg: [r.alg], typ: 'at+jwt' }), json(claims())),
  },

  // 6. Payload changed after signing.
  {
    id: '6 sub changed, signature kept',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 1, (p) => json({ ...(JSON.parse(Buffer.from(p, 'base64url').toString()) as object), sub: 'mallory' })),
  },
  {
    id: '6 exp extended, signature kept',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) =>
      withSegment(await issued(r), 1, (p) => json({ ...(JSON.parse(Buffer.from(p, 'base64url').toString()) as object), exp: FIXED_S + 10 * 365 * 86_400 })),
  },
  {
    id: '6 payload of another token, signature kept',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 1, () => json(claims({ sub: 'mallory' }))),
  },

  // 7. Signature changed.
  { id: '7 signature: first digit flipped', expected: 'ERR_JWT_SIGNATURE_INVALID', make: async (r) => withSegment(await issued(r), 2, (s) => flip(s, 0)) },
  {
    id: '7 signature: middle digits flipped',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 2, (s) => flip(flip(s, s.length >> 1), (s.length >> 1) + 1)),
  },
  {
    id: '7 signature: all zero bytes of the right length',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 2, (s) => b64(Buffer.alloc(Buffer.from(s, 'base64url').length))),
  },
  // Every byte 0xff puts r, s (ECDSA), S (EdDSA) or the RSA signature out of range for the key.
  {
    id: '7 signature: all 0xff bytes of the right length',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 2, (s) => b64(Buffer.alloc(Buffer.from(s, 'base64url').length, 0xff))),
  },
  {
    id: '7 signature of another token by the same key',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 2, () => segments(signed(r, header(r.alg), json(claims({ sub: 'bob' }))))[2]),
  },
  // A signature of the wrong length is still just a signature that does not verify.
  {
    id: '7 signature truncated to half',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 2, (s) => b64(Buffer.from(s, 'base64url').subarray(0, Buffer.from(s, 'base64url').length >> 1))),
  },
  {
    id: '7 signature with three extra bytes',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 2, (s) => b64(Buffer.concat([Buffer.from(s, 'base64url'), Buffer.from([1, 2, 3])]))),
  },

  // 8. Expiry, at a frozen clock.
  { id: '8 issued in 1970', expected: 'ERR_JWT_EXPIRED', make: async (r) => (await r.service.sign('access', { sub: 'alice', issuedAtMs: 0 })).token },
  {
    id: '8 exp + leeway reached exactly (signed in the past)',
    expected: 'ERR_JWT_EXPIRED',
    make: async (r) => (await r.service.sign('access', { sub: 'alice', issuedAtMs: FIXED_MS - TTL_MS - LEEWAY_MS })).token,
  },
  { id: '8 exp + leeway reached exactly (verified by a later clock)', via: 'late', expected: 'ERR_JWT_EXPIRED', make: issued },
  {
    id: '8 expired but one second inside the leeway: accepted',
    expected: 'ok',
    make: async (r) => (await r.service.sign('access', { sub: 'alice', issuedAtMs: FIXED_MS - TTL_MS - LEEWAY_MS + 1000 })).token,
  },

  // 9. Not before. `extra` claims are written first, and nbf is not one the service overwrites.
  {
    id: '9 nbf one second beyond the leeway',
    expected: 'ERR_JWT_NOT_YET_VALID',
    make: async (r) => (await r.service.sign('access', { sub: 'alice', extra: { nbf: FIXED_S + LEEWAY_MS / 1000 + 1 } })).token,
  },
  {
    id: '9 nbf a day ahead',
    expected: 'ERR_JWT_NOT_YET_VALID',
    make: async (r) => (await r.service.sign('access', { sub: 'alice', extra: { nbf: FIXED_S + 86_400 } })).token,
  },
  {
    id: '9 nbf exactly at the leeway edge: accepted',
    expected: 'ok',
    make: async (r) => (await r.service.sign('access', { sub: 'alice', extra: { nbf: FIXED_S + LEEWAY_MS / 1000 } })).token,
  },

  // 10. Authentic tokens meant for someone else.
  {
    id: '10 signed by the same key for another issuer',
    expected: 'ERR_JWT_ISSUER_INVALID',
    make: async (r) => (await r.foreignIssuer.sign('access', { sub: 'alice' })).token,
  },
  {
    id: '10 signed by the same key for another audience',
    expected: 'ERR_JWT_AUDIENCE_INVALID',
    make: async (r) => (await r.foreignAudience.sign('access', { sub: 'alice' })).token,
  },
  { id: '10 iss missing', expected: 'ERR_JWT_ISSUER_INVALID', make: (r) => signed(r, header(r.alg), json(claimsWithout('iss'))) },
  { id: '10 aud missing', expected: 'ERR_JWT_AUDIENCE_INVALID', make: (r) => signed(r, header(r.alg), json(claimsWithout('aud'))) },
  {
    id: '10 aud array without our audience',
    expected: 'ERR_JWT_AUDIENCE_INVALID',
    make: (r) => signed(r, header(r.alg), json(claims({ aud: ['another-api', 'third-api'] }))),
  },
  {
    id: '10 aud array holding our audience: accepted',
    expected: 'ok',
    make: (r) => signed(r, header(r.alg), json(claims({ aud: ['another-api', AUDIENCE] }))),
  },

  // 11. Token type.
  { id: '11 typ JWT', expected: 'ERR_JWT_TYPE_INVALID', make: (r) => signed(r, json({ alg: r.alg, typ: 'JWT' }), json(claims())) },
  { id: '11 typ missing', expected: 'ERR_JWT_TYPE_INVALID', make: (r) => signed(r, json({ alg: r.alg }), json(claims())) },
  {
    id: '11 refresh token presented as an access token',
    expected: 'ERR_JWT_TYPE_INVALID',
    make: async (r) => (await r.service.sign('refresh', { sub: 'alice', fam: 'family-1' })).token,
  },
  { id: '11 access token checked as a refresh token', asRefresh: true, expected: 'ERR_JWT_TYPE_INVALID', make: issued },

  // 12. Required claims, in correctly signed tokens.
  ...['jti', 'sub', 'iat', 'exp'].map(
    (name): Case => ({ id: `12 ${name} missing`, expected: 'ERR_JWT_CLAIM_MISSING', make: (r) => signed(r, header(r.alg), json(claimsWithout(name))) }),
  ),
  { id: '12 sub empty', expected: 'ERR_JWT_CLAIM_MISSING', make: (r) => signed(r, header(r.alg), json(claims({ sub: '' }))) },
  { id: '12 sub a number', expected: 'ERR_JWT_CLAIM_MISSING', make: (r) => signed(r, header(r.alg), json(claims({ sub: 42 }))) },
  { id: '12 exp a string', expected: 'ERR_JWT_CLAIM_MISSING', make: (r) => signed(r, header(r.alg), json(claims({ exp: String(FIXED_S + 60) }))) },

  // 13. Size cap.
  { id: '13 1 MB token', expected: 'ERR_JWT_TOO_LARGE', make: async (r) => withSegment(await issued(r), 1, () => 'A'.repeat(1024 * 1024)) },
  { id: '13 just over the cap', expected: 'ERR_JWT_TOO_LARGE', make: async (r) => (await aroundCap(r.service)).over },
  { id: '13 just under the cap: accepted', expected: 'ok', make: async (r) => (await aroundCap(r.service)).under },
  // Fewer UTF-16 units than the cap but more UTF-8 bytes: the cap is on bytes.
  { id: '13 2,800 three-byte characters (8,400 bytes)', expected: 'ERR_JWT_TOO_LARGE', make: () => '€'.repeat(2800) },
  { id: '13 1 MB of emoji', expected: 'ERR_JWT_TOO_LARGE', make: () => '😀'.repeat(256 * 1024) },

  // 14. Deep nesting. Within the 8 KiB cap first, then with a raised cap, deeper than any
  // recursive walk of the parsed value can go.
  { id: '14 header: 5,000 unclosed [', expected: 'ERR_JWT_MALFORMED', make: () => `${b64('['.repeat(5000))}.e30.AAAA` },
  { id: '14 header: array nested 3,000 deep', expected: 'ERR_JWT_MALFORMED', make: () => `${b64(nested(3000))}.e30.AAAA` },
  { id: '14 header: alg nested 3,000 deep', expected: 'ERR_JWT_ALG_NOT_ALLOWED', make: () => `${b64(`{"alg":${nested(3000)}}`)}.e30.AAAA` },
  {
    id: '14 header: extra member nested 2,500 deep, foreign signature',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 0, () => b64(`{"alg":"${r.alg}","typ":"at+jwt","x":${nested(2500)}}`)),
  },
  { id: '14 payload: 5,000 unclosed [', expected: 'ERR_JWT_MALFORMED', make: async (r) => withSegment(await issued(r), 1, () => b64('['.repeat(5000))) },
  {
    id: '14 payload: claim nested 2,500 deep, foreign signature',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 1, () => b64(JSON.stringify(claims()).replace(/}$/, `,"x":${nested(2500)}}`))),
  },
  {
    id: `14 raised cap, header: alg nested ${VERY_DEEP} deep`,
    via: 'roomy',
    expected: 'ERR_JWT_ALG_NOT_ALLOWED',
    make: () => `${b64(`{"alg":${nested(VERY_DEEP)}}`)}.e30.AAAA`,
  },
  {
    id: `14 raised cap, header: typ nested ${VERY_DEEP} deep`,
    via: 'roomy',
    expected: 'ERR_JWT_TYPE_INVALID',
    make: (r) => `${b64(`{"alg":"${r.alg}","typ":${nested(VERY_DEEP)}}`)}.e30.AAAA`,
  },
  {
    id: `14 raised cap, header: extra member nested ${VERY_DEEP} deep, foreign signature`,
    via: 'roomy',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 0, () => b64(`{"alg":"${r.alg}","typ":"at+jwt","x":${nested(VERY_DEEP)}}`)),
  },
  {
    id: `14 raised cap, payload: ${3 * VERY_DEEP} unclosed [`,
    via: 'roomy',
    expected: 'ERR_JWT_MALFORMED',
    make: async (r) => withSegment(await issued(r), 1, () => b64('['.repeat(3 * VERY_DEEP))),
  },
  {
    id: `14 raised cap, payload: claim nested ${VERY_DEEP} deep, foreign signature`,
    via: 'roomy',
    expected: 'ERR_JWT_SIGNATURE_INVALID',
    make: async (r) => withSegment(await issued(r), 1, () => b64(JSON.stringify(claims()).replace(/}$/, `,"x":${nested(VERY_DEEP)}}`))),
  },
  // Needs the key, so it is no attack, but the verdict contract still holds for our own tokens.
  {
    id: `14 raised cap, payload: aud nested ${VERY_DEEP} deep, valid signature`,
    via: 'roomy',
    expected: 'ERR_JWT_AUDIENCE_INVALID',
    make: (r) => signed(r, header(r.alg), b64(JSON.stringify(claims({ aud: null })).replace('"aud":null', `"aud":${nested(VERY_DEEP)}`))),
  },

  // 15. Unicode garbage: in the token text, then inside the decoded bytes.
  ...SEGMENT_NAMES.flatMap((name, index) =>
    Object.entries(UNICODE).map(
      ([what, char]): Case => ({
        id: `15 ${what} inside the ${name}`,
        expected: 'ERR_JWT_MALFORMED',
        make: async (r) => withSegment(await issued(r), index as 0 | 1 | 2, (s) => insertMiddle(s, char)),
      }),
    ),
  ),
  { id: '15 nothing but emoji and dots', expected: 'ERR_JWT_MALFORMED', make: () => '😀.🔥.💩' },
  { id: '15 RTL override before the token', expected: 'ERR_JWT_MALFORMED', make: async (r) => `\u202E${await issued(r)}` },
  {
    id: '15 payload bytes are not UTF-8 (valid signature)',
    expected: 'ERR_JWT_MALFORMED',
    make: (r) =>
      signed(
        r,
        header(r.alg),
        b64(Buffer.concat([Buffer.from('{"sub":"'), CESU_SURROGATE, Buffer.from(JSON.stringify(claims()).replace(/^\{"iss"/, '","iss"'))])),
      ),
  },
  {
    id: '15 payload bytes are not UTF-8 (foreign signature)',
    expected: 'ERR_JWT_MALFORMED',
    make: async (r) =>
      withSegment(await issued(r), 1, () =>
        b64(Buffer.concat([Buffer.from('{"sub":"'), CESU_SURROGATE, Buffer.from(JSON.stringify(claims()).replace(/^\{"iss"/, '","iss"'))])),
      ),
  },
  // RFC 8259 forbids a BOM in JSON sent over the wire; a strict decoder keeps it, and JSON.parse refuses it.
  {
    id: '15 header starts with a UTF-8 BOM (valid signature)',
    expected: 'ERR_JWT_MALFORMED',
    make: (r) => signed(r, b64(Buffer.concat([BOM, Buffer.from(JSON.stringify({ alg: r.alg, typ: 'at+jwt' }))])), json(claims())),
  },
  {
    id: '15 payload starts with a UTF-8 BOM (valid signature)',
    expected: 'ERR_JWT_MALFORMED',
    make: (r) => signed(r, header(r.alg), b64(Buffer.concat([BOM, Buffer.from(JSON.stringify(claims()))]))),
  },
  {
    id: '15 well-formed unicode inside the claims: accepted',
    expected: 'ok',
    make: (r) => signed(r, header(r.alg), json(claims({ sub: 'ali\u202Ece 😀 \u0000' }))),
  },

  // 16. crit: no extension is understood, so any crit header must be refused (RFC 7515 4.1.11).
  {
    id: '16 crit naming a present extension (valid signature)',
    expected: 'ERR_JWT_MALFORMED',
    make: (r) => signed(r, header(r.alg, { crit: ['exp'], exp: FIXED_S + 60 }), json(claims())),
  },
  {
    id: '16 crit b64 false (valid signature)',
    expected: 'ERR_JWT_MALFORMED',
    make: (r) => signed(r, header(r.alg, { crit: ['b64'], b64: false }), json(claims())),
  },
  { id: '16 crit empty (valid signature)', expected: 'ERR_JWT_MALFORMED', make: (r) => signed(r, header(r.alg, { crit: [] }), json(claims())) },
  {
    id: '16 crit with a foreign signature',
    expected: 'ERR_JWT_MALFORMED',
    make: async (r) => withSegment(await issued(r), 0, () => header(r.alg, { crit: ['exp'], exp: FIXED_S + 60 })),
  },

  // 17. Not a string at all: verify's signature says string, callers in JS land do not care.
  ...(
    [
      ['undefined', () => undefined],
      ['null', () => null],
      ['a number', () => 42],
      ['NaN', () => Number.NaN],
      ['a bigint', () => 1n],
      ['a symbol', () => Symbol('jwt')],
      ['a plain object', () => ({})],
      ['an array of three segments', () => ['a', 'b', 'c']],
      ['a function', () => () => 'a.b.c'],
    ] as const
  ).map(([what, value]): Case => ({ id: `17 ${what}`, expected: 'ERR_JWT_MALFORMED', make: value })),
  { id: '17 a Buffer holding a valid token', expected: 'ERR_JWT_MALFORMED', make: async (r) => Buffer.from(await issued(r)) },
  { id: '17 a String object holding a valid token', expected: 'ERR_JWT_MALFORMED', make: async (r) => new String(await issued(r)) },

  // 18. Time claims no issuer of ours would write, all signed with the rig's own key: a buggy or
  // compromised issuer, or a clock that runs ahead. Each needs a verdict, and none may be a throw
  // (Date throws beyond +-8.64e15 ms).
  ...(
    [
      ['exp 1e300', { exp: 1e300 }, 'ERR_JWT_LIFETIME_TOO_LONG'],
      ['exp -1e300', { exp: -1e300 }, 'ERR_JWT_EXPIRED'],
      ['exp 9e15 (beyond what Date holds)', { exp: 9e15 }, 'ERR_JWT_LIFETIME_TOO_LONG'],
      ['exp -9e15', { exp: -9e15 }, 'ERR_JWT_EXPIRED'],
      ['exp the largest double', { exp: Number.MAX_VALUE }, 'ERR_JWT_LIFETIME_TOO_LONG'],
      ['exp the smallest positive double', { exp: Number.MIN_VALUE }, 'ERR_JWT_EXPIRED'],
      ['exp -0', { exp: -0 }, 'ERR_JWT_EXPIRED'],
      ['exp 300 years ahead', { exp: FIXED_S + 300 * 365 * 86_400 }, 'ERR_JWT_LIFETIME_TOO_LONG'],
      ['exp fractional (RFC 7519 allows it): accepted', { exp: FIXED_S + 60.123456 }, 'ok'],
      ['nbf 1e300', { nbf: 1e300 }, 'ERR_JWT_NOT_YET_VALID'],
      ['nbf 9e15', { nbf: 9e15 }, 'ERR_JWT_NOT_YET_VALID'],
      ['nbf -1e300 (long since valid): accepted', { nbf: -1e300 }, 'ok'],
      ['nbf a string', { nbf: String(FIXED_S) }, 'ERR_JWT_CLAIM_MISSING'],
      ['nbf null', { nbf: null }, 'ERR_JWT_CLAIM_MISSING'],
      ['iat 1e300', { iat: 1e300 }, 'ERR_JWT_ISSUED_IN_FUTURE'],
      ['iat -1e300', { iat: -1e300 }, 'ERR_JWT_LIFETIME_TOO_LONG'],
      ['iat a day ahead', { iat: FIXED_S + 86_400, exp: FIXED_S + 86_400 + 60 }, 'ERR_JWT_ISSUED_IN_FUTURE'],
      ['iat one second beyond the leeway', { iat: FIXED_S + LEEWAY_MS / 1000 + 1, exp: FIXED_S + 60 }, 'ERR_JWT_ISSUED_IN_FUTURE'],
      ['iat exactly at the leeway edge: accepted', { iat: FIXED_S + LEEWAY_MS / 1000, exp: FIXED_S + 60 }, 'ok'],
      ['iat in 1970 with a fresh exp (exp - iat decades)', { iat: 0 }, 'ERR_JWT_LIFETIME_TOO_LONG'],
      ['exp - iat one second over TTL + leeway', { iat: FIXED_S - 10, exp: FIXED_S - 10 + (TTL_MS + LEEWAY_MS) / 1000 + 1 }, 'ERR_JWT_LIFETIME_TOO_LONG'],
      ['exp - iat exactly TTL + leeway: accepted', { iat: FIXED_S - 10, exp: FIXED_S - 10 + (TTL_MS + LEEWAY_MS) / 1000 }, 'ok'],
      ['exp - now one second over TTL + leeway (iat now)', { exp: FIXED_S + (TTL_MS + LEEWAY_MS) / 1000 + 1 }, 'ERR_JWT_LIFETIME_TOO_LONG'],
      ['iat fractional: accepted', { iat: FIXED_S - 0.25 }, 'ok'],
      ['iat_ms within the second of iat: accepted', { iat_ms: FIXED_MS + 999 }, 'ok'],
      ['iat_ms a second after iat', { iat_ms: FIXED_MS + 1000 }, 'ERR_JWT_CLAIM_MISSING'],
      ['iat_ms before iat', { iat_ms: FIXED_MS - 1 }, 'ERR_JWT_CLAIM_MISSING'],
      ['iat_ms a day ahead, iat now', { iat_ms: FIXED_MS + 86_400_000 }, 'ERR_JWT_CLAIM_MISSING'],
      ['iat_ms a string', { iat_ms: String(FIXED_MS) }, 'ERR_JWT_CLAIM_MISSING'],
      ['iat_ms 1e300', { iat_ms: 1e300 }, 'ERR_JWT_CLAIM_MISSING'],
      ['sub an object', { sub: { toString: 'alice' } }, 'ERR_JWT_CLAIM_MISSING'],
      ['jti an array', { jti: ['forged-jti'] }, 'ERR_JWT_CLAIM_MISSING'],
      ['iss an object', { iss: { iss: ISSUER } }, 'ERR_JWT_ISSUER_INVALID'],
    ] as const
  ).map(
    ([what, patch, expected]): Case => ({
      id: `18 ${what}`,
      expected,
      make: (r) => signed(r, header(r.alg), json(claims(patch as Record<string, unknown>))),
    }),
  ),
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify cannot write: these are made as text.
  ...(['exp', 'iat', 'nbf'] as const).flatMap((claim): Case[] =>
    ['1e400', '-1e400'].map((number) => ({
      id: `18 ${claim} ${number} (Infinity once parsed)`,
      expected: 'ERR_JWT_CLAIM_MISSING',
      make: (r) => signed(r, header(r.alg), b64(JSON.stringify(claims({ [claim]: 0 })).replace(`"${claim}":0`, `"${claim}":${number}`))),
    })),
  ),
  {
    id: '18 access token with a refresh lifetime (7 days)',
    expected: 'ERR_JWT_LIFETIME_TOO_LONG',
    make: (r) => signed(r, header(r.alg), json(claims({ exp: FIXED_S + 7 * 86_400, fam: 'family-1' }))),
  },
  {
    id: '18 refresh token with a refresh lifetime (7 days): accepted',
    asRefresh: true,
    expected: 'ok',
    make: (r) => signed(r, json({ alg: r.alg, typ: 'rt+jwt' }), json(claims({ exp: FIXED_S + 7 * 86_400, fam: 'family-1' }))),
  },
  {
    id: '18 refresh token living a day longer than refreshTtlMs + leeway',
    asRefresh: true,
    expected: 'ERR_JWT_LIFETIME_TOO_LONG',
    make: (r) => signed(r, json({ alg: r.alg, typ: 'rt+jwt' }), json(claims({ exp: FIXED_S + 8 * 86_400, fam: 'family-1' }))),
  },

  // 19. Duplicate member names. RFC 7519 4 lets a parser reject them or take the last; both engines
  // (and our header check) take the last, so the verdict follows the last value in every position.
  {
    id: '19 header alg none then the pinned alg: accepted (last wins)',
    expected: 'ok',
    make: (r) => signed(r, b64(`{"alg":"none","typ":"at+jwt","alg":"${r.alg}"}`), json(claims())),
  },
  {
    id: '19 header pinned alg then none',
    expected: 'ERR_JWT_ALG_NOT_ALLOWED',
    make: (r) => signed(r, b64(`{"alg":"${r.alg}","typ":"at+jwt","alg":"none"}`), json(claims())),
  },
  {
    id: '19 header typ at+jwt then rt+jwt',
    expected: 'ERR_JWT_TYPE_INVALID',
    make: (r) => signed(r, b64(`{"alg":"${r.alg}","typ":"at+jwt","typ":"rt+jwt"}`), json(claims())),
  },
  {
    id: '19 payload exp far ahead then a fresh one: accepted (last wins)',
    expected: 'ok',
    make: (r) => signed(r, header(r.alg), b64(JSON.stringify(claims()).replace(/^\{/, `{"exp":${FIXED_S + 86_400 * 365},`))),
  },
  {
    id: '19 payload exp fresh then far ahead',
    expected: 'ERR_JWT_LIFETIME_TOO_LONG',
    make: (r) => signed(r, header(r.alg), b64(JSON.stringify(claims()).replace(/\}$/, `,"exp":${FIXED_S + 86_400 * 365}}`))),
  },
  {
    id: '19 payload iss ours then another',
    expected: 'ERR_JWT_ISSUER_INVALID',
    make: (r) => signed(r, header(r.alg), b64(JSON.stringify(claims()).replace(/\}$/, ',"iss":"someone-else"}'))),
  },
];

const casesFor = (alg: JwtAlgorithm): Case[] => CASES.filter((c) => !c.algs || c.algs.includes(alg));

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe.each(JWT_ENGINES)('%s engine', (engine) => {
  describe.each(JWT_ALGORITHMS)('%s', (alg) => {
    it('positive control: a freshly issued token verifies, and so does one made by the other engine', async () => {
      const r = rig(engine, alg);
      const strategy = new PureStrategy(r.service);
      const issuedNow = await strategy.issue('alice');
      if (!issuedNow.ok) throw new Error('issue failed without Redis');
      await expect(strategy.verify(issuedNow.accessToken)).resolves.toEqual({ ok: true, subject: 'alice', jti: issuedNow.jti, redisOps: 0 });
      const refresh = await r.service.sign('refresh', { sub: 'alice', fam: 'family-1' });
      await expect(r.service.check(refresh.token, 'refresh')).resolves.toMatchObject({ ok: true, claims: { sub: 'alice', jti: refresh.jti, fam: 'family-1' } });
      const other = rig(engine === 'jose' ? 'fast-jwt' : 'jose', alg);
      const fromOther = await other.service.sign('access', { sub: 'bob' });
      await expect(strategy.verify(fromOther.token)).resolves.toEqual({ ok: true, subject: 'bob', jti: fromOther.jti, redisOps: 0 });
    });

    // A loop rather than it.each: vitest would truncate the interpolated case names.
    for (const c of casesFor(alg)) {
      it(c.id, async () => {
        const r = rig(engine, alg);
        const outcome = await judge(c, r, await c.make(r));
        expect(outcome.verdict, outcome.detail).toBe(c.expected);
        if (!c.asRefresh) expect(outcome.redisOps).toBe(0);
      });
    }
  });

  describe('a 1 MB token', () => {
    afterEach(() => vi.restoreAllMocks());

    it('is refused on its length alone, before any decoding or JSON parsing', async () => {
      const r = rig(engine, 'ES256');
      const huge = withSegment(await issued(r), 1, () => 'A'.repeat(1024 * 1024));
      const parse = vi.spyOn(JSON, 'parse');
      const started = performance.now();
      const verdict = await new PureStrategy(r.service).verify(huge);
      const elapsedMs = performance.now() - started;
      expect(verdict).toMatchObject({ ok: false, code: 'ERR_JWT_TOO_LARGE', redisOps: 0 });
      expect(parse).not.toHaveBeenCalled();
      // A length check is O(1); decoding and parsing 1 MB would take milliseconds. Generous for CI.
      expect(elapsedMs).toBeLessThan(50);
    });
  });

  // The "just over / just under the cap" cases only prove something if the padding search really
  // lands next to the cap.
  describe('size cap boundaries', () => {
    it.each(JWT_ALGORITHMS)('%s: the padded tokens sit within two bytes of the cap', async (alg) => {
      const { under, over } = await aroundCap(rig(engine, alg).service);
      expect(under.length).toBeLessThanOrEqual(MAX_BYTES);
      expect(under.length).toBeGreaterThanOrEqual(MAX_BYTES - 2);
      expect(over.length).toBeGreaterThan(MAX_BYTES);
      expect(over.length).toBeLessThanOrEqual(MAX_BYTES + 2);
    });
  });
});

describe('engine agreement', () => {
  it('gives the same code with either engine for every case, whichever engine made the token', async () => {
    const disagreements: string[] = [];
    for (const alg of JWT_ALGORITHMS) {
      for (const c of casesFor(alg)) {
        for (const maker of JWT_ENGINES) {
          // Both engines' services share one key per algorithm, so one input serves both.
          const input = await c.make(rig(maker, alg));
          const jose = await judge(c, rig('jose', alg), input);
          const fast = await judge(c, rig('fast-jwt', alg), input);
          if (jose.verdict !== fast.verdict) disagreements.push(`${alg} · ${c.id} (made by ${maker}): jose ${jose.verdict}, fast-jwt ${fast.verdict}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
  });
});
