import { topologyFault } from './fault-kind.ts';

/** Starts a killed node again (`target: killed` by default, the one most recently killed). */
export const restart = topologyFault('restart', {
  unsupported: ({ backend }) => (backend === 'external' ? 'failover, pause or resume (an external deployment is not ours to kill or restart)' : undefined),
});
