import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';

export const JWT_ALGORITHMS = ['ES256', 'HS256', 'EdDSA', 'RS256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/**
 * The key material of one run, in the forms both engines take: KeyObjects for jose (node's
 * WebCrypto-free path) and PEM / raw bytes for fast-jwt.
 */
export interface KeyMaterial {
  alg: JwtAlgorithm;
  signingKey: KeyObject;
  verificationKey: KeyObject;
  /** fast-jwt: PEM for asymmetric keys, the raw secret for HS256. */
  signingKeyForFastJwt: string | Buffer;
  verificationKeyForFastJwt: string | Buffer;
  /** The public key as PEM (or nothing for HS256): what a test needs for the RS/HS confusion attack. */
  publicKeyPem?: string;
  kid: string;
  /** Length of a signature made with this key: a token whose signature differs is refused early. */
  signatureBytes: number;
}

export interface ProvidedKeys {
  /** HS256: the shared secret (at least 32 bytes). */
  secret?: string | Buffer;
  /** Asymmetric algorithms: PKCS#8 private key PEM; the public key is derived from it unless given. */
  privateKeyPem?: string;
  publicKeyPem?: string;
}

/** Keys are generated per run unless given, so no benchmark ever ships with a known key. */
export async function loadKeys(alg: JwtAlgorithm, provided: ProvidedKeys = {}): Promise<KeyMaterial> {
  const kid = randomBytes(6).toString('base64url');
  if (alg === 'HS256') {
    const secret = provided.secret === undefined ? randomBytes(32) : Buffer.from(provided.secret);
    const key = createSecretKey(secret);
    return { alg, signingKey: key, verificationKey: key, signingKeyForFastJwt: secret, verificationKeyForFastJwt: secret, kid, signatureBytes: 32 };
  }
  let privateKey: KeyObject;
  if (provided.privateKeyPem) {
    privateKey = createPrivateKey(provided.privateKeyPem);
  } else {
    const { generateKeyPairSync } = await import('node:crypto');
    privateKey =
      alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
        : alg === 'EdDSA'
          ? generateKeyPairSync('ed25519').privateKey
          : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }
  const publicKey = provided.publicKeyPem ? createPublicKey(provided.publicKeyPem) : createPublicKey(privateKey);
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    alg,
    signingKey: privateKey,
    verificationKey: publicKey,
    signingKeyForFastJwt: privatePem,
    verificationKeyForFastJwt: publicPem,
    publicKeyPem: publicPem,
    kid,
    // ES256: r || s, 32 bytes each (JWS, not DER); Ed25519: 64; RSA: the modulus length.
    signatureBytes: alg === 'RS256' ? (publicKey.asymmetricKeyDetails?.modulusLength ?? 2048) / 8 : 64,
  };
}

/**
 * Fresh keys for a run, as options (text) every strategy instance of it can be given: instances
 * that verify each other's tokens (verifier instances, a fleet of gateways) need the same keys,
 * and generated ones are per instance.
 */
export async function generateSharedKeys(alg: JwtAlgorithm): Promise<{ secret: string } | { privateKeyPem: string }> {
  if (alg === 'HS256') return { secret: randomBytes(32).toString('base64url') };
  const keys = await loadKeys(alg);
  return { privateKeyPem: keys.signingKeyForFastJwt as string };
}
