import type { FaultAction, FaultSpec, InjectedFault } from '../../topologies/faults.ts';
import type { TopologyOptions } from '../../topologies/options.ts';
import type { StartedTopology, Topology } from '../../topologies/types.ts';

/**
 * One kind of fault as the nemesis schedules it: what heals it when the scenario gives it a `for`,
 * which topologies can take it, and how it is applied. The mechanism (a SIGKILL, a SIGSTOP, a
 * SENTINEL FAILOVER, a `docker kill`) belongs to the topology's backend; a kind says which to ask for.
 * A new fault (a partition, say) is a new file beside these and one line in kinds.ts.
 */
export interface FaultKind {
  readonly action: FaultAction;
  /** What undoes it after its `for` window: pause -> resume, kill -> restart. None: it heals itself or is a heal. */
  readonly healedBy?: FaultAction;
  /** Undoes it after its `for` window when no other action does (a network fault: its links restored). */
  heal?(topology: StartedTopology, injected: InjectedFault): Promise<void>;
  /** Why a topology cannot take this fault, as the `expected` text of the scenario error; undefined when it can. */
  unsupported(topology: Pick<Topology, 'kind' | 'backend'>): string | undefined;
  apply(topology: StartedTopology, spec: FaultSpec): Promise<InjectedFault>;
  /**
   * About how long after it the topology answers again (a failover done, a heal), from the
   * topology's own timeouts: for warning that a run ends before its fault does. Infinity: not
   * before the load ends (nothing heals it); undefined: no estimate.
   */
  recoveryEstimateMs?(topology: TopologyOptions, forMs: number | undefined): number | undefined;
}

/**
 * How long a sentinel or cluster takes to replace a primary that stopped answering: detection
 * (down-after / node timeout) plus election and promotion, as measured with the lab defaults (README:
 * kill -9 to +switch-master about 2.3 s with down-after 1000 ms; to promotion in a cluster about 2.5 s
 * with a node timeout of 1000 ms). External deployments: unknown.
 */
export function failoverEstimateMs(topology: TopologyOptions): number | undefined {
  if (topology.backend === 'external') return undefined;
  if (topology.kind === 'sentinel') return topology.downAfterMs + 1300;
  if (topology.kind === 'cluster') return 2 * topology.nodeTimeoutMs + 500;
  return Infinity;
}

/** A node that stops answering: back when its `for` heals it, or when another node takes over, whichever comes first. */
export function outageEstimateMs(topology: TopologyOptions, forMs: number | undefined): number | undefined {
  const failover = failoverEstimateMs(topology);
  if (failover === undefined) return forMs;
  return Math.min(forMs ?? Infinity, failover);
}

/** The faults whose mechanism is the topology's own `inject`. */
export function topologyFault(action: FaultAction, rest: Omit<FaultKind, 'action' | 'apply'>): FaultKind {
  return { action, ...rest, apply: (topology, spec) => topology.inject({ ...spec, action }) };
}
