import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { FaultError, NetworkUnsupportedError } from '../../core/errors.ts';
import { type ClientOptions, type ClientTarget, createClient } from '../client.ts';
import { EventLog } from '../events.ts';
import { checkFaultSpec, type FaultAction, type FaultSpec, type InjectedFault, isNetworkFault, type NetworkFaultAction } from '../faults.ts';
import { type AddressBlock, allocateAddressBlock } from '../network/address-block.ts';
import { type LinkEffect, NetworkFaults, networkFaultSupport } from '../network/nft.ts';
import type { TopologyOptions } from '../options.ts';
import { trackDir, untrackDir } from '../process/registry.ts';
import { type ObservedRole, parseInfo } from '../redis/replies.ts';
import { RolePoller } from '../redis/role-poller.ts';
import type { ManagedServer, ServerLauncher, ServerSpec } from '../server.ts';
import type { NodeRole, RedisNode, StartedTopology, TopologyEvent, TopologyKind } from '../types.ts';
import { describeEffect, type LinkEnd, linkRules } from './links.ts';

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
  /** The run's nft table, opened at the first network fault. */
  #network: NetworkFaults | undefined;
  /** Client groups handed an address, by index: `rest` includes them. */
  readonly #clientGroups = new Set<number>();
  #networkFaultCount = 0;
  /** Network faults in effect, by faultId: what restoreLinks() undoes and reports. */
  readonly #linkFaults = new Map<string, { action: NetworkFaultAction; node: string }>();
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
    const address = this.#addressBlock?.clientGroup(group);
    if (address) this.#clientGroups.add(group);
    return address;
  }

  /**
   * With per-node addresses, each replica must reach its primary from its own address, or a
   * partition would cut nothing: a server that ignores bind-source-addr (Redis < 7.0) links from
   * its first bind address or 127.0.0.1. Asked of each primary's INFO, which shows the peer address.
   */
  protected async checkSourceAddresses(): Promise<void> {
    if (!this.#addressBlock) return;
    for (const server of this.dataServers) {
      if (server.state !== 'running') continue;
      const info = parseInfo(await server.admin().info('replication'));
      for (const [key, value] of Object.entries(info)) {
        if (!/^slave\d+$/.test(key)) continue;
        const fields = Object.fromEntries(value.split(',').map((pair) => pair.split('=') as [string, string]));
        const replica = this.serverByPort(Number(fields.port));
        if (replica && fields.ip !== replica.host)
          throw new NetworkUnsupportedError(
            `${this.launcher.describe} ignores bind-source-addr: ${replica.id} replicates from ${fields.ip}, not its own ${replica.host}, so network faults cannot cut its link (they need Redis >= 7.0 or Valkey)`,
          );
      }
    }
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
    if (isNetworkFault(action)) return this.#cutLinks(action, target, fault);
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
    for (const faultId of [...this.#linkFaults.keys()]) await this.restoreLinks(faultId);
    for (const server of [...this.dataServers, ...this.sentinelServers]) {
      if (server.state === 'paused') await this.inject({ action: 'resume', target: server.id });
    }
    for (const server of [...this.dataServers, ...this.sentinelServers]) {
      if (server.state === 'killed') await this.inject({ action: 'restart', target: server.id });
    }
  }

  // ---- network faults: nft rules on the links between the nodes' own addresses ----------------

  async #cutLinks(action: NetworkFaultAction, target: string, fault: FaultSpec): Promise<InjectedFault> {
    if (!this.#addressBlock) throw new FaultError(`${action} ${target}: network faults need per-node addresses (topology option addresses: per-node)`);
    if (!this.#network) {
      const unsupported = await networkFaultSupport({ delay: action === 'delay' });
      if (unsupported) throw new NetworkUnsupportedError(`${action}: ${unsupported}`);
      this.#network = await NetworkFaults.open(this.#addressBlock);
    }
    const isolated = await this.#side(target, action, []);
    const from = await this.#side(fault.from ?? 'rest', action, isolated);
    const inside = new Set(isolated.map((e) => e.id));
    const outside = from.filter((e) => !inside.has(e.id));
    if (outside.length === 0) throw new FaultError(`${action} ${target}: nothing on the other side (${fault.from ?? 'rest'})`);
    const effect: LinkEffect =
      action === 'partition'
        ? { kind: 'drop' }
        : action === 'loss'
          ? { kind: 'loss', percent: fault.lossPercent! }
          : { kind: 'delay', delayMs: fault.delayMs!, jitterMs: fault.jitterMs ?? 0 };
    const direction = fault.direction ?? 'both';
    const faultId = `${action}-${++this.#networkFaultCount}`;
    const ns = await this.#network.add(faultId, linkRules(isolated, outside, direction, effect));
    const node = isolated.find((e) => !e.id.startsWith('client-'))?.id ?? isolated[0]!.id;
    this.#linkFaults.set(faultId, { action, node });
    const sides = { isolated: isolated.map((e) => e.id), from: outside.map((e) => e.id), direction };
    const arrow = direction === 'both' ? '|' : direction === 'outbound' ? '->' : '<-';
    this.eventLog.push({
      ns,
      source: 'fault',
      type: action,
      node,
      detail: `${sides.isolated.join(', ')} ${arrow} ${sides.from.join(', ')}: ${describeEffect(effect)}`,
    });
    return { action, target, node, ns, faultId, sides, effect: describeEffect(effect) };
  }

  /** Undoes one network fault (its rules go, the others stay). Unknown or already restored: nothing. */
  async restoreLinks(faultId: string): Promise<void> {
    const fault = this.#linkFaults.get(faultId);
    if (!fault || !this.#network) return;
    const ns = await this.#network.remove(faultId);
    this.#linkFaults.delete(faultId);
    this.eventLog.push({ ns, source: 'fault', type: `${fault.action}-healed`, node: fault.node, detail: faultId });
  }

  /** The members a side expression names, resolved against the live topology now. */
  async #side(expression: string, action: FaultAction, otherSide: readonly LinkEnd[]): Promise<LinkEnd[]> {
    const ends = new Map<string, LinkEnd>();
    const add = (server: ManagedServer) => ends.set(server.id, { id: server.id, address: server.host });
    for (const term of expression.split('+')) {
      if (term === 'rest') {
        const taken = new Set(otherSide.map((e) => e.id));
        for (const server of [...this.dataServers, ...this.sentinelServers]) if (!taken.has(server.id)) add(server);
        for (const g of this.#clientGroups) if (!taken.has(`client-${g}`)) ends.set(`client-${g}`, { id: `client-${g}`, address: this.clientAddress(g)! });
      } else if (term === 'sentinels') {
        if (this.kind !== 'sentinel') throw new FaultError(`${action} ${expression}: a ${this.kind} topology has no sentinels`);
        for (const server of this.sentinelServers) add(server);
      } else if (term === 'replicas') {
        const primary = await this.primaryFor('primary');
        const replicas = this.dataServers.filter((s) => s !== primary && this.observedRoles.get(s.id)?.primaryPort === primary.port);
        if (replicas.length === 0) throw new FaultError(`${action} ${expression}: ${primary.id} has no replicas`);
        for (const server of replicas) add(server);
      } else if (term.startsWith('client-')) {
        const group = Number(term.slice('client-'.length));
        if (!this.#clientGroups.has(group)) throw new FaultError(`${action} ${expression}: no client group ${group} sends from its own address`);
        ends.set(term, { id: term, address: this.clientAddress(group)! });
      } else add(await this.resolveTarget(term, action));
    }
    return [...ends.values()];
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
    await this.#network?.close();
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
