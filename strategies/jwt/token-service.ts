import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { RejectCode } from '../types.ts';
import { createFastJwtEngine, createJoseEngine, type JwtEngine, type JwtEngineName } from './engines.ts';
import { type JwtAlgorithm, type KeyMaterial, loadKeys, type ProvidedKeys } from './keys.ts';

/** RFC 9068 names access tokens `at+jwt`; refresh tokens get their own type so neither passes as the other (RFC 8725 3.12). */
export const TOKEN_TYPES = { access: 'at+jwt', refresh: 'rt+jwt' } as const;
/** RFC 9068 4: the full media type names the same thing and must be accepted too. */
const ACCEPTED_TYPES = {
  access: new Set(['at+jwt', 'application/at+jwt']),
  refresh: new Set(['rt+jwt', 'application/rt+jwt']),
} as const;
const BOM = [0xef, 0xbb, 0xbf] as const;
/** Bounded so that a stream of distinct (attacker-made, yet acceptable) headers cannot grow memory. */
const ACCEPTED_HEADER_CACHE = 16;
export type TokenKind = keyof typeof TOKEN_TYPES;

export interface JwtSettings {
  engine: JwtEngineName;
  alg: JwtAlgorithm;
  issuer: string;
  audience: string;
  accessTtlMs: number;
  refreshTtlMs: number;
  /** Clock skew tolerated on exp and nbf, and added to blacklist entry lifetimes. */
  leewayMs: number;
  /** How far ahead of our clock iat may lie. Unset: leewayMs. */
  iatLeewayMs?: number;
  /** How far exp - iat and exp - now may exceed the kind's TTL. Unset: leewayMs. */
  lifetimeLeewayMs?: number;
  /** Tokens longer than this are rejected before any parsing. */
  maxTokenBytes: number;
  /** fast-jwt's verified-token cache: false, true (1000 tokens) or a size. */
  cache?: boolean | number;
  keys?: ProvidedKeys;
}

export interface VerifiedClaims {
  sub: string;
  jti: string;
  /** Issue time in ms: from the `iat_ms` claim when present (iat has only second resolution). */
  issuedAtMs: number;
  expiresAtMs: number;
  /** Double-token: the refresh family (one login session). */
  fam?: string;
}

export type TokenCheck = { ok: true; claims: VerifiedClaims } | { ok: false; code: RejectCode; detail: string };

const SEGMENT = /^[A-Za-z0-9_-]+$/;
// ignoreBOM keeps a leading BOM in the text, so JSON.parse refuses it: strict, like fast-jwt.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Describes an attacker-controlled value for a rejection detail without serializing it: a deeply
 * nested value would overflow JSON.stringify's stack and turn a rejection into a throw.
 */
function describeClaim(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Strict UTF-8 with no BOM: both engines must see the same bytes the same way. */
function isCleanUtf8(bytes: Buffer): boolean {
  return isUtf8(bytes) && !(bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2]);
}

/**
 * `SEGMENT.test(text)`, read off `decoded` (text decoded as base64url), which the UTF-8 check needs
 * anyway: the regex over a payload was a third of these checks' cost. Node's decoder skips what is
 * not base64, so fewer bytes come out, except standard base64's + and / (which it reads) and the
 * padding =, looked for apart. One skipped character goes unseen only at a length of 4k + 1, where
 * the regex decides. The property test in token-properties.test.ts holds this to the regex.
 */
function isBase64url(text: string, decoded: Buffer): boolean {
  if (text.length % 4 === 1) return SEGMENT.test(text);
  return text.length > 0 && decoded.length === Math.floor((text.length * 3) / 4) && text.indexOf('+') < 0 && text.indexOf('/') < 0 && text.indexOf('=') < 0;
}

/** Date's range: 100,000,000 days either side of the epoch. Beyond it toISOString throws. */
const MAX_DATE_MS = 8.64e15;

/** A NumericDate (seconds) for a rejection detail; one beyond what Date can hold is named as it came. */
export function describeNumericDate(seconds: number): string {
  return Math.abs(seconds * 1000) <= MAX_DATE_MS ? new Date(seconds * 1000).toISOString() : `NumericDate ${seconds}`;
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function reject(code: RejectCode, detail: string): TokenCheck {
  return { ok: false, code, detail };
}

export function newTokenId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Issues and checks this run's tokens. The checks are hardened and engine-independent: size cap
 * first, then shape and header (pinned alg, typ, no crit), then the engine's signature check,
 * then claims with an injectable clock.
 */
export class TokenService {
  readonly settings: JwtSettings;
  readonly keys: KeyMaterial;
  readonly #engine: JwtEngine;
  readonly now: () => number;
  /** Header segments already checked and accepted, per token kind; only accepted ones, and few. */
  readonly #acceptedHeaders: Record<TokenKind, string[]> = { access: [], refresh: [] };

  private constructor(settings: JwtSettings, keys: KeyMaterial, engine: JwtEngine, now: () => number) {
    this.settings = settings;
    this.keys = keys;
    this.#engine = engine;
    this.now = now;
  }

  static async create(settings: JwtSettings, now: () => number = Date.now): Promise<TokenService> {
    const keys = await loadKeys(settings.alg, settings.keys);
    const engine = settings.engine === 'fast-jwt' ? createFastJwtEngine(keys, settings.cache ?? false) : await createJoseEngine(keys);
    return new TokenService(settings, keys, engine, now);
  }

  get engineName(): JwtEngineName {
    return this.#engine.name;
  }

  async sign(
    kind: TokenKind,
    claims: { sub: string; jti?: string; fam?: string; issuedAtMs?: number; extra?: Record<string, unknown> },
  ): Promise<{ token: string; jti: string; issuedAtMs: number; expiresAtMs: number }> {
    const issuedAtMs = claims.issuedAtMs ?? this.now();
    const expiresAtMs = issuedAtMs + (kind === 'access' ? this.settings.accessTtlMs : this.settings.refreshTtlMs);
    const jti = claims.jti ?? newTokenId();
    const payload: Record<string, unknown> = {
      ...claims.extra,
      iss: this.settings.issuer,
      aud: this.settings.audience,
      sub: claims.sub,
      jti,
      iat: Math.floor(issuedAtMs / 1000),
      iat_ms: issuedAtMs,
      exp: Math.floor(expiresAtMs / 1000),
      ...(claims.fam !== undefined && { fam: claims.fam }),
    };
    return { token: await this.#engine.sign(payload, TOKEN_TYPES[kind]), jti, issuedAtMs, expiresAtMs: Math.floor(expiresAtMs / 1000) * 1000 };
  }

  async check(token: unknown, kind: TokenKind): Promise<TokenCheck> {
    if (typeof token !== 'string') return reject('ERR_JWT_MALFORMED', `expected a string, got ${token === null ? 'null' : typeof token}`);
    const max = this.settings.maxTokenBytes;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: count bytes only when the length cannot decide.
    if (token.length > max || (token.length * 3 > max && Buffer.byteLength(token) > max))
      return reject('ERR_JWT_TOO_LARGE', `token is ${Buffer.byteLength(token)} bytes; the limit is ${max}`);
    const first = token.indexOf('.');
    const second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return reject('ERR_JWT_MALFORMED', 'a JWT has exactly three dot-separated segments');
    const headerSegment = token.slice(0, first);
    // Every token of a key has one of a handful of headers: remember the ones that passed, so the
    // hot path skips decoding and parsing them (a visible share of a 6 us fast-jwt verify).
    // An array of a few, compared as strings: a set lookup hashed the freshly sliced segment on every verify.
    const accepted = this.#acceptedHeaders[kind];
    const headerCached = accepted.includes(headerSegment);
    if (!headerCached) {
      const headerCheck = this.#checkHeader(headerSegment, kind);
      if (headerCheck) return headerCheck;
    }
    const payloadSegment = token.slice(first + 1, second);
    const signatureSegment = token.slice(second + 1);
    const payloadBytes = Buffer.from(payloadSegment, 'base64url');
    if (!isBase64url(payloadSegment, payloadBytes) || !SEGMENT.test(signatureSegment))
      return reject('ERR_JWT_MALFORMED', 'payload or signature is not base64url');
    // Engines disagree on payloads that are not clean UTF-8 (fast-jwt substitutes, jose refuses) and on
    // signatures of the wrong length (fast-jwt: malformed, jose: invalid): decide both here, once.
    if (!isCleanUtf8(payloadBytes)) return reject('ERR_JWT_MALFORMED', 'payload is not UTF-8 (or starts with a BOM)');
    if (Math.floor((signatureSegment.length * 3) / 4) !== this.keys.signatureBytes)
      return reject('ERR_JWT_SIGNATURE_INVALID', `a ${this.keys.alg} signature is ${this.keys.signatureBytes} bytes`);

    const checked = this.#engine.verifySignature(token);
    const signature = checked instanceof Promise ? await checked : checked;
    if (!signature.ok) {
      const code =
        signature.reason === 'signature' ? 'ERR_JWT_SIGNATURE_INVALID' : signature.reason === 'alg' ? 'ERR_JWT_ALG_NOT_ALLOWED' : 'ERR_JWT_MALFORMED';
      return reject(code, signature.detail);
    }
    // Only a header our key signed earns a slot: cached before the signature check, a few forged
    // headers would hold every slot for good.
    if (!headerCached && accepted.length < ACCEPTED_HEADER_CACHE) accepted.push(headerSegment);
    return this.#checkClaims(signature.payload, kind);
  }

  /** The longest lifetime (exp - iat, and exp - now) a token of `kind` may have: its TTL + lifetimeLeewayMs. */
  maxLifetimeMs(kind: TokenKind): number {
    const { accessTtlMs, refreshTtlMs, leewayMs, lifetimeLeewayMs = leewayMs } = this.settings;
    return (kind === 'access' ? accessTtlMs : refreshTtlMs) + lifetimeLeewayMs;
  }

  /** Undefined when the header is acceptable for `kind`; the rejection otherwise. */
  #checkHeader(headerSegment: string, kind: TokenKind): TokenCheck | undefined {
    if (!SEGMENT.test(headerSegment)) return reject('ERR_JWT_MALFORMED', 'header is not base64url');
    let header: unknown;
    try {
      header = JSON.parse(decoder.decode(Buffer.from(headerSegment, 'base64url')));
    } catch {
      return reject('ERR_JWT_MALFORMED', 'header is not JSON');
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) return reject('ERR_JWT_MALFORMED', 'header is not a JSON object');
    const h = header as Record<string, unknown>;
    if (h.alg !== this.keys.alg) return reject('ERR_JWT_ALG_NOT_ALLOWED', `alg ${describeClaim(h.alg)} is not allowed; this key is pinned to ${this.keys.alg}`);
    if (h.crit !== undefined) return reject('ERR_JWT_MALFORMED', 'crit header parameters are not supported');
    if (typeof h.typ !== 'string' || !ACCEPTED_TYPES[kind].has(h.typ))
      return reject('ERR_JWT_TYPE_INVALID', `typ ${describeClaim(h.typ)} where ${TOKEN_TYPES[kind]} (${kind} token) is expected`);
    return undefined;
  }

  /**
   * Claims, in this order: presence and type, then time (exp, nbf, iat, lifetime), then iss and
   * aud. Every number is checked finite before use, and every instant in a detail goes through
   * describeNumericDate, so no claim value can make this throw.
   */
  #checkClaims(payload: unknown, kind: TokenKind): TokenCheck {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return reject('ERR_JWT_MALFORMED', 'payload is not a JSON object');
    const p = payload as Record<string, unknown>;
    // Each claim read by its name, not in a loop over names: a load by a varying key is a megamorphic lookup on every verify.
    if (typeof p.sub !== 'string' || p.sub === '') return reject('ERR_JWT_CLAIM_MISSING', 'sub must be a non-empty string');
    if (typeof p.jti !== 'string' || p.jti === '') return reject('ERR_JWT_CLAIM_MISSING', 'jti must be a non-empty string');
    // JSON.parse turns 1e400 into Infinity: "a number" is not enough.
    if (!isFiniteNumber(p.iat)) return reject('ERR_JWT_CLAIM_MISSING', `iat must be a finite number, got ${describeClaim(p.iat)}`);
    if (!isFiniteNumber(p.exp)) return reject('ERR_JWT_CLAIM_MISSING', `exp must be a finite number, got ${describeClaim(p.exp)}`);
    if (p.nbf !== undefined && !isFiniteNumber(p.nbf)) return reject('ERR_JWT_CLAIM_MISSING', `nbf must be a finite number, got ${describeClaim(p.nbf)}`);
    const iatMs = (p.iat as number) * 1000;
    let issuedAtMs = iatMs;
    if (p.iat_ms !== undefined) {
      // iat_ms refines iat; it may not move the issue time out of iat's second, or iat's checks would not bind it.
      if (!isFiniteNumber(p.iat_ms) || p.iat_ms < iatMs || p.iat_ms >= iatMs + 1000)
        return reject('ERR_JWT_CLAIM_MISSING', `iat_ms ${describeClaim(p.iat_ms)} does not fall within the second iat ${p.iat} names`);
      issuedAtMs = p.iat_ms;
    }
    const now = this.now();
    const { leewayMs, iatLeewayMs = leewayMs } = this.settings;
    const expiresAtMs = (p.exp as number) * 1000;
    // Each test is written so that it passes only when the comparison holds: a NaN (Infinity -
    // Infinity, a broken clock) rejects instead of slipping through.
    if (!(expiresAtMs > now - leewayMs)) return reject('ERR_JWT_EXPIRED', `expired at ${describeNumericDate(p.exp as number)}`);
    if (p.nbf !== undefined && !((p.nbf as number) * 1000 <= now + leewayMs))
      return reject('ERR_JWT_NOT_YET_VALID', `not valid before ${describeNumericDate(p.nbf as number)}`);
    if (!(issuedAtMs <= now + iatLeewayMs))
      return reject(
        'ERR_JWT_ISSUED_IN_FUTURE',
        `issued at ${describeNumericDate(p.iat_ms === undefined ? (p.iat as number) : issuedAtMs / 1000)}, more than ${iatLeewayMs} ms after now (${describeNumericDate(now / 1000)})`,
      );
    const maxLifetimeMs = this.maxLifetimeMs(kind);
    // exp - now counts on its own: an iat far back must not license an exp far ahead.
    if (!(expiresAtMs - issuedAtMs <= maxLifetimeMs && expiresAtMs - now <= maxLifetimeMs))
      return reject(
        'ERR_JWT_LIFETIME_TOO_LONG',
        `exp ${describeNumericDate(p.exp as number)} lies more than ${maxLifetimeMs} ms after iat or now; that is the longest a ${kind} token may live here`,
      );
    if (p.iss !== this.settings.issuer) return reject('ERR_JWT_ISSUER_INVALID', `iss ${describeClaim(p.iss)} is not ${JSON.stringify(this.settings.issuer)}`);
    const aud = p.aud;
    if (!(aud === this.settings.audience || (Array.isArray(aud) && aud.includes(this.settings.audience)))) {
      return reject('ERR_JWT_AUDIENCE_INVALID', `aud ${describeClaim(aud)} does not include ${JSON.stringify(this.settings.audience)}`);
    }
    return {
      ok: true,
      claims: { sub: p.sub as string, jti: p.jti as string, issuedAtMs, expiresAtMs, ...(typeof p.fam === 'string' && { fam: p.fam }) },
    };
  }
}
