/**
 * Arbitraries for token payloads as JSON texts, so that duplicate members and literals that
 * JSON.stringify cannot write (1e400, -0.0, 1E+2) are in reach.
 */
import fc from 'fast-check';
import type { TokenKind } from '../../strategies/jwt/token-service.ts';
import { DEFAULT_JWT_SETTINGS } from '../../strategies/options.ts';

const { issuer: ISSUER, audience: AUDIENCE, leewayMs: LEEWAY_MS, accessTtlMs: ACCESS_TTL_MS, refreshTtlMs: REFRESH_TTL_MS } = DEFAULT_JWT_SETTINGS;
const LEEWAY_S = LEEWAY_MS / 1000;

/** Any JSON number literal, well beyond what a double holds either way. */
export const numberLiteral = fc
  .tuple(
    fc.constantFrom('', '-'),
    fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,40}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,25}$/), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 999 })), { nil: undefined }),
  )
  .map(([sign, int, fraction, exponent]) => `${sign}${int}${fraction === undefined ? '' : `.${fraction}`}${exponent ? exponent.join('') : ''}`);

export const edgeNumber = fc
  .constantFrom(0, -0, 1, -1, 1e300, -1e300, 8.64e12, 8.64e12 + 1, 9e15, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER, 0.1)
  .map((n) => String(n));

/** Characters that break naive key building, text handling or JSON: braces, separators, glob, controls, lone surrogates. */
export const awkwardText = fc.string({
  unit: fc.constantFrom('}', '{', ':', '*', '%', '\n', '\0', '"', '\\', 'a', '\uD800', '\uDC00', '😀', '\u202E'),
  maxLength: 12,
});

/** Any value a JSON payload can hold where a claim is expected: numbers, strings, objects, arrays, literals. */
export const anyJsonText = fc.oneof(
  numberLiteral,
  edgeNumber,
  fc.double().map((n) => JSON.stringify(n)),
  awkwardText.map((s) => JSON.stringify(s)),
  fc.constantFrom('"NaN"', '"Infinity"', '"-Infinity"', '"1e400"', '""', '"-1"', 'null', 'true', 'false', '{}', '[]', '[null]'),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);

/**
 * Uniform over [min, max], fractions included. fc.double is uniform over representations, which
 * crowd around zero, and biased towards the bounds: neither spreads instants over a lifetime.
 */
export const uniform = (min: number, max: number) => fc.noBias(fc.integer({ min: 0, max: 1_000_000 })).map((i) => min + ((max - min) * i) / 1_000_000);

/** Mostly the plausible value, sometimes anything: so both the deep checks and the hostile shapes get exercised. */
export const mostly = (plausible: fc.Arbitrary<string>) => fc.oneof({ weight: 9, arbitrary: plausible }, { weight: 1, arbitrary: anyJsonText });
/** Usually absent: fc.option's freq is the odds of absence, the wrong way round for this. */
export const rarely = <T>(value: fc.Arbitrary<T>) => fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value });

export const CLAIM_NAMES = ['iss', 'aud', 'sub', 'jti', 'iat', 'exp', 'nbf', 'iat_ms', 'fam'] as const;

/**
 * A payload as [name, JSON text] members around the instant `nowS` (Unix seconds), for the default
 * settings: mostly plausible claims, with times spread over both sides of every limit, and now and
 * then a claim replaced by anything, dropped, or repeated (last wins).
 */
export function payloadMembers(kind: TokenKind, nowS: number): fc.Arbitrary<[string, string][]> {
  const ttlS = (kind === 'access' ? ACCESS_TTL_MS : REFRESH_TTL_MS) / 1000;
  return fc
    .record({
      iat: uniform(nowS - ttlS - 60, nowS + 2 * LEEWAY_S),
      lifetime: fc.oneof(uniform(-60, ttlS + 2 * LEEWAY_S), fc.constantFrom(ttlS, ttlS + LEEWAY_S, Math.floor(ttlS / 2))),
      nbfOffset: fc.option(uniform(-ttlS, 2 * LEEWAY_S), { nil: undefined }),
      iatMsOffset: fc.option(fc.oneof(uniform(-10, 1010), fc.constantFrom(0, 999)), { nil: undefined }),
      sub: awkwardText.filter((t) => t !== ''),
      jti: awkwardText.filter((t) => t !== ''),
      overrides: fc.record(
        Object.fromEntries(CLAIM_NAMES.map((name) => [name, mostly(fc.constant('keep'))])) as Record<(typeof CLAIM_NAMES)[number], fc.Arbitrary<string>>,
      ),
      dropped: rarely(fc.constantFrom(...CLAIM_NAMES)),
      duplicates: fc.oneof(
        { weight: 4, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom(...CLAIM_NAMES), anyJsonText), { maxLength: 2 }) },
      ),
      duplicatesFirst: fc.boolean(),
    })
    .map((t) => {
      const plausible: Record<string, string | undefined> = {
        iss: JSON.stringify(ISSUER),
        aud: JSON.stringify(AUDIENCE),
        sub: JSON.stringify(t.sub),
        jti: JSON.stringify(t.jti),
        iat: JSON.stringify(t.iat),
        exp: JSON.stringify(t.iat + t.lifetime),
        nbf: t.nbfOffset === undefined ? undefined : JSON.stringify(nowS + t.nbfOffset),
        iat_ms: t.iatMsOffset === undefined ? undefined : JSON.stringify(t.iat * 1000 + t.iatMsOffset),
        fam: kind === 'refresh' ? '"family-1"' : undefined,
      };
      const members: [string, string][] = [];
      for (const name of CLAIM_NAMES) {
        if (name === t.dropped) continue;
        const text = t.overrides[name] === 'keep' ? plausible[name] : t.overrides[name];
        if (text !== undefined) members.push([name, text]);
      }
      return t.duplicatesFirst ? [...t.duplicates, ...members] : [...members, ...t.duplicates];
    });
}
