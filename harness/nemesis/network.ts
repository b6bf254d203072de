import type { NetworkFaultAction } from '../../topologies/faults.ts';
import type { FaultKind } from './fault-kind.ts';

/**
 * The faults on links rather than nodes: the topology's own nft table drops (partition), thins
 * (loss) or holds back (delay) the packets between two sides, identified by the nodes' own
 * loopback addresses. With `for`, the links are restored after it; the nodes never stop.
 */
export function networkFault(action: NetworkFaultAction, recoveryEstimateMs?: FaultKind['recoveryEstimateMs']): FaultKind {
  return {
    action,
    unsupported: ({ backend }) =>
      backend === 'external' ? 'kill, pause, resume, restart or failover (the links of an external deployment are not ours to cut)' : undefined,
    apply: (topology, spec) => topology.inject({ ...spec, action }),
    heal: async (topology, injected) => {
      if (injected.faultId) await topology.restoreLinks?.(injected.faultId);
    },
    ...(recoveryEstimateMs && { recoveryEstimateMs }),
  };
}
