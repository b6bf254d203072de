import { join } from 'node:path';
import { Redis } from 'ioredis';
import { FaultError } from '../../core/errors.ts';
import type { ClientTarget } from '../client.ts';
import type { SentinelOptions } from '../options.ts';
import { pairsToObject, parseInfo } from '../redis/replies.ts';
import { majorityPort, portInSentinelMessage, SENTINEL_EVENTS } from '../redis/sentinel-messages.ts';
import type { ManagedServer, ServerLauncher } from '../server.ts';
import type { RedisNode } from '../types.ts';
import { waitUntil } from '../wait.ts';
import { OwnedTopology } from './base.ts';

export class SentinelTopology extends OwnedTopology {
  readonly kind = 'sentinel' as const;
  declare readonly options: SentinelOptions;
  readonly #subscribers: Redis[] = [];

  get masterName(): string {
    return this.options.masterName;
  }

  static async start(options: SentinelOptions, launcher: ServerLauncher, signal?: AbortSignal): Promise<SentinelTopology> {
    const began = performance.now();
    const t = new SentinelTopology(options, launcher, await OwnedTopology.makeDataDir('sentinel', options.keep));
    try {
      await t.allocateAddresses();
      const dataNodes = Array.from({ length: options.replicas + 1 }, (_, i) => {
        const server: ManagedServer = t.newServer({ id: `redis-${i}`, mode: 'server', config: ({ port }) => t.dataNodeConfig(server, port) });
        return server;
      });
      const [primary, ...replicas] = dataNodes as [ManagedServer, ...ManagedServer[]];
      await Promise.all(dataNodes.map((s) => s.startFresh(options.readyTimeoutMs)));
      signal?.throwIfAborted();
      // REPLICAOF as a command, not a config line: the command connects at once, the config line
      // waits for the once-a-second replication cron.
      await Promise.all(replicas.map((r) => r.admin().call('REPLICAOF', primary.host, String(primary.port))));
      t.setInitialRole(primary, { role: 'primary' });
      for (const r of replicas) t.setInitialRole(r, { role: 'replica', primaryPort: primary.port });
      // Sentinels learn of replicas from the primary's INFO, sent on connect and then only every
      // 10 s: start them after the replicas are linked or they take 10 s to see them.
      await t.#waitReplicasLinked(primary, replicas, options.readyTimeoutMs);
      signal?.throwIfAborted();
      for (let i = 0; i < options.sentinels; i++) {
        const sentinel: ManagedServer = t.newServer({
          id: `sentinel-${i}`,
          mode: 'sentinel',
          config: ({ port }) => t.#sentinelConfig(sentinel, port, primary),
        });
      }
      await Promise.all(t.sentinelServers.map((s) => s.startFresh(options.readyTimeoutMs)));
      t.#subscribe();
      t.startRolePoller();
      await t.waitUntilReady(options.readyTimeoutMs, signal);
      await t.checkSourceAddresses();
      t.startupMs = performance.now() - began;
      return t;
    } catch (error) {
      await t.stop();
      throw error;
    }
  }

  #sentinelConfig(sentinel: ManagedServer, port: number, primary: ManagedServer): string[] {
    const o = this.options;
    const name = o.masterName;
    return [
      `port ${port}`,
      ...this.listenConfig(sentinel),
      'protected-mode no',
      'daemonize no',
      `dir ${join(this.dataDir, sentinel.id)}`,
      ...this.launcher.configLines({ dir: join(this.dataDir, sentinel.id) }),
      `sentinel monitor ${name} ${primary.host} ${primary.port} ${o.quorum}`,
      `sentinel down-after-milliseconds ${name} ${o.downAfterMs}`,
      `sentinel failover-timeout ${name} ${o.failoverTimeoutMs}`,
      `sentinel parallel-syncs ${name} 1`,
    ];
  }

  async #waitReplicasLinked(primary: ManagedServer, replicas: ManagedServer[], timeoutMs: number): Promise<void> {
    await Promise.all(
      replicas.map((r) =>
        waitUntil(
          `${r.id} linked to ${primary.id} (master_link_status:up)`,
          async () => {
            const info = parseInfo(await r.admin().info('replication'));
            return {
              done: info.master_link_status === 'up' && Number(info.master_port) === primary.port,
              seen: `master_port:${info.master_port} master_link_status:${info.master_link_status}`,
            };
          },
          { timeoutMs },
        ),
      ),
    );
  }

  /** Every sentinel's pub/sub, recorded: +sdown, +odown, +switch-master... with the sentinel as source. */
  #subscribe(): void {
    for (const sentinel of this.sentinelServers) {
      const sub = new Redis({
        host: sentinel.host,
        port: sentinel.port,
        retryStrategy: () => 100,
        maxRetriesPerRequest: null,
        connectionName: 'tokenbench-events',
      });
      sub.on('error', () => {});
      void sub.subscribe(...SENTINEL_EVENTS).catch(() => {});
      sub.on('message', (channel: string, message: string) => {
        if (this.eventLog.closed) return;
        const node = this.#nodeIdInMessage(channel, message);
        this.eventLog.push({ source: 'sentinel', type: channel, ...(node && { node }), detail: `${sentinel.id}: ${message}` });
      });
      this.#subscribers.push(sub);
    }
  }

  /** Sentinel messages name instances by ip:port; map to our ids. `+switch-master` names the new primary. */
  #nodeIdInMessage(channel: string, message: string): string | undefined {
    const port = portInSentinelMessage(channel, message);
    return this.dataServers.find((s) => s.port === port)?.id ?? this.sentinelServers.find((s) => s.port === port)?.id;
  }

  protected override closeWatchers(): void {
    for (const sub of this.#subscribers) sub.disconnect();
    this.#subscribers.length = 0;
  }

  /** What a majority of reachable sentinels say is the primary. */
  async #primaryPortByMajority(): Promise<{ port?: number; seen: string }> {
    const answers = await Promise.all(
      this.sentinelServers
        .filter((s) => s.state === 'running')
        .map((s) =>
          s
            .admin()
            .call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName)
            .then(
              (r) => Number((r as string[])[1]),
              () => undefined,
            ),
        ),
    );
    const seen = `sentinels answered ${answers.map((p) => p ?? 'error').join(', ')}`;
    const port = majorityPort(answers, this.options.sentinels);
    return port === undefined ? { seen } : { port, seen };
  }

  async primaries(): Promise<RedisNode[]> {
    const { port } = await this.#primaryPortByMajority();
    const server = port === undefined ? undefined : this.serverByPort(port);
    return server ? [this.toNode(server, 'primary')] : [];
  }

  /**
   * Ready: every running sentinel names the same primary, which says role:master; each sees every
   * running replica and every other running sentinel, none flagged down; every running replica is
   * linked to that primary.
   */
  async waitUntilReady(timeoutMs = this.options.readyTimeoutMs, signal?: AbortSignal): Promise<void> {
    await this.#waitReady(false, timeoutMs, signal);
  }

  /**
   * Ready, and each sentinel's own last INFO of each replica shows it as a replica of the current
   * primary. Until then a sentinel that still believes a demoted primary says role:master will
   * "convert" it again, undoing a failover that has just promoted it (seen: a forced failover
   * aborted with -failover-abort-slave-timeout). Sentinels refresh that view every 10 s.
   */
  override async waitUntilSettled(timeoutMs = this.options.readyTimeoutMs): Promise<void> {
    await this.#waitReady(true, timeoutMs);
  }

  async #waitReady(settled: boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await waitUntil(
      `sentinel topology ${settled ? 'settled' : 'ready'} (${this.masterName})`,
      async () => {
        const sentinels = this.sentinelServers.filter((s) => s.state === 'running');
        const replicas = this.dataServers.filter((s) => s.state === 'running');
        const masters = await Promise.all(sentinels.map((s) => s.admin().call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName) as Promise<string[]>));
        const ports = new Set(masters.map((m) => Number(m[1])));
        if (ports.size !== 1) return { done: false, seen: `sentinels disagree on the primary: ${[...ports].join(' vs ')}` };
        const primaryPort = [...ports][0]!;
        const primary = this.serverByPort(primaryPort);
        if (primary?.state !== 'running') return { done: false, seen: `primary ${primaryPort} is not running` };
        const role = parseInfo(await primary.admin().info('replication'));
        if (role.role !== 'master') return { done: false, seen: `${primary.id} says role:${role.role}` };
        const expectedReplicas = replicas.length - 1;
        for (const s of sentinels) {
          const seenReplicas = ((await s.admin().call('SENTINEL', 'REPLICAS', this.masterName)) as unknown[]).map(pairsToObject);
          const healthy = seenReplicas.filter(
            (r) => !/s_down|o_down|disconnected/.test(r.flags ?? '') && this.serverByPort(Number(r.port))?.state === 'running',
          );
          if (healthy.length < expectedReplicas) return { done: false, seen: `${s.id} sees ${healthy.length}/${expectedReplicas} replicas` };
          const stale = settled && healthy.find((r) => r['role-reported'] !== 'slave' || Number(r['master-port']) !== primaryPort);
          if (stale)
            return {
              done: false,
              seen: `${s.id} last saw ${this.serverByPort(Number(stale.port))?.id ?? stale.name} as role:${stale['role-reported']} of ${stale['master-port']}`,
            };
          const peers = ((await s.admin().call('SENTINEL', 'SENTINELS', this.masterName)) as unknown[]).map(pairsToObject);
          const healthyPeers = peers.filter((p) => !/s_down|disconnected/.test(p.flags ?? ''));
          if (healthyPeers.length < sentinels.length - 1)
            return { done: false, seen: `${s.id} sees ${healthyPeers.length}/${sentinels.length - 1} other sentinels` };
        }
        for (const r of replicas) {
          if (r === primary) continue;
          const info = parseInfo(await r.admin().info('replication'));
          if (info.master_link_status !== 'up' || Number(info.master_port) !== primaryPort) {
            return { done: false, seen: `${r.id} master_port:${info.master_port ?? '-'} master_link_status:${info.master_link_status ?? info.role}` };
          }
        }
        return { done: true, seen: 'ready' };
      },
      { timeoutMs, intervalMs: 50, ...(signal && { signal }) },
    );
  }

  protected clientTarget(): ClientTarget {
    return {
      kind: 'sentinel',
      masterName: this.masterName,
      sentinels: this.sentinelServers.map((s) => ({ host: s.host, port: s.port })),
    };
  }

  protected async gracefulFailover(target: ManagedServer): Promise<void> {
    const [primary] = await this.primaries();
    if (!primary || primary.id !== target.id)
      throw new FaultError(`failover ${target.id}: Sentinel can only fail over the current primary (${primary?.id ?? 'unknown'})`);
    const sentinel = this.sentinelServers.find((s) => s.state === 'running');
    if (!sentinel) throw new FaultError('failover: no running sentinel to ask');
    await sentinel.admin().call('SENTINEL', 'FAILOVER', this.masterName);
  }
}
