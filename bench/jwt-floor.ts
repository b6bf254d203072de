import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { type CryptoKey, importPKCS8, importSPKI, jwtVerify, SignJWT } from 'jose';
import { Bench, type Task } from 'tinybench';
import type { BenchRow, SectionResult } from './types.ts';

export type BareEngine = 'jose' | 'fast-jwt';
export type BareAlg = 'HS256' | 'ES256' | 'EdDSA' | 'RS256';

export const ISSUER = 'tokenbench';
export const AUDIENCE = 'tokenbench-api';

/** Per-task measuring budget: short, so the whole `npm run bench` stays within a few minutes. */
export const TASK_TIME_MS = 300;
export const WARMUP_TIME_MS = 100;
export const IN_FLIGHT = 16;

interface FastJwtModule {
  createSigner(options: Record<string, unknown>): (payload: Record<string, unknown>) => string;
  createVerifier(options: Record<string, unknown>): (token: string) => unknown;
}
const fastJwt = createRequire(import.meta.url)('fast-jwt') as FastJwtModule;

/** Key material for one alg, in the forms both libraries take (PEM / raw bytes). */
export interface BareKeys {
  alg: BareAlg;
  /** HS256: the raw secret. Others: PKCS#8 / SPKI PEM. */
  secret?: Buffer;
  privateKeyPem?: string;
  publicKeyPem?: string;
}

export function generateBareKeys(alg: BareAlg): BareKeys {
  // ASCII (base64url of 32 random bytes), so it can also be handed over as a string without re-encoding surprises.
  if (alg === 'HS256') return { alg, secret: Buffer.from(randomBytes(32).toString('base64url')) };
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    alg,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * A bare verifier: the library's own verify with iss/aud checks, none of our pre-checks. Always
 * async (fast-jwt's sync verifier wrapped), so it is awaited exactly like a strategy's verify.
 */
export async function createBareVerifier(engine: BareEngine, keys: BareKeys): Promise<(token: string) => Promise<unknown>> {
  const { alg } = keys;
  if (engine === 'jose') {
    const key: CryptoKey | Uint8Array = alg === 'HS256' ? new Uint8Array(keys.secret!) : await importSPKI(keys.publicKeyPem!, alg);
    const options = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE };
    return async (token) => (await jwtVerify(token, key, options)).payload;
  }
  const verifier = fastJwt.createVerifier({
    key: alg === 'HS256' ? keys.secret! : keys.publicKeyPem!,
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    cache: false,
  });
  return async (token) => verifier(token);
}

/** Signs `count` distinct tokens with the given library (30 min lifetime). */
export async function signBareTokens(engine: BareEngine, keys: BareKeys, count: number): Promise<string[]> {
  const { alg } = keys;
  const now = Math.floor(Date.now() / 1000);
  const payloadFor = (i: number) => ({ iss: ISSUER, aud: AUDIENCE, sub: `user-${i}`, jti: randomBytes(16).toString('base64url'), iat: now, exp: now + 1800 });
  const tokens: string[] = [];
  if (engine === 'jose') {
    const key: CryptoKey | Uint8Array = alg === 'HS256' ? new Uint8Array(keys.secret!) : await importPKCS8(keys.privateKeyPem!, alg);
    for (let i = 0; i < count; i++) tokens.push(await new SignJWT(payloadFor(i)).setProtectedHeader({ alg, typ: 'JWT' }).sign(key));
  } else {
    const signer = fastJwt.createSigner({ key: alg === 'HS256' ? keys.secret! : keys.privateKeyPem!, algorithm: alg });
    for (let i = 0; i < count; i++) tokens.push(signer(payloadFor(i)));
  }
  return tokens;
}

/** A rotating picker over a token list. */
export function rotate<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => {
    const item = items[i]!;
    i = (i + 1) % items.length;
    return item;
  };
}

export function newBench(overrides: { time?: number; warmupTime?: number } = {}): Bench {
  return new Bench({ time: TASK_TIME_MS, warmupTime: WARMUP_TIME_MS, iterations: 32, warmupIterations: 16, throws: true, ...overrides });
}

export interface TaskStats {
  /** Operations per second from the mean latency: opsPerCall * 1000 / mean. */
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  samples: number;
}

/**
 * Throughput is taken as opsPerCall / mean latency (not tinybench's mean of per-sample rates,
 * which a few slow samples skew); p50 / p99 are per call (per batch for batched tasks).
 */
export function statsOf(task: Task | undefined, opsPerCall = 1): TaskStats {
  if (!task) throw new Error('benchmark task missing');
  const result = task.result;
  if (result.state === 'errored') throw result.error;
  if (result.state !== 'completed' && result.state !== 'aborted-with-statistics') throw new Error(`task ${task.name} did not complete: ${result.state}`);
  const { latency } = result;
  return { opsPerSec: (opsPerCall * 1000) / latency.mean, p50Ms: latency.p50, p99Ms: latency.p99, meanMs: latency.mean, samples: latency.samplesCount };
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function toRow(name: string, s: TaskStats, note?: string): BenchRow {
  return { name, opsPerSec: Math.round(s.opsPerSec), p50Ms: round(s.p50Ms, 4), p99Ms: round(s.p99Ms, 4), ...(note !== undefined && { note }) };
}

const ALGS: readonly BareAlg[] = ['HS256', 'ES256', 'EdDSA', 'RS256'];
const ENGINES: readonly BareEngine[] = ['jose', 'fast-jwt'];

/** Section 1: bare jose and bare fast-jwt verify, sequential and with 16 in flight. */
export async function benchJwtFloor(): Promise<SectionResult> {
  const bench = newBench();
  const batchTasks = new Set<string>();
  for (const alg of ALGS) {
    const keys = generateBareKeys(alg);
    for (const engine of ENGINES) {
      const verify = await createBareVerifier(engine, keys);
      const tokens = await signBareTokens(engine, keys, 100);
      await verify(tokens[0]!); // fail fast on a token that does not verify
      const next = rotate(tokens);
      bench.add(`${engine} ${alg} sequential`, async () => {
        await verify(next());
      });
      const batchName = `${engine} ${alg} ${IN_FLIGHT} in flight`;
      batchTasks.add(batchName);
      bench.add(batchName, async () => {
        const batch: Promise<unknown>[] = [];
        for (let i = 0; i < IN_FLIGHT; i++) batch.push(verify(next()));
        await Promise.all(batch);
      });
    }
  }
  await bench.run();

  const rows: BenchRow[] = [];
  const stats = new Map<string, TaskStats>();
  for (const task of bench.tasks) {
    const batch = batchTasks.has(task.name);
    const s = statsOf(task, batch ? IN_FLIGHT : 1);
    stats.set(task.name, s);
    const note = batch
      ? `ops/s = ${IN_FLIGHT} / batch time; p50/p99 are per batch of ${IN_FLIGHT}${task.name.startsWith('fast-jwt') ? ' (fast-jwt verify is synchronous: the batch runs one after another)' : ''}`
      : 'one verify awaited at a time';
    rows.push(toRow(task.name, s, note));
  }

  const notes: string[] = [];
  for (const alg of ALGS) {
    const parts: string[] = [];
    for (const mode of ['sequential', `${IN_FLIGHT} in flight`]) {
      const jose = stats.get(`jose ${alg} ${mode}`);
      const fast = stats.get(`fast-jwt ${alg} ${mode}`);
      if (!jose || !fast) continue;
      parts.push(
        `${mode}: jose ${Math.round(jose.opsPerSec).toLocaleString('en-US')}/s vs fast-jwt ${Math.round(fast.opsPerSec).toLocaleString('en-US')}/s (fast-jwt/jose = ${(fast.opsPerSec / jose.opsPerSec).toFixed(2)}x)`,
      );
    }
    notes.push(`${alg}: ${parts.join('; ')}.`);
  }
  notes.push('Issue reference points (HS256, single thread): ~12k/s jose vs ~145k/s fast-jwt sequential, ~40k/s jose with 16 in flight.');

  return {
    title: 'JWT engine floor (bare jose vs bare fast-jwt)',
    method: `tinybench, ${TASK_TIME_MS} ms per task after ${WARMUP_TIME_MS} ms warmup, one thread: the library's own verify (jose jwtVerify with imported keys, fast-jwt createVerifier with cache off, iss/aud checked) over 100 rotating tokens signed by the same library, awaited one at a time and in Promise.all batches of ${IN_FLIGHT}.`,
    rows,
    targets: [],
    notes,
  };
}
