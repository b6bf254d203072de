import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { FaultError } from '../../core/errors.ts';
import { type ClientOptions, type ClientTarget, createClient } from '../client.ts';
import { EventLog } from '../events.ts';
import { checkFaultSpec, type FaultAction, type FaultSpec, type InjectedFault } from '../faults.ts';
import { type AddressBlock, allocateAddressBlock } from '../network/address-block.ts';
import type { TopologyOptions } from '../options.ts';
import { trackDir, untrackDir } from '../process/registry.ts';
import type { ObservedRole } from '../redis/replies.ts';
import { RolePoller } from '../redis/role-poller.ts';
import type { ManagedServer, ServerLauncher, ServerSpec } from '../server.ts';
import type { NodeRole, RedisNode, StartedTopology, TopologyEvent, TopologyKind } from '../types.ts';

export const DATA_DIR_PREFIX = 'tokenbench-';

/**
 * What single, sentinel and cluster share, whichever backend runs the servers (processes or
 * containers): the servers, the event log, the role poller, faults, and a teardown that always
 * runs to the end.
 */
export abstract class OwnedTopology implements StartedTopology {
  abstract readonly kind: TopologyKind;
  readonly backend: 'process' | 'container';
  readonly eventLog = new EventLog();
  readonly dataDir: string;
  readonly options: TopologyOptions;
  readonly launcher: ServerLauncher;
  startupMs = 0;
  protected readonly dataServers: ManagedServer[] = [];
  protected readonly sentinelServers: ManagedServer[] = [];
  readonly #rolePoller = new RolePoller(
    () => this.dataServers.map((server) => ({ id: server.id, state: server.state, call: (command: 'ROLE') => server.admin().call(command) })),
    (id, previous, observed) => {
      if (!this.eventLog.closed) this.eventLog.push({ source: 'role', type: 'role-change', node: id, detail: `${previous.role} -> ${observed.role}` });
    },
  );
  protected readonly observedRoles = this.#rolePoller.roles;
  /** Per-node addresses: each node's own loopback address comes from this block, released at stop. */
  #addressBlock: AddressBlock | undefined;
  /** Most recent last: what `killed` and `paused` targets mean. */
  readonly #faulted: { server: ManagedServer; action: 'kill' | 'pause' }[] = [];
  #stopping: Promise<void> | undefined;

  protected constructor(options: TopologyOptions, launcher: ServerLauncher, dataDir: string) {
    this.options = options;
    this.launcher = launcher;
    this.backend = launcher.backend;
    this.dataDir = dataDir;
  }

  static async makeDataDir(kind: TopologyKind, keep: boolean): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `${DATA_DIR_PREFIX}${kind}-`));
    if (!keep) trackDir(dir);
    writeFileSync(join(dir, 'owner.json'), `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() })}\n`);
    return dir;
  }

  /** With `addresses: per-node`, takes a block of loopback addresses before any server is made. */
  protected async allocateAddresses(): Promise<void> {
    if (this.options.addresses === 'per-node') this.#addressBlock = await allocateAddressBlock();
  }

  /** The address a client group sends from (per-node addresses only): outside every node's address. */
  clientAddress(group: number): string | undefined {
    return this.#addressBlock?.clientGroup(group);
  }

  protected newServer(spec: Omit<ServerSpec, 'dir' | 'host' | 'portTaken'>): ManagedServer {
    const index = this.dataServers.length + this.sentinelServers.length;
    const host = this.#addressBlock?.node(index);
    const server = this.launcher.create({
      ...spec,
      dir: join(this.dataDir, spec.id),
      ...(host && { host }),
      portTaken: (port) => [...this.dataServers, ...this.sentinelServers].some((s) => s !== server && (s.port === port || s.busPort === port)),
    });
    server.onUnexpectedExit = (how) => this.eventLog.push({ source: 'process', type: 'exit', node: server.id, detail: how });
    (spec.mode === 'sentinel' ? this.sentinelServers : this.dataServers).push(server);
    return server;
  }

  /** redis.conf lines every data node gets, before topology-specific and user lines. */
  protected dataNodeConfig(server: { id: string; host: string }, port: number): string[] {
    const o = this.options;
    const persistence =
      o.persistence === 'aof'
        ? ['appendonly yes', 'appendfsync everysec', 'save ""']
        : o.persistence === 'rdb'
          ? ['appendonly no']
          : ['appendonly no', 'save ""'];
    return [
      `port ${port}`,
      ...this.listenConfig(server),
      'protected-mode no',
      'daemonize no',
      `dir ${join(this.dataDir, server.id)}`,
      ...persistence,
      // Diskless, no delay: the default 5 s delay holds every replica back by 5 s after each (re)start.
      'repl-diskless-sync yes',
      'repl-diskless-sync-delay 0',
      `min-replicas-to-write ${o.minReplicasToWrite}`,
      `min-replicas-max-lag ${o.minReplicasMaxLag}`,
      ...this.launcher.configLines({ dir: join(this.dataDir, server.id) }),
      ...o.extraConfig,
    ];
  }

  /**
   * bind, and with per-node addresses bind-source-addr: Redis >= 7.0 opens replication, sentinel
   * and cluster-bus links from bind-source-addr, so a link is the pair of its two nodes' addresses.
   */
  protected listenConfig(server: { host: string }): string[] {
    return [`bind ${server.host}`, ...(this.#addressBlock ? [`bind-source-addr ${server.host}`] : [])];
  }

  // ---- views -------------------------------------------------------------------------------

  nodes(): readonly RedisNode[] {
    return [...this.dataServers, ...this.sentinelServers].map((s) => this.toNode(s));
  }

  protected toNode(server: ManagedServer, role?: NodeRole): RedisNode {
    const shard = this.shardOf(server);
    return {
      id: server.id,
      role: role ?? (server.spec.mode === 'sentinel' ? 'sentinel' : (this.observedRoles.get(server.id)?.role ?? 'replica')),
      host: server.host,
      port: server.port,
      state: server.state,
      ...(server.pid !== undefined && { pid: server.pid }),
      ...(server.containerId !== undefined && { containerId: server.containerId }),
      ...(shard !== undefined && { shard }),
    };
  }

  protected shardOf(_server: ManagedServer): number | undefined {
    return undefined;
  }

  protected serverByPort(port: number): ManagedServer | undefined {
    return this.dataServers.find((s) => s.port === port);
  }

  protected serverById(id: string): ManagedServer | undefined {
    return [...this.dataServers, ...this.sentinelServers].find((s) => s.id === id);
  }

  abstract primaries(): Promise<RedisNode[]>;
  abstract waitUntilReady(timeoutMs?: number): Promise<void>;

  /** Sentinel overrides: its watchers' own views lag the servers' by up to 10 s. */
  async waitUntilSettled(timeoutMs?: number): Promise<void> {
    await this.waitUntilReady(timeoutMs);
  }
  protected abstract clientTarget(): ClientTarget;
  protected abstract gracefulFailover(primary: ManagedServer): Promise<void>;

  client(options?: ClientOptions): Redis | Cluster {
    return createClient(this.clientTarget(), options);
  }

  endpoints(): ClientTarget {
    return this.clientTarget();
  }

  events(): AsyncIterable<TopologyEvent> {
    return this.eventLog;
  }

  // ---- role poller: each node's own answer to ROLE, the ground truth of who claims what ------

  protected startRolePoller(): void {
    this.#rolePoller.start({ now: true });
  }

  /** Records the role we configured, before the poller has spoken. */
  protected setInitialRole(server: ManagedServer, observed: ObservedRole): void {
    this.observedRoles.set(server.id, observed);
  }

  // ---- faults --------------------------------------------------------------------------------

  async inject(fault: FaultSpec): Promise<InjectedFault> {
    const { action, target } = checkFaultSpec(fault);
    const server = await this.resolveTarget(target, action);
    // The fault's time is the earliest moment its consequences can show: a kill or pause once it
    // has been delivered (the node acts until then), a restart, resume or failover when it is
    // issued (the node acts from then on: a restarted cluster node can be demoted by gossip before
    // our wait for its PING even ends, and that demotion must not precede its cause).
    const issued = process.hrtime.bigint();
    let at = issued;
    switch (action) {
      case 'kill':
        at = (await server.kill()) ?? process.hrtime.bigint();
        this.#faulted.push({ server, action: 'kill' });
        break;
      case 'pause':
        await server.pause();
        at = process.hrtime.bigint();
        this.#faulted.push({ server, action: 'pause' });
        break;
      case 'resume':
        await server.resume();
        this.#forget(server, 'pause');
        break;
      case 'restart':
        // A restarted node comes back with the config it last wrote: an old primary returns as a
        // primary and it is Sentinel / the cluster that demote it, as in production.
        await server.restart(this.options.readyTimeoutMs);
        this.#forget(server, 'kill');
        break;
      case 'failover':
        await this.gracefulFailover(server);
        break;
    }
    this.eventLog.push({ ns: at, source: 'fault', type: action, node: server.id, detail: target });
    return { action, target, node: server.id, ns: at };
  }

  async heal(): Promise<void> {
    for (const server of [...this.dataServers, ...this.sentinelServers]) {
      if (server.state === 'paused') await this.inject({ action: 'resume', target: server.id });
    }
    for (const server of [...this.dataServers, ...this.sentinelServers]) {
      if (server.state === 'killed') await this.inject({ action: 'restart', target: server.id });
    }
  }

  #forget(server: ManagedServer, action: 'kill' | 'pause'): void {
    const index = this.#faulted.findLastIndex((f) => f.server === server && f.action === action);
    if (index >= 0) this.#faulted.splice(index, 1);
  }

  protected async resolveTarget(target: string, action: FaultAction): Promise<ManagedServer> {
    const fail = (why: string): never => {
      throw new FaultError(`${action} ${target}: ${why}`);
    };
    if (target === 'killed' || target === 'paused') {
      const want = target === 'killed' ? 'kill' : 'pause';
      const entry = this.#faulted.findLast((f) => f.action === want && f.server.state === (want === 'kill' ? 'killed' : 'paused'));
      return entry?.server ?? fail(`no node is ${target} right now`);
    }
    if (target === 'sentinel') {
      if (this.kind !== 'sentinel') fail(`a ${this.kind} topology has no sentinels`);
      return this.sentinelServers.find((s) => s.state === 'running') ?? fail('no running sentinel');
    }
    if (target === 'primary' || target === 'replica' || target.startsWith('shard-primary:')) {
      const primary = await this.primaryFor(target);
      if (target !== 'replica') return primary;
      return (
        this.dataServers.find((s) => s.state === 'running' && this.observedRoles.get(s.id)?.primaryPort === primary.port) ??
        fail(`no running replica of ${primary.id}`)
      );
    }
    return (
      this.serverById(target) ??
      fail(
        `no such node; nodes are ${this.nodes()
          .map((n) => n.id)
          .join(', ')}`,
      )
    );
  }

  /** The current primary a target names. Cluster overrides for shards. */
  protected async primaryFor(target: string): Promise<ManagedServer> {
    if (target.startsWith('shard-primary:')) throw new FaultError(`${target}: only a cluster has shards; this is ${this.kind}`);
    const [primary] = await this.primaries();
    const server = primary && this.serverByPort(primary.port);
    if (!server) throw new FaultError(`${target}: no primary is known right now`);
    return server;
  }

  // ---- teardown ------------------------------------------------------------------------------

  /** Closes connections of subclasses' watchers (sentinel subscriptions, cluster pollers). */
  protected closeWatchers(): void {}

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#rolePoller.stop();
    this.closeWatchers();
    this.eventLog.close();
    await Promise.allSettled([...this.dataServers, ...this.sentinelServers].map((s) => s.stop()));
    this.#addressBlock?.release();
    if (!this.options.keep) {
      rmSync(this.dataDir, { recursive: true, force: true });
      untrackDir(this.dataDir);
    } else writeFileSync(join(this.dataDir, 'owner.json'), `${JSON.stringify({ pid: process.pid, kept: true })}\n`);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
