import { createRequire } from 'node:module';
import type { CryptoKey } from 'jose';
import type { KeyMaterial } from './keys.ts';

export const JWT_ENGINES = ['jose', 'fast-jwt'] as const;
export type JwtEngineName = (typeof JWT_ENGINES)[number];

export type SignatureCheck = { ok: true; payload: unknown } | { ok: false; reason: 'signature' | 'malformed' | 'alg'; detail: string };

/**
 * What differs between engines: producing a signature and checking one. Everything else (size
 * cap, header checks, claims) is shared code, so both engines give the same verdict on any token.
 */
export interface JwtEngine {
  readonly name: JwtEngineName;
  sign(payload: Record<string, unknown>, typ: string): Promise<string>;
  /**
   * Checks the signature and returns the decoded payload; claims are not looked at. An engine that
   * checks synchronously answers at once: an await per verify is a visible share of a fast-jwt HS256 verify.
   */
  verifySignature(token: string): SignatureCheck | Promise<SignatureCheck>;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export async function createJoseEngine(keys: KeyMaterial): Promise<JwtEngine> {
  // Loaded when an engine is made, as fast-jwt is: the engine names and settings schema import this file.
  const { compactVerify, importPKCS8, importSPKI, SignJWT } = await import('jose');
  let signKey: CryptoKey | Uint8Array;
  let verifyKey: CryptoKey | Uint8Array;
  if (keys.alg === 'HS256') {
    signKey = verifyKey = new Uint8Array(keys.signingKeyForFastJwt as Buffer);
  } else {
    // CryptoKeys imported once: jose would otherwise convert a KeyObject on every call.
    signKey = await importPKCS8(keys.signingKeyForFastJwt as string, keys.alg);
    verifyKey = await importSPKI(keys.verificationKeyForFastJwt as string, keys.alg);
  }
  const algorithms = [keys.alg];
  return {
    name: 'jose',
    sign: (payload, typ) => new SignJWT(payload).setProtectedHeader({ alg: keys.alg, typ, kid: keys.kid }).sign(signKey),
    async verifySignature(token) {
      // Payload parsed before the signature is checked, as fast-jwt does, so a token whose payload
      // is not JSON is 'malformed' with either engine.
      let payload: unknown;
      try {
        payload = JSON.parse(decoder.decode(Buffer.from(token.slice(token.indexOf('.') + 1, token.lastIndexOf('.')), 'base64url')));
      } catch (error) {
        return { ok: false, reason: 'malformed', detail: `payload is not JSON: ${(error as Error).message}` };
      }
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
        return { ok: false, reason: 'malformed', detail: 'payload is not a JSON object' };
      try {
        await compactVerify(token, verifyKey, { algorithms });
        return { ok: true, payload };
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return { ok: false, reason: 'signature', detail: 'signature verification failed' };
        if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return { ok: false, reason: 'alg', detail: (error as Error).message };
        return { ok: false, reason: 'malformed', detail: (error as Error).message };
      }
    },
  };
}

interface FastJwtModule {
  createSigner(options: Record<string, unknown>): (payload: Record<string, unknown>) => string;
  createVerifier(options: Record<string, unknown>): (token: string) => unknown;
}

/**
 * `cache`: fast-jwt's verified-token cache, off by default: it would measure a cache, not
 * verification. On (the `pure (fast-jwt cache)` baseline) it remembers a signature already
 * checked; the payload still goes through the shared claim checks on every verify, with our clock,
 * so a cached token expires exactly when an uncached one does (fast-jwt's own expiry is off below).
 */
export function createFastJwtEngine(keys: KeyMaterial, cache: boolean | number = false): JwtEngine {
  const fastJwt = createRequire(import.meta.url)('fast-jwt') as FastJwtModule;
  const signers = new Map<string, (payload: Record<string, unknown>) => string>();
  const signerFor = (typ: string) => {
    let signer = signers.get(typ);
    if (!signer) {
      signer = fastJwt.createSigner({ key: keys.signingKeyForFastJwt, algorithm: keys.alg, header: { typ }, kid: keys.kid });
      signers.set(typ, signer);
    }
    return signer;
  };
  // Expiry and not-before are checked by the shared claim code with its own clock and leeway.
  const verifier = fastJwt.createVerifier({
    key: keys.verificationKeyForFastJwt,
    algorithms: [keys.alg],
    ignoreExpiration: true,
    ignoreNotBefore: true,
    cache,
  });
  return {
    name: 'fast-jwt',
    sign: async (payload, typ) => signerFor(typ)(payload),
    verifySignature(token) {
      try {
        return { ok: true, payload: verifier(token) };
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'FAST_JWT_INVALID_SIGNATURE' || code === 'FAST_JWT_MISSING_SIGNATURE')
          return { ok: false, reason: 'signature', detail: 'signature verification failed' };
        if (code === 'FAST_JWT_INVALID_ALGORITHM') return { ok: false, reason: 'alg', detail: (error as Error).message };
        return { ok: false, reason: 'malformed', detail: (error as Error).message };
      }
    },
  };
}
