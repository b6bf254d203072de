import type { CachingReader, ClientSideCacheStats } from '../topologies/node-redis-client.ts';
import { BlacklistStrategy } from './blacklist.ts';
import type { TokenService } from './jwt/token-service.ts';
import type { StrategyOptions } from './options.ts';
import type { RedisClient } from './store.ts';
import type { Ack, Issued, LocalState, Strategy, Verdict } from './types.ts';

/**
 * The blacklist's key-per-token entries, read through a client-side cache that Redis keeps fresh
 * by pushing an invalidation for every key it changes (node-redis, CLIENT TRACKING). Negative
 * answers are cached too, and they are nearly every answer: a verify of a token never revoked
 * reads two keys that do not exist, and goes to Redis again only once one of them is written.
 *
 * Writes are the blacklist's own (same keys, same TTLs, WAIT on the same connection), on the
 * ioredis client; the node-redis client only reads, one per verifier. Its failure policy is the
 * blacklist's: a read that fails (after the cache was dropped with its connection) rejects or
 * accepts, marked degraded.
 */
export class CachedBlacklistStrategy implements Strategy {
  readonly name = 'cached-blacklist' as const;
  readonly label = 'cached-blacklist';
  readonly #blacklist: BlacklistStrategy;
  readonly #reader: CachingReader;
  readonly #boundedByMs: number;

  constructor(tokens: TokenService, redis: RedisClient, options: StrategyOptions, reader: CachingReader) {
    this.#reader = reader;
    this.#boundedByMs = options.cachedBlacklist.boundedByMs;
    this.#blacklist = new BlacklistStrategy(tokens, redis, options, async (entry, watermark) => {
      const { values, redisOps } = await reader.mget([entry, watermark]);
      return { entry: values[0] ?? null, watermark: values[1] ?? null, redisOps };
    });
  }

  /** Bounded by the delay of the invalidation push, not immediate: an accept may race the push by that much. */
  get guarantee(): { boundedByMs: number } {
    return { boundedByMs: this.#boundedByMs };
  }

  get engine() {
    return this.#blacklist.engine;
  }

  /** This verifier's cache, counted since it was created (across clears). */
  get stats(): Readonly<ClientSideCacheStats> {
    return this.#reader.stats();
  }

  localState(): LocalState {
    const s = this.#reader.stats();
    // node-redis does not say what its entries weigh (README: ~1.1 kB of heap each, measured apart).
    return { entries: s.entries, bytesEstimate: null, hits: s.hits, misses: s.misses, reloads: null, lastReloadMs: null, clears: s.clears };
  }

  issue(subject: string): Promise<Issued> {
    return this.#blacklist.issue(subject);
  }

  verify(token: string): Promise<Verdict> {
    return this.#blacklist.verify(token);
  }

  revoke(token: string): Promise<Ack> {
    return this.#blacklist.revoke(token);
  }

  revokeAll(subject: string): Promise<Ack> {
    return this.#blacklist.revokeAll(subject);
  }

  close(): Promise<void> {
    return this.#reader.close();
  }
}
