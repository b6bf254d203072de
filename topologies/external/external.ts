import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis as RedisClient } from 'ioredis';
import { Redis } from 'ioredis';
import { FaultError, InvalidOptionError, TokenbenchError } from '../../core/errors.ts';
import { type Access, accessOptions, type ClientOptions, type ClientTarget, createClient, type Endpoint } from '../client.ts';
import { EventLog } from '../events.ts';
import { checkFaultSpec, type FaultSpec, type InjectedFault } from '../faults.ts';
import type { TopologyOptions } from '../options.ts';
import { pairsToObject, parseClusterNodes, parseInfo, parseRoleReply } from '../redis/replies.ts';
import { RolePoller } from '../redis/role-poller.ts';
import { majorityPort, portInSentinelMessage, SENTINEL_EVENTS } from '../redis/sentinel-messages.ts';
import { ADMIN_CONNECTION } from '../server.ts';
import type { NodeRole, RedisNode, StartedTopology, TopologyEvent, TopologyKind } from '../types.ts';
import { waitUntil } from '../wait.ts';

export class ExistingDataError extends TokenbenchError {
  constructor(message: string) {
    super('ERR_EXISTING_DATA', message);
  }
}

/** CLIENT PAUSE ALL cannot be lifted early, so a pause without a stated window lasts this long. */
export const DEFAULT_EXTERNAL_PAUSE_MS = 5000;

interface ExternalNode {
  id: string;
  role: NodeRole;
  host: string;
  port: number;
  shard?: number;
  state: 'running' | 'paused';
  /** performance.now() when our CLIENT PAUSE runs out. */
  pausedUntil?: number;
  admin: RedisClient;
}

/** `host:port`, `[::1]:port` or a redis(s):// URL to an endpoint plus what the URL itself carries. */
export function parseEndpoint(text: string): Endpoint & { username?: string; password?: string; tls?: boolean } {
  if (/^rediss?:\/\//.test(text)) {
    const url = new URL(text);
    // Cluster has only database 0; one rule for all kinds keeps the empty-database check honest.
    if (url.pathname.length > 1 && url.pathname !== '/0')
      throw new InvalidOptionError('--redis', 'a URL to database 0 (tokenbench always uses database 0)', text);
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : 6379,
      ...(url.username && { username: decodeURIComponent(url.username) }),
      ...(url.password && { password: decodeURIComponent(url.password) }),
      ...(url.protocol === 'rediss:' && { tls: true }),
    };
  }
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text)!;
  return { host: match[1]!, port: Number(match[2]) };
}

/**
 * A deployment tokenbench does not own: it connects, discovers the nodes, watches them (ROLE polls,
 * sentinels' pub/sub) and can ask for a graceful failover or a CLIENT PAUSE, but never kills or
 * restarts anything. It runs only on an empty database unless allowed otherwise, writes only
 * under its own per-run key prefix, and removes those keys at stop.
 */
export class ExternalTopology implements StartedTopology {
  readonly backend = 'external' as const;
  readonly kind: TopologyKind;
  readonly eventLog = new EventLog();
  readonly options: TopologyOptions;
  readonly masterName?: string;
  /** Every key this run writes starts with it: `tb:<random>:`. */
  readonly keyPrefix = `tb:${randomBytes(4).toString('hex')}:`;
  startupMs = 0;
  readonly #access: Access;
  readonly #seeds: Endpoint[];
  #data: ExternalNode[] = [];
  #sentinels: ExternalNode[] = [];
  readonly #subscribers: RedisClient[] = [];
  readonly #rolePoller = new RolePoller(
    () => this.#data.map((node) => ({ id: node.id, state: node.state, call: (command: 'ROLE') => node.admin.call(command) })),
    (id, previous, observed) => {
      const node = this.#data.find((n) => n.id === id);
      if (node) node.role = observed.role;
      if (!this.eventLog.closed) this.eventLog.push({ source: 'role', type: 'role-change', node: id, detail: `${previous.role} -> ${observed.role}` });
    },
  );
  #stopping: Promise<void> | undefined;

  private constructor(options: TopologyOptions) {
    this.options = options;
    this.kind = options.kind;
    if (options.kind === 'sentinel') this.masterName = options.masterName;
    const parsed = (options.endpoints ?? []).map(parseEndpoint);
    const fromUrl = parsed.find((e) => e.password !== undefined || e.username !== undefined || e.tls);
    const tls = options.tls || Boolean(fromUrl?.tls);
    this.#access = {
      ...((fromUrl?.username ?? options.username) !== undefined && { username: fromUrl?.username ?? options.username }),
      ...((fromUrl?.password ?? options.password) !== undefined && { password: fromUrl?.password ?? options.password }),
      ...(options.sentinelPassword !== undefined && { sentinelPassword: options.sentinelPassword }),
      ...(tls && { tls: { ...(options.tlsCaFile !== undefined && { ca: readCa(options.tlsCaFile) }), rejectUnauthorized: !options.tlsInsecure } }),
    };
    this.#seeds = parsed.map(({ host, port }) => ({ host, port }));
  }

  static async start(options: TopologyOptions, signal?: AbortSignal): Promise<ExternalTopology> {
    const began = performance.now();
    const t = new ExternalTopology(options);
    try {
      await t.#discover();
      signal?.throwIfAborted();
      await t.waitUntilReady(options.readyTimeoutMs, signal);
      await t.#refuseExistingData();
      if (t.kind === 'sentinel') t.#subscribe();
      t.#startRolePoller();
      t.startupMs = performance.now() - began;
      return t;
    } catch (error) {
      await t.stop();
      throw error;
    }
  }

  #admin(endpoint: Endpoint, sentinel = false): RedisClient {
    // Sentinels have their own password (often none) and no ACL user of the data nodes.
    const { sentinelPassword, tls } = this.#access;
    const access: Access = sentinel ? { ...(sentinelPassword !== undefined && { password: sentinelPassword }), ...(tls && { tls }) } : this.#access;
    const client = new Redis({
      ...accessOptions(access),
      ...ADMIN_CONNECTION,
      host: endpoint.host,
      port: endpoint.port,
      connectTimeout: 2000,
      retryStrategy: () => 100,
      lazyConnect: true,
    });
    client.on('error', () => {});
    return client;
  }

  async #connect(endpoint: Endpoint, what: string, sentinel = false): Promise<RedisClient> {
    const admin = this.#admin(endpoint, sentinel);
    try {
      await admin.connect();
      await admin.ping();
      return admin;
    } catch (error) {
      admin.disconnect();
      throw new TokenbenchError('ERR_EXTERNAL_UNREACHABLE', `${what} ${endpoint.host}:${endpoint.port} did not answer: ${(error as Error).message}`);
    }
  }

  /** Finds every node from the seeds: the deployment as it is now, ids assigned in a stable order. */
  async #discover(): Promise<void> {
    if (this.kind === 'single') {
      if (this.#seeds.length !== 1)
        throw new InvalidOptionError('topology.endpoints', 'exactly one address for a single node (--redis)', this.options.endpoints);
      const seed = this.#seeds[0]!;
      this.#data = [{ id: 'redis-0', role: 'primary', ...seed, state: 'running', admin: await this.#connect(seed, 'redis') }];
      return;
    }
    if (this.kind === 'sentinel') {
      for (const [i, seed] of this.#seeds.entries()) {
        this.#sentinels.push({ id: `sentinel-${i}`, role: 'sentinel', ...seed, state: 'running', admin: await this.#connect(seed, 'sentinel', true) });
      }
      const first = this.#sentinels[0]!.admin;
      const name = this.masterName!;
      const master = (await first.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name).catch(() => null)) as string[] | null;
      if (!master)
        throw new InvalidOptionError(
          '--master-name',
          `a name the sentinels monitor (SENTINEL MASTERS on ${this.#seeds[0]!.host}:${this.#seeds[0]!.port})`,
          name,
        );
      const replicas = ((await first.call('SENTINEL', 'REPLICAS', name)) as unknown[])
        .map(pairsToObject)
        .filter((r) => !/s_down|o_down|disconnected/.test(r.flags ?? ''));
      const addresses = [{ host: master[0]!, port: Number(master[1]) }, ...replicas.map((r) => ({ host: r.ip!, port: Number(r.port) }))];
      for (const [i, address] of addresses.entries()) {
        this.#data.push({
          id: `redis-${i}`,
          role: i === 0 ? 'primary' : 'replica',
          ...address,
          state: 'running',
          admin: await this.#connect(address, 'redis'),
        });
      }
      return;
    }
    const seed = this.#seeds[0]!;
    const admin = await this.#connect(seed, 'cluster node');
    const lines = parseClusterNodes(String(await admin.call('CLUSTER', 'NODES'))).filter((l) => !l.flags.includes('noaddr') && !l.flags.includes('fail'));
    admin.disconnect();
    // Shards in slot order, primaries first: ids read as a table, as in the owned backends.
    const masters = lines.filter((l) => l.flags.includes('master') && l.slots.length > 0).sort((a, b) => a.slots[0]![0] - b.slots[0]![0]);
    const replicas = lines.filter((l) => l.flags.includes('slave'));
    for (const [i, line] of [...masters, ...replicas].entries()) {
      const shard = masters.findIndex((m) => m.id === (line.primaryId ?? line.id));
      // A node that announces no address is reached where the seed was.
      const address = { host: line.host || seed.host, port: line.port };
      this.#data.push({
        id: `redis-${i}`,
        role: line.flags.includes('master') ? 'primary' : 'replica',
        ...address,
        ...(shard >= 0 && { shard }),
        state: 'running',
        admin: await this.#connect(address, 'cluster node'),
      });
    }
  }

  /** A benchmark writes and deletes thousands of keys: never on data someone relies on, unless told. */
  async #refuseExistingData(): Promise<void> {
    const primaries = this.#data.filter((n) => n.role === 'primary');
    let keys = 0;
    for (const node of primaries) keys += Number(await node.admin.dbsize());
    // Another tokenbench run's keys are no one's data: the other generators of a run split across several (`run --shard`) write theirs meanwhile.
    if (keys > 0 && !this.options.allowExistingData && !(await onlyRunKeys(primaries.map((n) => n.admin)))) {
      throw new ExistingDataError(
        `the external Redis already holds ${keys} key${keys === 1 ? '' : 's'} (${primaries.map((n) => `${n.host}:${n.port}`).join(', ')}); tokenbench will not write into a database in use. Point it at an empty one, or pass --allow-existing-data: it then writes only keys under ${this.keyPrefix} and removes them at the end`,
      );
    }
  }

  #subscribe(): void {
    for (const sentinel of this.#sentinels) {
      const sub = this.#admin(sentinel, true);
      sub.options.maxRetriesPerRequest = null;
      sub.options.enableOfflineQueue = true;
      void sub.subscribe(...SENTINEL_EVENTS).catch(() => {});
      sub.on('message', (channel: string, message: string) => {
        if (this.eventLog.closed) return;
        const port = portInSentinelMessage(channel, message);
        const node = this.#data.find((n) => n.port === port)?.id;
        this.eventLog.push({ source: 'sentinel', type: channel, ...(node && { node }), detail: `${sentinel.id}: ${message}` });
      });
      this.#subscribers.push(sub);
    }
  }

  #startRolePoller(): void {
    for (const node of this.#data) if (node.role !== 'sentinel') this.#rolePoller.roles.set(node.id, { role: node.role });
    this.#rolePoller.start({ now: false });
  }

  client(options?: ClientOptions): RedisClient | Cluster {
    return createClient(this.endpoints(), options);
  }

  endpoints(): ClientTarget {
    const access = this.#access;
    switch (this.kind) {
      case 'single':
        return { kind: 'single', endpoint: this.#seeds[0]!, access };
      case 'sentinel':
        return { kind: 'sentinel', masterName: this.masterName!, sentinels: this.#seeds, access };
      case 'cluster':
        return { kind: 'cluster', nodes: this.#data.map(({ host, port }) => ({ host, port })), access };
    }
  }

  nodes(): readonly RedisNode[] {
    return [...this.#data, ...this.#sentinels].map(({ id, role, host, port, shard, state }) => ({
      id,
      role,
      host,
      port,
      state,
      ...(shard !== undefined && { shard }),
    }));
  }

  async primaries(): Promise<RedisNode[]> {
    if (this.kind === 'sentinel') {
      const answers = await Promise.all(
        this.#sentinels.map((s) =>
          s.admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName!).then(
            (r) => Number((r as string[])[1]),
            () => undefined,
          ),
        ),
      );
      const port = majorityPort(answers, this.#sentinels.length);
      const node = port === undefined ? undefined : this.#data.find((n) => n.port === port);
      return node
        ? this.nodes()
            .filter((n) => n.id === node.id)
            .map((n) => ({ ...n, role: 'primary' as const }))
        : [];
    }
    if (this.kind === 'cluster') {
      const lines = await this.#clusterNodes();
      const ports = new Set(lines.filter((l) => l.flags.includes('master') && !l.flags.includes('fail') && l.slots.length > 0).map((l) => l.port));
      return this.nodes()
        .filter((n) => n.role !== 'sentinel' && ports.has(n.port))
        .map((n) => ({ ...n, role: 'primary' as const }));
    }
    return this.nodes().map((n) => ({ ...n, role: 'primary' as const }));
  }

  async #clusterNodes(): Promise<ReturnType<typeof parseClusterNodes>> {
    let lastError: unknown = new FaultError('no cluster node answered');
    for (const node of this.#data) {
      if (node.state !== 'running') continue;
      try {
        return parseClusterNodes(String(await node.admin.call('CLUSTER', 'NODES')));
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  events(): AsyncIterable<TopologyEvent> {
    return this.eventLog;
  }

  /** Ready: single answers PING; sentinels agree on a primary that says so and whose replicas are linked; every cluster node says cluster_state:ok. */
  async waitUntilReady(timeoutMs = this.options.readyTimeoutMs, signal?: AbortSignal): Promise<void> {
    await waitUntil(
      `external ${this.kind} ready`,
      async () => {
        if (this.kind === 'single') return { done: (await this.#data[0]!.admin.ping()) === 'PONG', seen: 'no PONG' };
        if (this.kind === 'cluster') {
          for (const node of this.#data.filter((n) => n.state === 'running')) {
            const info = parseInfo(String(await node.admin.call('CLUSTER', 'INFO')));
            if (info.cluster_state !== 'ok') return { done: false, seen: `${node.id} cluster_state:${info.cluster_state}` };
          }
          return { done: true, seen: 'ready' };
        }
        const [primary] = await this.primaries();
        if (!primary) return { done: false, seen: 'the sentinels name no primary by majority' };
        const node = this.#data.find((n) => n.id === primary.id)!;
        const info = parseInfo(await node.admin.info('replication'));
        if (info.role !== 'master') return { done: false, seen: `${node.id} says role:${info.role}` };
        for (const replica of this.#data.filter((n) => n !== node && n.state === 'running')) {
          const r = parseInfo(await replica.admin.info('replication'));
          if (r.master_link_status !== 'up') return { done: false, seen: `${replica.id} master_link_status:${r.master_link_status ?? r.role}` };
        }
        return { done: true, seen: 'ready' };
      },
      { timeoutMs, intervalMs: 50, ...(signal && { signal }) },
    );
  }

  async waitUntilSettled(timeoutMs = this.options.readyTimeoutMs): Promise<void> {
    await this.waitUntilReady(timeoutMs);
  }

  /** Graceful failover and CLIENT PAUSE only: the servers are not ours to kill. */
  async inject(fault: FaultSpec): Promise<InjectedFault> {
    const { action, target } = checkFaultSpec(fault);
    if (action === 'kill' || action === 'restart') {
      throw new FaultError(
        `${action} ${target}: the external backend does not own its servers; it can fail over (failover) and pause clients (pause, CLIENT PAUSE for the fault's window); kill and restart need --backend process or container`,
      );
    }
    const node = await this.#resolve(target, action);
    // As in the owned backends: a pause dates from its delivery, a resume or failover from its issue.
    let ns = process.hrtime.bigint();
    switch (action) {
      case 'pause': {
        const ms = Math.max(1, Math.round(fault.forMs ?? DEFAULT_EXTERNAL_PAUSE_MS));
        await this.#control(node, 'PAUSE', String(ms), 'ALL');
        node.pausedUntil = performance.now() + ms;
        node.state = 'paused';
        ns = process.hrtime.bigint();
        break;
      }
      case 'resume':
        ns = await this.#untilPauseEnds(node);
        break;
      case 'failover':
        await this.#failover(node);
        break;
    }
    this.eventLog.push({ ns, source: 'fault', type: action, node: node.id, detail: target });
    return { action, target, node: node.id, ns };
  }

  /** CLIENT PAUSE on a connection of its own, so that it never queues behind one of our polls. */
  async #control(node: ExternalNode, ...args: string[]): Promise<void> {
    const connection = await this.#connect(node, node.role === 'sentinel' ? 'sentinel' : 'redis', node.role === 'sentinel');
    try {
      await connection.call('CLIENT', ...args);
    } catch (error) {
      throw new FaultError(`${args[0]!.toLowerCase()} ${node.id}: CLIENT ${args[0]} was refused (${(error as Error).message})`);
    } finally {
      connection.disconnect();
    }
  }

  /**
   * Resume = the pause running out: under CLIENT PAUSE ALL the server holds every client's
   * commands, CLIENT UNPAUSE included. Then the node must answer again.
   */
  async #untilPauseEnds(node: ExternalNode): Promise<bigint> {
    if (node.state !== 'paused') return process.hrtime.bigint();
    const left = (node.pausedUntil ?? 0) - performance.now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    const ended = process.hrtime.bigint();
    await waitUntil(`${node.id} answering again after its CLIENT PAUSE`, async () => ({ done: (await node.admin.ping()) === 'PONG', seen: 'no PONG' }), {
      timeoutMs: this.options.readyTimeoutMs,
    });
    node.state = 'running';
    delete node.pausedUntil;
    return ended;
  }

  async #resolve(target: string, action: string): Promise<ExternalNode> {
    const all = [...this.#data, ...this.#sentinels];
    const fail = (why: string): never => {
      throw new FaultError(`${action} ${target}: ${why}`);
    };
    if (target === 'paused') return all.find((n) => n.state === 'paused') ?? fail('no node is paused right now');
    if (target === 'killed') return fail('the external backend never kills a node');
    if (target === 'sentinel') return this.#sentinels[0] ?? fail(`a ${this.kind} topology has no sentinels`);
    if (target === 'primary' || target === 'replica' || target.startsWith('shard-primary:')) {
      const primaries = await this.primaries();
      const shard = target.startsWith('shard-primary:') ? Number(target.slice('shard-primary:'.length)) : 0;
      const primary = this.kind === 'cluster' ? (primaries.find((p) => p.shard === shard) ?? primaries.find(() => shard === 0)) : primaries[0];
      const node = primary && this.#data.find((n) => n.id === primary.id);
      if (!node) return fail('no primary is known right now');
      if (target !== 'replica') return node;
      return this.#data.find((n) => n !== node && n.role === 'replica') ?? fail(`no replica of ${node.id}`);
    }
    return all.find((n) => n.id === target) ?? fail(`no such node; nodes are ${all.map((n) => n.id).join(', ')}`);
  }

  async #failover(primary: ExternalNode): Promise<void> {
    if (this.kind === 'single') throw new FaultError('failover: a single node has nothing to fail over to');
    if (this.kind === 'sentinel') {
      await this.#sentinels[0]!.admin.call('SENTINEL', 'FAILOVER', this.masterName!);
      return;
    }
    const lines = await this.#clusterNodes();
    const id = lines.find((l) => l.port === primary.port)?.id;
    const replicaLine = lines.find((l) => l.primaryId === id && !l.flags.includes('fail'));
    const replica = replicaLine && this.#data.find((n) => n.port === replicaLine.port);
    if (!replica) throw new FaultError(`failover ${primary.id}: it has no replica to take over`);
    await replica.admin.call('CLUSTER', 'FAILOVER');
  }

  async heal(): Promise<void> {
    for (const node of [...this.#data, ...this.#sentinels]) {
      if (node.state === 'paused') await this.inject({ action: 'resume', target: node.id });
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /** Unpause whatever we paused, remove every key under our prefix (on each node that says it is a primary), disconnect. */
  async #stop(): Promise<void> {
    this.#rolePoller.stop();
    for (const sub of this.#subscribers) sub.disconnect();
    this.eventLog.close();
    await this.heal().catch(() => {});
    // Each node's own ROLE, not one node's view of the others: just after a failover that view can
    // still name the old primary (a replica now, refusing the UNLINKs) and not the new one.
    for (const node of this.#data) {
      if (node.state !== 'running') continue;
      const role = await node.admin.call('ROLE').then(
        (reply) => parseRoleReply(reply).role,
        () => undefined,
      );
      if (role === 'primary') await removeKeys(node.admin, `${this.keyPrefix}*`).catch(() => {});
    }
    for (const node of [...this.#data, ...this.#sentinels]) node.admin.disconnect();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Every key of a run starts with its own prefix, `tb:<8 hex>:`. */
const RUN_KEY = /^tb:[0-9a-f]{8}:/;

/** Whether every key the nodes hold is a tokenbench run's; SCAN stops at the first that is not. */
async function onlyRunKeys(admins: readonly RedisClient[]): Promise<boolean> {
  for (const admin of admins) {
    let cursor = '0';
    do {
      const [next, keys] = (await admin.scan(cursor, 'COUNT', 1000)) as [string, string[]];
      cursor = next;
      if (keys.some((key) => !RUN_KEY.test(key))) return false;
    } while (cursor !== '0');
  }
  return true;
}

/**
 * SCAN + UNLINK, never KEYS (which blocks a server in use). One UNLINK per key, pipelined: a cluster
 * node refuses a multi-key UNLINK whose keys are in different slots (CROSSSLOT).
 */
export async function removeKeys(admin: RedisClient, pattern: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = (await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)) as [string, string[]];
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = admin.pipeline();
    for (const key of keys) pipeline.unlink(key);
    for (const [error, count] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      removed += Number(count);
    }
  } while (cursor !== '0');
  return removed;
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidOptionError('--tls-ca', 'a readable PEM file', `${path} (${(error as NodeJS.ErrnoException).code})`);
  }
}
