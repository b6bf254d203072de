/**
 * Tokens made by hand and signed with a service's own key, so a test can put anything in them:
 * what a buggy or compromised issuer sharing the key could send.
 */
import { createHmac, sign } from 'node:crypto';
import type { KeyMaterial } from '../../strategies/jwt/keys.ts';

export const b64 = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');
export const json = (value: unknown): string => b64(JSON.stringify(value));

/** A real signature by `keys` over `signingInput` (header.payload). */
export function signature(keys: KeyMaterial, signingInput: string): string {
  const data = Buffer.from(signingInput);
  const key = keys.signingKeyForFastJwt;
  switch (keys.alg) {
    case 'HS256':
      return createHmac('sha256', key).update(data).digest('base64url');
    case 'ES256':
      return sign('sha256', data, { key: key as string, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    case 'RS256':
      return sign('sha256', data, key as string).toString('base64url');
    case 'EdDSA':
      return sign(null, data, key as string).toString('base64url');
  }
}

/** header.payload (both already base64url) signed with `keys`. */
export function signedWith(keys: KeyMaterial, headerSegment: string, payloadSegment: string): string {
  const input = `${headerSegment}.${payloadSegment}`;
  return `${input}.${signature(keys, input)}`;
}

/** A JSON object written from [name, JSON text] members as given: duplicates and literals such as 1e400 survive. */
export function objectText(members: readonly (readonly [string, string])[]): string {
  return `{${members.map(([name, text]) => `${JSON.stringify(name)}:${text}`).join(',')}}`;
}
