import type { FaultAction, FaultSpec, InjectedFault } from '../../topologies/faults.ts';
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
  /** Why a topology cannot take this fault, as the `expected` text of the scenario error; undefined when it can. */
  unsupported(topology: Pick<Topology, 'kind' | 'backend'>): string | undefined;
  apply(topology: StartedTopology, spec: FaultSpec): Promise<InjectedFault>;
}

/** The faults whose mechanism is the topology's own `inject`. */
export function topologyFault(action: FaultAction, rest: Omit<FaultKind, 'action' | 'apply'>): FaultKind {
  return { action, ...rest, apply: (topology, spec) => topology.inject({ ...spec, action }) };
}
