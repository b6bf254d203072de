import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Ack } from './types.ts';

export type RedisClient = Redis | Cluster;

export interface StoreFailure {
  /** True when the command may have run: a timeout or a connection lost after sending. */
  indeterminate: boolean;
  error: string;
}

/**
 * An error reply (READONLY, NOREPLICAS, OOM...) means the server refused the command; a command
 * that was never written (no offline queue) did not run either. Anything else, a timeout above
 * all, leaves the write's fate unknown.
 */
export function classifyRedisError(error: unknown): StoreFailure {
  const e = error as { name?: string; message?: string };
  const message = e?.message ?? String(error);
  const definite = e?.name === 'ReplyError' || /Stream isn't writeable|enableOfflineQueue options is false/.test(message);
  return { indeterminate: !definite, error: `${e?.name ?? 'Error'}: ${message}` };
}

export interface WaitSetting {
  replicas: number;
  timeoutMs: number;
}

type Command = [name: string, ...args: (string | number)[]];

/**
 * Runs writes in one pipeline (one round trip, one connection), followed by WAIT when asked: WAIT
 * counts replicas that have the writes sent on *this* connection, so it must ride along with them.
 * The ack says how many replicas confirmed; fewer than asked for is no acknowledgement (below).
 */
export async function writeAck(
  client: RedisClient,
  commands: Command[],
  wait: WaitSetting | undefined,
  interpret: (results: unknown[]) => { stored: boolean; detail?: string },
): Promise<Ack> {
  const pipeline = client.pipeline();
  for (const [name, ...args] of commands) pipeline.call(name, ...args);
  if (wait) pipeline.call('WAIT', wait.replicas, wait.timeoutMs);
  let replies: [Error | null, unknown][] | null;
  try {
    replies = await pipeline.exec();
  } catch (error) {
    return { ok: false, code: 'ERR_STORE_UNAVAILABLE', redisOps: 1, ...classifyRedisError(error) };
  }
  if (!replies) return { ok: false, code: 'ERR_STORE_UNAVAILABLE', redisOps: 1, indeterminate: true, error: 'pipeline returned nothing' };
  const failed = replies.slice(0, commands.length).find(([error]) => error);
  if (failed) return { ok: false, code: 'ERR_STORE_UNAVAILABLE', redisOps: 1, ...classifyRedisError(failed[0]) };
  const outcome = interpret(replies.slice(0, commands.length).map(([, value]) => value));
  if (!wait) return { ok: true, redisOps: 1, ...outcome };
  const [waitError, acked] = replies[commands.length]!;
  const replicasAcked = waitError ? 0 : Number(acked);
  // Fewer replicas than asked for: the write is on the primary and may yet be lost with it (a
  // failover, a partition's split brain). That is not the acknowledgement WAIT was asked for, so
  // it is reported as unknown, the way a careful application would treat it (retry, or tell the
  // user the logout is not confirmed), never as done.
  if (replicasAcked < wait.replicas) {
    return {
      ok: false,
      code: 'ERR_NOT_REPLICATED',
      indeterminate: true,
      redisOps: 1,
      replicasAcked,
      replicasRequested: wait.replicas,
      error: waitError ? `WAIT failed: ${waitError.message}` : `WAIT: ${replicasAcked} of ${wait.replicas} replicas confirmed within ${wait.timeoutMs} ms`,
    };
  }
  return { ok: true, redisOps: 1, ...outcome, replicasAcked, replicasRequested: wait.replicas };
}

const NEEDS_ESCAPE = /[%}\uD800-\uDFFF]/;

/**
 * A claim made fit for a Redis key, injectively: `%` -> `%25`, `}` -> `%7D`, and a lone UTF-16
 * surrogate -> `%uD8xx`. With no `}` left, a `{tag}` built from it ends where the tag ends, so the
 * parts after it cannot shift into it; and since UTF-8 turns every lone surrogate into the same
 * U+FFFD, escaping them is what keeps two distinct strings from becoming the same key bytes.
 * The empty string becomes `%0`, which nothing else encodes to: Redis hashes a whole key whose
 * tag is `{}`, which would split a user's keys over slots. Other claims hold none of these and
 * come back as they are.
 */
export function encodeKeyPart(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text === '' ? '%0' : text;
  let encoded = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0x25) encoded += '%25';
    else if (unit === 0x7d) encoded += '%7D';
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      encoded += text.slice(i, i + 2);
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) encoded += `%u${unit.toString(16).toUpperCase()}`;
    else encoded += text[i];
  }
  return encoded;
}

/**
 * `<prefix><kind>:{<tag>}[:<rest>]`, tag and rest through encodeKeyPart: distinct (tag, rest)
 * pairs never share a key, and Redis's hash tag (from the first `{` to the next `}`) is always the
 * whole tag, so a user's keys stay in one Cluster slot whatever the subject holds. The prefix
 * holds no braces (the options schema sees to it) and kinds are ours.
 */
export function redisKey(prefix: string, kind: string, tag: string, rest?: string): string {
  return `${prefix}${kind}:{${encodeKeyPart(tag)}}${rest === undefined ? '' : `:${encodeKeyPart(rest)}`}`;
}

/** FNV-1a: a stable, cheap spread of users over hash-tag groups. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** EVALSHA, falling back to EVAL once per node that has not seen the script (after a restart or failover). */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<{ reply: unknown; redisOps: number }> {
    try {
      return { reply: await client.evalsha(this.#sha, keys.length, ...keys, ...args), redisOps: 1 };
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return { reply: await client.eval(this.#source, keys.length, ...keys, ...args), redisOps: 2 };
    }
  }
}
