import { performance } from 'node:perf_hooks';
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import { InvalidOptionError } from '../core/errors.ts';
import { bindSentinelEmitter } from '../topologies/local-address.ts';
import { StoreBackedStrategy } from './base.ts';
import { BlacklistStrategy, revokedTokenKey, watermarkKey } from './blacklist.ts';
import { classifyKey, type ReplicaKeyKind, type ReplicaPrefixes, ReplicaShard, replicaPrefixes, scanPattern } from './denylist-replica.ts';
import { describeNumericDate, type TokenService } from './jwt/token-service.ts';
import type { StrategyOptions } from './options.ts';
import type { RedisClient } from './store.ts';
import type { Ack, Issued, LocalState, Strategy, Verdict } from './types.ts';

/** Where Redis publishes invalidations for a client that redirects them to a RESP2 subscriber. */
const INVALIDATE_CHANNEL = '__redis__:invalidate';
const SCAN_COUNT = 1000;
const CLUSTER_SLOTS = 16384;
const MGET_CHUNK = 1000;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 1000;
/** Cluster: how often the slot map is asked for again while a node's part of the replica is down. */
const TOPOLOGY_POLL_MS = 250;
/** createStrategy waits this long for the first load; after it, verify follows the failure policy until the load completes. */
const FIRST_LOAD_WAIT_MS = 10_000;

/**
 * Our connections, not the verify client's: RESP2, because ioredis 6 drops RESP3 `invalidate`
 * pushes without a word (a RESP3 replica would never hear of a revocation); no resubscribe of its
 * own, because a reconnected subscriber has a new client id and tracking must be armed again from
 * scratch; no lazy connect, since nothing is ever sent before `ready`.
 */
const TRACKING_CONNECTION: RedisOptions = { protocol: 2, autoResubscribe: false, lazyConnect: false, enableOfflineQueue: true };

export interface ReplicaHooks {
  /** Test seam: tracking is armed on `node`, its entries not yet loaded. */
  afterArm?: (node: string) => Promise<void> | void;
}

export interface ReplicaStats {
  live: boolean;
  /** Tracked primaries (1 outside Cluster). */
  nodes: number;
  entries: number;
  watermarks: number;
  /** Heap estimate of entries and watermarks (strategies/denylist-replica.ts says how). */
  bytesEstimate: number;
  /** Completed loads (the first one included), over every node. */
  reloads: number;
  /** Keys named by invalidation messages, ours or not. */
  invalidationsReceived: number;
  /** Arm + load + catch-up of the most recent completed load, in ms; null before the first. */
  lastReloadMs: number | null;
}

interface Counters {
  reloads: number;
  invalidationsReceived: number;
  lastReloadMs: number | null;
}

interface Confirmation {
  key: string;
  kind: Exclude<ReplicaKeyKind, 'other'>;
  ticket: number;
}

function waitForBoth(a: Redis, b: Redis, abandoned: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      // 'end': the connection gave up reconnecting (a Cluster node's connections never retry).
      if (abandoned() || a.status === 'end' || b.status === 'end') {
        stop();
        reject(new Error('abandoned'));
      } else if (a.status === 'ready' && b.status === 'ready') {
        stop();
        resolve();
      }
    };
    const stop = () => {
      for (const c of [a, b]) {
        c.off('ready', check);
        c.off('end', check);
      }
    };
    for (const c of [a, b]) {
      c.on('ready', check);
      c.on('end', check);
    }
    check();
  });
}

/**
 * One primary's part of the replica, on two connections of its own: a RESP2 subscriber that
 * receives the invalidations, and a data connection that owns the tracking and does the loading
 * and confirming. Each attempt (a generation) opens both anew and goes: arm broadcast tracking,
 * load (SCAN + MGET), catch up, live. Invalidations that arrive while loading wait for the load:
 * their confirmations are then sent after every SCAN page, so they carry the newest state and are
 * applied last. Losing either connection loses the tracking: the node is not live until a new
 * generation has loaded again.
 */
class TrackedNode {
  shard = new ReplicaShard();
  live = false;
  #closed = false;
  #generation = 0;
  #retries = 0;
  #loading = true;
  #queue: Confirmation[] = [];
  #flushScheduled = false;
  #data: Redis | undefined;
  #subscriber: Redis | undefined;

  readonly name: string;
  readonly #open: () => Redis;
  readonly #prefixes: ReplicaPrefixes;
  readonly #counters: Counters;
  readonly #hooks: ReplicaHooks;
  readonly #onChange: () => void;

  constructor(name: string, open: () => Redis, prefixes: ReplicaPrefixes, counters: Counters, hooks: ReplicaHooks, onChange: () => void) {
    this.name = name;
    this.#open = open;
    this.#prefixes = prefixes;
    this.#counters = counters;
    this.#hooks = hooks;
    this.#onChange = onChange;
  }

  start(): void {
    this.#begin();
  }

  close(): void {
    this.#closed = true;
    this.#generation++;
    this.live = false;
    this.#teardown();
  }

  #teardown(): void {
    this.#data?.disconnect();
    this.#subscriber?.disconnect();
    this.#data = undefined;
    this.#subscriber = undefined;
  }

  #begin(): void {
    if (this.#closed) return;
    const generation = ++this.#generation;
    this.#teardown();
    this.live = false;
    this.#loading = true;
    this.#queue = [];
    this.shard = new ReplicaShard();
    const data = this.#open();
    const subscriber = this.#open();
    for (const c of [data, subscriber]) c.on('error', () => {});
    this.#data = data;
    this.#subscriber = subscriber;
    subscriber.on('messageBuffer', (channel: Buffer | string, payload: unknown) => {
      if (generation === this.#generation && String(channel) === INVALIDATE_CHANNEL) this.#invalidated(generation, payload);
    });
    this.#arm(generation, data, subscriber).catch(() => this.#lost(generation));
  }

  /** The generation's connections dropped or a step failed: start over after a pause that grows with each failure. */
  #lost(generation: number): void {
    if (generation !== this.#generation || this.#closed) return;
    this.#generation++;
    const wasLive = this.live;
    this.live = false;
    this.#teardown();
    if (wasLive) this.#onChange();
    const delay = Math.min(RETRY_MIN_MS * 2 ** this.#retries++, RETRY_MAX_MS);
    setTimeout(() => this.#begin(), delay).unref();
  }

  async #arm(generation: number, data: Redis, subscriber: Redis): Promise<void> {
    // Until both are up ioredis retries on its own; nothing is armed yet, so a drop costs nothing.
    await waitForBoth(data, subscriber, () => generation !== this.#generation);
    const lost = () => this.#lost(generation);
    data.once('close', lost);
    subscriber.once('close', lost);
    const started = performance.now();
    const id = await subscriber.client('ID');
    await subscriber.subscribe(INVALIDATE_CHANNEL);
    await data.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.#prefixes.entry, 'PREFIX', this.#prefixes.watermark);
    await this.#hooks.afterArm?.(this.name);
    await this.#load(data, this.shard);
    // Redis writes broadcast invalidations before replies in the same event-loop turn, so once a
    // PING sent after the last SCAN page comes back on the subscriber, every write SCAN may have
    // missed has been announced; their confirmations then go out on the data connection.
    await subscriber.ping();
    this.#loading = false;
    await this.#flush(generation);
    if (generation !== this.#generation) return;
    this.live = true;
    this.#retries = 0;
    this.#counters.reloads++;
    this.#counters.lastReloadMs = performance.now() - started;
    this.#onChange();
  }

  async #load(data: Redis, shard: ReplicaShard): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await data.scan(cursor, 'MATCH', scanPattern(this.#prefixes.entry), 'COUNT', SCAN_COUNT);
      for (const key of keys) shard.loadedEntry(key);
      cursor = next;
    } while (cursor !== '0');
    const watermarks: string[] = [];
    do {
      const [next, keys] = await data.scan(cursor, 'MATCH', scanPattern(this.#prefixes.watermark), 'COUNT', SCAN_COUNT);
      watermarks.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    for (let i = 0; i < watermarks.length; i += MGET_CHUNK) {
      const chunk = watermarks.slice(i, i + MGET_CHUNK);
      const values = await data.mget(...chunk);
      chunk.forEach((key, j) => {
        shard.loadedWatermark(key, values[j] ?? null);
      });
    }
  }

  #invalidated(generation: number, payload: unknown): void {
    // A null payload is FLUSHALL / FLUSHDB: every key is gone; a fresh load says so exactly.
    if (payload === null || payload === undefined) {
      this.#lost(generation);
      return;
    }
    for (const raw of Array.isArray(payload) ? payload : [payload]) {
      const key = String(raw);
      this.#counters.invalidationsReceived++;
      const kind = classifyKey(key, this.#prefixes);
      if (kind === 'other') continue;
      this.#queue.push({ key, kind, ticket: this.shard.invalidated(key, kind) });
    }
    if (!this.#loading && !this.#flushScheduled) {
      this.#flushScheduled = true;
      // One pipeline for every invalidation that arrived in the same turn.
      setImmediate(() => void this.#flush(generation));
    }
  }

  /** EXISTS for an entry (expired or deleted: forget it), GET for a watermark (keep the highest). */
  async #flush(generation: number): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    const data = this.#data;
    if (batch.length === 0 || !data || generation !== this.#generation) return;
    const shard = this.shard;
    const pipeline = data.pipeline();
    for (const c of batch) {
      if (c.kind === 'entry') pipeline.exists(c.key);
      else pipeline.get(c.key);
    }
    try {
      const replies = await pipeline.exec();
      if (!replies) throw new Error('pipeline returned nothing');
      if (generation !== this.#generation) return;
      batch.forEach((c, i) => {
        const [error, value] = replies[i]!;
        if (error) throw error;
        if (c.kind === 'entry') shard.confirmEntry(c.key, c.ticket, Number(value) > 0);
        else shard.confirmWatermark(c.key, c.ticket, (value as string | null) ?? null);
      });
    } catch {
      // The unconfirmed entries stay revoked (fail-safe) until the reload replaces the shard.
      this.#lost(generation);
    }
  }
}

function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}

/**
 * The whole denylist in this process: one TrackedNode per primary (one outside Cluster). Live only
 * when every tracked primary is; a Cluster's primaries are taken from the client's slot map, asked
 * again on every topology event and, while a node is down, every TOPOLOGY_POLL_MS until a failover
 * shows up in it.
 */
export class DenylistReplica {
  readonly #redis: RedisClient;
  readonly #prefixes: ReplicaPrefixes;
  readonly #hooks: ReplicaHooks;
  readonly #nodes = new Map<string, TrackedNode>();
  readonly #counters: Counters = { reloads: 0, invalidationsReceived: 0, lastReloadMs: null };
  readonly #waiters = new Set<() => void>();
  #closed = false;
  #poll: NodeJS.Timeout | undefined;
  #clusterListeners: [string, () => void][] = [];
  /** Cluster: every slot has a primary in the slot map (outside Cluster: always). */
  #slotsCovered = true;

  constructor(redis: RedisClient, keyPrefix: string, hooks: ReplicaHooks = {}) {
    this.#redis = redis;
    this.#prefixes = replicaPrefixes(keyPrefix);
    this.#hooks = hooks;
  }

  start(): void {
    const redis = this.#redis;
    if (!isCluster(redis)) {
      this.#track('primary', () => {
        const connection = redis.duplicate(TRACKING_CONNECTION);
        bindSentinelEmitter(connection);
        return connection;
      });
      return;
    }
    this.#slotsCovered = false;
    const reconcile = () => this.#reconcile(redis);
    for (const event of ['ready', 'refresh', '+node', '-node']) {
      redis.on(event, reconcile);
      this.#clusterListeners.push([event, reconcile]);
    }
    reconcile();
  }

  get live(): boolean {
    if (this.#nodes.size === 0 || !this.#slotsCovered) return false;
    for (const node of this.#nodes.values()) if (!node.live) return false;
    return true;
  }

  isRevoked(entryKey: string): boolean {
    for (const node of this.#nodes.values()) if (node.shard.entries.has(entryKey)) return true;
    return false;
  }

  /** Highest watermark any node holds for this key (a key lives on one node; during a slot move it may be on two). */
  watermark(key: string): number | undefined {
    let highest: number | undefined;
    for (const node of this.#nodes.values()) {
      const ms = node.shard.watermarks.get(key);
      if (ms !== undefined && (highest === undefined || ms > highest)) highest = ms;
    }
    return highest;
  }

  /** Resolves true once live, false if timeoutMs passes first or the replica is closed. */
  whenLive(timeoutMs: number): Promise<boolean> {
    if (this.live) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        if (!this.live && !this.#closed) return;
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve(this.live);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(done);
        resolve(this.live);
      }, timeoutMs);
      this.#waiters.add(done);
    });
  }

  get stats(): ReplicaStats {
    let entries = 0;
    let watermarks = 0;
    let bytesEstimate = 0;
    for (const node of this.#nodes.values()) {
      entries += node.shard.entries.size;
      watermarks += node.shard.watermarks.size;
      bytesEstimate += node.shard.bytesEstimate;
    }
    return { live: this.live, nodes: this.#nodes.size, entries, watermarks, bytesEstimate, ...this.#counters };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    if (isCluster(this.#redis)) for (const [event, listener] of this.#clusterListeners) this.#redis.off(event, listener);
    for (const node of this.#nodes.values()) node.close();
    this.#nodes.clear();
    this.#changed();
  }

  #track(name: string, open: () => Redis): void {
    const node = new TrackedNode(name, open, this.#prefixes, this.#counters, this.#hooks, () => this.#changed());
    this.#nodes.set(name, node);
    node.start();
  }

  #changed(): void {
    for (const waiter of [...this.#waiters]) waiter();
    if (!isCluster(this.#redis) || this.#closed) return;
    const cluster = this.#redis;
    if (this.live) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    } else {
      this.#poll ??= setInterval(() => {
        if (cluster.status === 'ready') cluster.refreshSlotsCache();
        this.#reconcile(cluster);
      }, TOPOLOGY_POLL_MS).unref();
    }
  }

  /**
   * Track exactly the primaries the slot map names now: a failover replaces one, a MOVED or a
   * reshard may add one. The slot map, not the connection pool: the pool drops a dead primary's
   * connection at once, while its slots stay its own until the cluster promotes a replica, and
   * until then that part of the denylist has nobody tracking it.
   */
  #reconcile(cluster: Cluster): void {
    if (this.#closed || cluster.status !== 'ready') return;
    const primaries = new Set<string>();
    let covered = cluster.slots.length === CLUSTER_SLOTS;
    for (let slot = 0; slot < CLUSTER_SLOTS && covered; slot++) {
      const primary = cluster.slots[slot]?.[0];
      if (primary === undefined) covered = false;
      else primaries.add(primary);
    }
    const wasComplete = this.#slotsCovered;
    this.#slotsCovered = covered;
    if (!covered) {
      if (wasComplete) this.#changed();
      return;
    }
    let changed = !wasComplete;
    for (const [name, node] of this.#nodes) {
      if (primaries.has(name)) continue;
      node.close();
      this.#nodes.delete(name);
      changed = true;
    }
    for (const name of primaries) {
      if (this.#nodes.has(name)) continue;
      const at = name.lastIndexOf(':');
      const endpoint = { host: name.slice(0, at), port: Number(name.slice(at + 1)) };
      // The options the Cluster gives its own node connections: credentials, TLS, a local address.
      this.#track(name, () => new Redis({ ...cluster.options.redisOptions, ...endpoint, ...TRACKING_CONNECTION }));
      changed = true;
    }
    if (changed) this.#changed();
  }
}

const notLive = Object.assign(new Error('the local replica of the denylist is (re)loading'), { name: 'ReplicaNotLive' });

/**
 * Denylist held in every verifier's memory: the blacklist's keys and writes (key-per-token), read
 * from a full replica that Redis keeps fresh with broadcast invalidations. verify touches no network
 * while the replica is live; while it is not (first load, reconnect, failover) verify follows the
 * failure policy, marked degraded, as blacklist does when Redis errors.
 */
export class ReplicatedBlacklistStrategy extends StoreBackedStrategy implements Strategy {
  readonly name = 'replicated-blacklist' as const;
  readonly label = 'replicated-blacklist';
  readonly guarantee: { boundedByMs: number };
  readonly #writer: BlacklistStrategy;
  readonly #replica: DenylistReplica;

  constructor(tokens: TokenService, redis: RedisClient, options: StrategyOptions, hooks: ReplicaHooks = {}) {
    super(tokens, redis, options);
    if (options.blacklist.layout !== 'key-per-token') {
      throw new InvalidOptionError('blacklist.layout', 'key-per-token: replicated-blacklist mirrors one key per revoked token', options.blacklist.layout);
    }
    this.guarantee = { boundedByMs: options.replicated.boundedByMs };
    this.#writer = new BlacklistStrategy(tokens, redis, options);
    this.#replica = new DenylistReplica(redis, options.keyPrefix, hooks);
  }

  /** Starts tracking and waits for the first load (up to timeoutMs): true if the replica is live. */
  start(timeoutMs = FIRST_LOAD_WAIT_MS): Promise<boolean> {
    this.#replica.start();
    return this.#replica.whenLive(timeoutMs);
  }

  get live(): boolean {
    return this.#replica.live;
  }

  whenLive(timeoutMs: number): Promise<boolean> {
    return this.#replica.whenLive(timeoutMs);
  }

  get stats(): ReplicaStats {
    return this.#replica.stats;
  }

  localState(): LocalState {
    const s = this.#replica.stats;
    return {
      entries: s.entries + s.watermarks,
      bytesEstimate: s.bytesEstimate,
      hits: null,
      misses: null,
      reloads: s.reloads,
      lastReloadMs: s.lastReloadMs,
      clears: null,
    };
  }

  issue(subject: string): Promise<Issued> {
    return this.#writer.issue(subject);
  }

  revoke(token: string): Promise<Ack> {
    return this.#writer.revoke(token);
  }

  revokeAll(subject: string): Promise<Ack> {
    return this.#writer.revokeAll(subject);
  }

  async verify(token: string): Promise<Verdict> {
    const check = await this.tokens.check(token, 'access');
    if (!check.ok) return this.tokenRejected(check);
    const { claims } = check;
    if (!this.#replica.live) return this.storeUnavailable(claims, notLive, 0);
    const { keyPrefix } = this.options;
    if (this.#replica.isRevoked(revokedTokenKey(keyPrefix, claims.sub, claims.jti))) {
      return { ok: false, code: 'ERR_REVOKED', detail: 'this token was revoked', redisOps: 0 };
    }
    const watermark = this.#replica.watermark(watermarkKey(keyPrefix, claims.sub));
    if (watermark !== undefined && claims.issuedAtMs <= watermark) {
      return {
        ok: false,
        code: 'ERR_REVOKED',
        detail: `every token of this user issued up to ${describeNumericDate(watermark / 1000)} was revoked`,
        redisOps: 0,
      };
    }
    return { ok: true, subject: claims.sub, jti: claims.jti, redisOps: 0 };
  }

  close(): Promise<void> {
    return this.#replica.close();
  }
}
