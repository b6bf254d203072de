import type { ClientTarget, Endpoint } from './client.ts';
import { type ClientOptions, type ResolvedClientOptions, resolveClientOptions } from './client-options.ts';

/**
 * A node-redis client with server-assisted client-side caching, for reads only: ioredis (our
 * client) drops RESP3 invalidation pushes, node-redis keeps a cache that Redis invalidates
 * (CLIENT TRACKING on the data connection itself, so the push arrives on the connection that read
 * the key, before the reply to any later command on it). node-redis drops the whole cache when that
 * connection errors or closes and on every Cluster topology change: a cache that can no longer hear
 * invalidations is never consulted.
 */

export interface ClientSideCacheSettings {
  /** Most entries held; the least recently (LRU) or earliest (FIFO) set is evicted beyond it. */
  maxEntries: number;
  /** Cap on an entry's age in ms; 0: none. */
  ttlMs: number;
  evictPolicy: 'LRU' | 'FIFO';
}

export interface ClientSideCacheStats {
  /** Reads answered from the cache. */
  hits: number;
  /** Reads that went to Redis (or waited on a read of the same keys already in flight). */
  misses: number;
  /** Entries held now. */
  entries: number;
  /** Times the whole cache was dropped: a disconnect, a topology change, a server-side flush. */
  clears: number;
}

export interface CachingReader {
  /** MGET through the cache. `redisOps` 0: served from the cache. */
  mget(keys: readonly string[]): Promise<{ values: (string | null)[]; redisOps: number }>;
  stats(): ClientSideCacheStats;
  close(): Promise<void>;
}

/** The slice of node-redis' client, Sentinel and Cluster types used here (they differ only in generics). */
interface NodeRedisConnection {
  connect(): Promise<unknown>;
  mGet(keys: string[]): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * node-redis' own cache key for a command: every argument's length, then every argument, joined
 * by `_` (generateCacheKey in @redis/client's cache.js, not exported). Reproduced so a hit is
 * served without building a command, and known to be a hit; if a node-redis upgrade changes it,
 * peeks only miss (every read goes through node-redis, still correct), and the hit-ratio test
 * fails.
 */
function nodeRedisCacheKey(args: readonly string[]): string {
  return [...args.map((a) => a.length), ...args].join('_');
}

async function createCache(settings: ClientSideCacheSettings) {
  const { BasicPooledClientSideCache } = await import('redis');
  /**
   * The pooled variant because Sentinel and Cluster accept only that one (a single client takes
   * any provider). Its stats reset on some clears; counted here across clears instead, as a run's
   * hit ratio must include the misses after a failover.
   */
  class CountingCache extends BasicPooledClientSideCache {
    clears = 0;

    override clear(_resetStats?: boolean): void {
      this.clears++;
      super.clear(false);
    }

    peek(cacheKey: string): (string | null)[] | undefined {
      const entry = this.get(cacheKey) as { value?: (string | null)[] } | undefined;
      // A read still in flight is a promise entry (no `value`): that one goes through node-redis and waits.
      if (entry === undefined || !('value' in entry)) return undefined;
      this.recordHits(1);
      return entry.value;
    }
  }
  return new CountingCache({ maxEntries: settings.maxEntries, ttl: settings.ttlMs, evictPolicy: settings.evictPolicy, recordStats: true });
}

function socketOptions(o: ResolvedClientOptions, target: ClientTarget, endpoint?: Endpoint) {
  const tls = target.access?.tls;
  return {
    ...(endpoint && { host: endpoint.host, port: endpoint.port }),
    connectTimeout: o.connectTimeout,
    reconnectStrategy: (retries: number) => Math.min((retries + 1) * 50, o.maxReconnectDelayMs),
    ...(o.localAddress !== undefined && { localAddress: o.localAddress }),
    ...(tls && { tls: true as const, rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca !== undefined && { ca: tls.ca }) }),
  };
}

/** What every data-node connection takes: credentials, the command timeout, the offline queue. */
function nodeOptions(o: ResolvedClientOptions, target: ClientTarget) {
  const username = o.username ?? target.access?.username;
  const password = o.password ?? target.access?.password;
  return {
    RESP: 3 as const,
    // node-redis 6 defaults to 5 s; ours comes from the scenario, as ioredis' does. 0: none, as in ioredis.
    commandOptions: { timeout: o.commandTimeout > 0 ? o.commandTimeout : undefined },
    disableOfflineQueue: !o.enableOfflineQueue,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    ...(o.connectionName !== undefined && { name: o.connectionName }),
  };
}

/**
 * Builds and connects the caching reader for a topology's endpoints, with the scenario's client
 * options where node-redis has an equivalent (timeouts, reconnect delay, offline queue, source
 * address, credentials, TLS). maxRetriesPerRequest and the ioredis Cluster retry delays have none.
 */
export async function createCachingReader(target: ClientTarget, options: ClientOptions, settings: ClientSideCacheSettings): Promise<CachingReader> {
  const o = resolveClientOptions(options);
  const { createClient, createCluster, createSentinel } = await import('redis');
  const cache = await createCache(settings);
  let connection: NodeRedisConnection;
  switch (target.kind) {
    case 'single':
      connection = createClient({
        ...nodeOptions(o, target),
        socket: socketOptions(o, target, target.endpoint),
        clientSideCache: cache,
      }) as NodeRedisConnection;
      break;
    case 'sentinel': {
      const sentinelPassword = target.access?.sentinelPassword ?? o.password;
      connection = createSentinel({
        name: target.masterName,
        sentinelRootNodes: target.sentinels.map(({ host, port }) => ({ host, port })),
        RESP: 3,
        clientSideCache: cache,
        nodeClientOptions: { ...nodeOptions(o, target), socket: socketOptions(o, target) },
        sentinelClientOptions: { socket: socketOptions(o, target), ...(sentinelPassword !== undefined && { password: sentinelPassword }) },
      }) as unknown as NodeRedisConnection;
      break;
    }
    case 'cluster': {
      const { RESP: _resp, ...defaults } = nodeOptions(o, target);
      connection = createCluster({
        rootNodes: target.nodes.map((endpoint) => ({ socket: socketOptions(o, target, endpoint) })),
        defaults: { ...defaults, socket: socketOptions(o, target) },
        RESP: 3,
        clientSideCache: cache,
      }) as unknown as NodeRedisConnection;
      break;
    }
  }
  // Without a listener an 'error' event (every lost connection) would crash the process; the
  // failure reaches the caller as a failed read, which is where the failure policy applies.
  connection.on('error', () => {});
  await connection.connect();
  let closed = false;
  return {
    async mget(keys) {
      const cached = cache.peek(nodeRedisCacheKey(['MGET', ...keys]));
      if (cached) return { values: cached, redisOps: 0 };
      const reply = connection.mGet([...keys]) as Promise<(string | null)[]>;
      if (!(o.commandTimeout > 0)) return { values: await reply, redisOps: 1 };
      // node-redis times a command from when it is sent; Sentinel holds it unsent until it has found
      // a primary (seconds in a failover). The scenario's timeout bounds the whole wait, as in ioredis.
      reply.catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Command timed out after ${o.commandTimeout} ms`)), o.commandTimeout);
      });
      try {
        return { values: await Promise.race([reply, timeout]), redisOps: 1 };
      } finally {
        clearTimeout(timer);
      }
    },
    stats() {
      const s = cache.stats();
      return { hits: s.hitCount, misses: s.missCount, entries: cache.size(), clears: cache.clears };
    },
    async close() {
      if (closed) return;
      closed = true;
      // close() waits for replies in flight; a connection that cannot get them (a dead node) is destroyed.
      const closing = Promise.resolve()
        .then(() => connection.close())
        .then(
          () => true,
          () => false,
        );
      const gaveUp = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), Math.max(o.commandTimeout, 1000)).unref());
      if (!(await Promise.race([closing, gaveUp]))) {
        try {
          connection.destroy();
        } catch {
          // Already closed: nothing left to release.
        }
      }
    },
  };
}
