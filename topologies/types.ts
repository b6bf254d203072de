import type { Cluster, Redis } from 'ioredis';
import type { ClientOptions, ClientTarget } from './client.ts';
import type { EventLog } from './events.ts';
import type { FaultSpec, InjectedFault } from './faults.ts';
import type { TOPOLOGY_KINDS } from './options.ts';

export type TopologyKind = (typeof TOPOLOGY_KINDS)[number];
export type Backend = 'process' | 'container' | 'external';
export type NodeRole = 'primary' | 'replica' | 'sentinel';

/** One server of a started topology. `role` is the last role observed, not a promise. */
export interface RedisNode {
  /** Stable for the life of the topology: `redis-0`, `sentinel-1`. Roles move, ids do not. */
  readonly id: string;
  readonly role: NodeRole;
  readonly host: string;
  readonly port: number;
  /** Cluster only: the shard this node was created in (slot range index). */
  readonly shard?: number;
  /** Process backend: the OS pid while running, undefined once killed. */
  readonly pid?: number;
  /** Container backend: the container's id, until it is removed at stop. */
  readonly containerId?: string;
  readonly state: 'running' | 'paused' | 'killed';
}

export interface TopologyEvent {
  /** process.hrtime.bigint() when observed: the same clock as the harness history. */
  readonly ns: bigint;
  /** Where it came from: a fault we injected, a sentinel's pub/sub, the role poller, the process table. */
  readonly source: 'fault' | 'sentinel' | 'role' | 'process' | 'cluster';
  /** e.g. `kill`, `+switch-master`, `role-change`, `exit`. */
  readonly type: string;
  /** The node the event is about, by id, when known. */
  readonly node?: string;
  readonly detail?: string;
}

export interface StartedTopology extends AsyncDisposable {
  readonly kind: TopologyKind;
  readonly backend: Backend;
  /** Sentinel only: the name sentinels monitor. */
  readonly masterName?: string;
  /** Directory holding configs and logs (process backend). */
  readonly dataDir?: string;
  /**
   * External backend: the prefix every key of this run must carry (the topology removes those keys
   * at stop). Owned backends leave it to the strategy's own prefix.
   */
  readonly keyPrefix?: string;
  /** Milliseconds from start() to ready, as measured by start(). */
  readonly startupMs: number;
  /** A new ioredis client for this topology: Redis (sentinel-aware for sentinel) or Cluster. The caller owns it. */
  client(options?: ClientOptions): Redis | Cluster;
  /** Where clients connect, as plain data (for clients built elsewhere, e.g. in worker threads). */
  endpoints(): ClientTarget;
  /** Every node with its last observed role. */
  nodes(): readonly RedisNode[];
  /** Current primaries, asked of the live topology (sentinels, CLUSTER NODES), not remembered. */
  primaries(): Promise<RedisNode[]>;
  /** Ground truth: every event since start, then live ones until stop. */
  events(): AsyncIterable<TopologyEvent>;
  readonly eventLog: EventLog;
  inject(fault: FaultSpec): Promise<InjectedFault>;
  /** Network faults (owned backends with per-node addresses): undo one, by the faultId inject() returned. */
  restoreLinks?(faultId: string): Promise<void>;
  /** Per-node addresses: the loopback address client group `group` sends from; undefined without them. */
  clientAddress?(group: number): string | undefined;
  /** Undo every fault still in effect: restore links, resume paused nodes, restart killed ones. */
  heal(): Promise<void>;
  /** Resolves when the topology is fully ready again (same definition as after start). */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  /**
   * Ready, and every watcher's own view has caught up (Sentinel: each sentinel's last INFO of each
   * replica), so that a next fault starts from a settled state. Up to 10 s longer than ready.
   */
  waitUntilSettled(timeoutMs?: number): Promise<void>;
  /** Idempotent. Kills everything started, removes the data dir unless kept. */
  stop(): Promise<void>;
}

export interface Topology {
  readonly kind: TopologyKind;
  readonly backend: Backend;
  start(signal?: AbortSignal): Promise<StartedTopology>;
}
