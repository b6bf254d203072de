import { join } from 'node:path';
import { FaultError } from '../../core/errors.ts';
import type { ClientTarget } from '../client.ts';
import type { ClusterOptions } from '../options.ts';
import { compareVersions } from '../process/redis-binary.ts';
import { type ClusterNodeLine, parseClusterNodes, parseInfo } from '../redis/replies.ts';
import type { ManagedServer, ServerLauncher } from '../server.ts';
import type { RedisNode } from '../types.ts';
import { waitUntil } from '../wait.ts';
import { OwnedTopology } from './base.ts';

export const CLUSTER_SLOTS = 16384;

/** Slot ranges split as evenly as redis-cli --cluster create splits them. */
export function slotRanges(shards: number): [number, number][] {
  const per = CLUSTER_SLOTS / shards;
  return Array.from({ length: shards }, (_, i) => [Math.round(i * per), Math.round((i + 1) * per) - 1] as [number, number]);
}

const CLUSTER_POLL_MS = 100;

export class ClusterTopology extends OwnedTopology {
  readonly kind = 'cluster' as const;
  declare readonly options: ClusterOptions;
  /** Node id (ours) -> shard index it was created in. */
  readonly #shardOf = new Map<string, number>();
  readonly #ranges: [number, number][];
  #flagsSeen = new Map<string, string>();
  #pollTimer: NodeJS.Timeout | undefined;
  #polling = false;

  private constructor(options: ClusterOptions, launcher: ServerLauncher, dir: string) {
    super(options, launcher, dir);
    this.#ranges = slotRanges(options.shards);
  }

  static async start(options: ClusterOptions, launcher: ServerLauncher, signal?: AbortSignal): Promise<ClusterTopology> {
    const began = performance.now();
    const t = new ClusterTopology(options, launcher, await OwnedTopology.makeDataDir('cluster', options.keep));
    try {
      await t.allocateAddresses();
      const perShard = options.replicasPerShard + 1;
      // Primaries first (redis-0 .. redis-S-1), then replicas, so ids read as a table.
      for (let i = 0; i < options.shards * perShard; i++) {
        const server: ManagedServer = t.newServer({
          id: `redis-${i}`,
          mode: 'server',
          needsBusPort: true,
          config: ({ port, busPort }) => [
            ...t.dataNodeConfig(server, port),
            'cluster-enabled yes',
            `cluster-config-file ${join(t.dataDir, server.id, 'nodes.conf')}`,
            `cluster-node-timeout ${options.nodeTimeoutMs}`,
            `cluster-port ${busPort}`,
            `cluster-announce-ip ${server.host}`,
            // A shard losing its last replica-eligible node should not stop the other shards
            // from answering: the harness measures per-key availability.
            'cluster-require-full-coverage no',
          ],
        });
        t.#shardOf.set(server.id, i % options.shards);
      }
      await Promise.all(t.dataServers.map((s) => s.startFresh(options.readyTimeoutMs)));
      signal?.throwIfAborted();
      await t.#form(signal);
      t.startRolePoller();
      t.#startClusterPoller();
      await t.waitUntilReady(options.readyTimeoutMs, signal);
      await t.checkSourceAddresses();
      t.startupMs = performance.now() - began;
      return t;
    } catch (error) {
      await t.stop();
      throw error;
    }
  }

  /** What redis-cli --cluster create does, without its fixed one-second sleeps. */
  async #form(signal?: AbortSignal): Promise<void> {
    const { shards } = this.options;
    const primaries = this.dataServers.slice(0, shards);
    const replicas = this.dataServers.slice(shards);
    // Asked of a running node: in a container the binary is not ours to ask.
    const serverInfo = parseInfo(await this.dataServers[0]!.admin().info('server'));
    const useRange = compareVersions(serverInfo.redis_version ?? '0', '7.0.0') >= 0;
    await Promise.all(
      primaries.map(async (p, i) => {
        const [from, to] = this.#ranges[i]!;
        if (useRange) await p.admin().call('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
        else await p.admin().call('CLUSTER', 'ADDSLOTS', ...Array.from({ length: to - from + 1 }, (_, k) => String(from + k)));
      }),
    );
    // Distinct epochs up front: otherwise nodes resolve epoch collisions one round at a time.
    await Promise.all(this.dataServers.map((s, i) => s.admin().call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1))));
    const [first] = this.dataServers as [ManagedServer];
    await Promise.all(this.dataServers.slice(1).map((s) => first.admin().call('CLUSTER', 'MEET', s.host, String(s.port), String(s.busPort))));
    const ids = await Promise.all(this.dataServers.map(async (s) => String(await s.admin().call('CLUSTER', 'MYID'))));
    const total = this.dataServers.length;
    await waitUntil(
      `every cluster node knowing all ${total} nodes`,
      async () => {
        for (const s of this.dataServers) {
          const lines = parseClusterNodes(String(await s.admin().call('CLUSTER', 'NODES')));
          const known = lines.filter((l) => !l.flags.includes('handshake') && !l.flags.includes('noaddr')).length;
          if (known < total) return { done: false, seen: `${s.id} knows ${known}/${total}` };
        }
        return { done: true, seen: '' };
      },
      { timeoutMs: this.options.readyTimeoutMs, intervalMs: 20, ...(signal && { signal }) },
    );
    await Promise.all(
      replicas.map((r, k) => {
        const shard = k % shards;
        this.setInitialRole(r, { role: 'replica', primaryPort: primaries[shard]!.port });
        return r.admin().call('CLUSTER', 'REPLICATE', ids[shard]!);
      }),
    );
    for (const p of primaries) this.setInitialRole(p, { role: 'primary' });
  }

  /** CLUSTER NODES from any responsive node: PFAIL / FAIL flags, the cluster's own failure view. */
  #startClusterPoller(): void {
    this.#pollTimer = setInterval(() => void this.#pollFlags(), CLUSTER_POLL_MS);
    this.#pollTimer.unref();
  }

  async #pollFlags(): Promise<void> {
    if (this.#polling || this.eventLog.closed) return;
    this.#polling = true;
    try {
      const lines = await this.#clusterNodes().catch(() => undefined);
      if (!lines || this.eventLog.closed) return;
      for (const line of lines) {
        const server = this.serverByPort(line.port);
        if (!server) continue;
        const state = line.flags.includes('fail') ? 'fail' : line.flags.includes('fail?') ? 'pfail' : 'ok';
        const previous = this.#flagsSeen.get(server.id) ?? 'ok';
        if (state !== previous) {
          this.eventLog.push({ source: 'cluster', type: state === 'ok' ? 'fail-cleared' : state, node: server.id, detail: line.flags.join(',') });
          this.#flagsSeen.set(server.id, state);
        }
      }
    } finally {
      this.#polling = false;
    }
  }

  protected override closeWatchers(): void {
    if (this.#pollTimer) clearInterval(this.#pollTimer);
  }

  protected override shardOf(server: ManagedServer): number | undefined {
    return this.#shardOf.get(server.id);
  }

  /** Asks running nodes in turn (a paused one would stall for the command timeout). */
  async #clusterNodes(): Promise<ClusterNodeLine[]> {
    let lastError: unknown = new FaultError('no running cluster node to ask');
    for (const s of this.dataServers) {
      if (s.state !== 'running') continue;
      try {
        return parseClusterNodes(String(await s.admin().call('CLUSTER', 'NODES')));
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  async primaries(): Promise<RedisNode[]> {
    const lines = await this.#clusterNodes();
    return lines
      .filter((l) => l.flags.includes('master') && !l.flags.includes('fail') && l.slots.length > 0)
      .map((l) => this.serverByPort(l.port))
      .filter((s): s is ManagedServer => s !== undefined)
      .map((s) => this.toNode(s, 'primary'));
  }

  protected override async primaryFor(target: string): Promise<ManagedServer> {
    const shard = target.startsWith('shard-primary:') ? Number(target.slice('shard-primary:'.length)) : 0;
    const range = this.#ranges[shard];
    if (!range) throw new FaultError(`${target}: this cluster has shards 0..${this.#ranges.length - 1}`);
    const lines = await this.#clusterNodes();
    const owner = lines.find((l) => l.flags.includes('master') && !l.flags.includes('fail') && l.slots.some(([a, b]) => a <= range[0] && range[0] <= b));
    const server = owner && this.serverByPort(owner.port);
    if (!server) throw new FaultError(`${target}: no node serves shard ${shard} right now`);
    return server;
  }

  /**
   * Ready: every running node says cluster_state:ok and knows every slot, every running replica is
   * linked to its primary, and each shard has exactly one primary.
   */
  async waitUntilReady(timeoutMs = this.options.readyTimeoutMs, signal?: AbortSignal): Promise<void> {
    await waitUntil(
      'cluster ready (cluster_state:ok everywhere, replicas linked)',
      async () => {
        const running = this.dataServers.filter((s) => s.state === 'running');
        for (const s of running) {
          const info = parseInfo(String(await s.admin().call('CLUSTER', 'INFO')));
          if (info.cluster_state !== 'ok' || Number(info.cluster_slots_ok) !== CLUSTER_SLOTS) {
            return { done: false, seen: `${s.id} cluster_state:${info.cluster_state} cluster_slots_ok:${info.cluster_slots_ok}` };
          }
          const replication = parseInfo(await s.admin().info('replication'));
          if (replication.role === 'slave' && replication.master_link_status !== 'up') {
            return { done: false, seen: `${s.id} master_link_status:${replication.master_link_status}` };
          }
        }
        // Every node must hold the same map: a restarted old primary answers cluster_state:ok from its
        // stale nodes.conf until gossip demotes it.
        let agreed: string | undefined;
        for (const s of running) {
          const lines = parseClusterNodes(String(await s.admin().call('CLUSTER', 'NODES')));
          const me = lines.find((l) => l.flags.includes('myself'));
          if (me?.flags.includes('master') && me.slots.length === 0) return { done: false, seen: `${s.id} is a primary without slots` };
          const map = lines
            .filter((l) => l.flags.includes('master') && !l.flags.includes('fail') && l.slots.length > 0)
            .map((l) => `${l.port}:${l.slots.map(([a, b]) => `${a}-${b}`).join(',')}`)
            .sort()
            .join(' ');
          if (agreed !== undefined && map !== agreed) return { done: false, seen: `${s.id} disagrees on the slot map` };
          agreed = map;
        }
        const primaries = agreed ? agreed.split(' ').length : 0;
        if (primaries !== this.options.shards) return { done: false, seen: `${primaries}/${this.options.shards} shards have a primary` };
        return { done: true, seen: 'ready' };
      },
      { timeoutMs, intervalMs: 50, ...(signal && { signal }) },
    );
  }

  protected clientTarget(): ClientTarget {
    return { kind: 'cluster', nodes: this.dataServers.map((s) => ({ host: s.host, port: s.port })) };
  }

  /** CLUSTER FAILOVER on a running replica of the target primary: the replica takes over gracefully. */
  protected async gracefulFailover(primary: ManagedServer): Promise<void> {
    const lines = await this.#clusterNodes();
    const primaryLine = lines.find((l) => l.port === primary.port);
    const replicaLine = lines.find((l) => l.primaryId === primaryLine?.id && this.serverByPort(l.port)?.state === 'running');
    const replica = replicaLine && this.serverByPort(replicaLine.port);
    if (!replica) throw new FaultError(`failover ${primary.id}: it has no running replica to take over`);
    await replica.admin().call('CLUSTER', 'FAILOVER');
  }
}
