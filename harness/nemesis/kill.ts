import { outageEstimateMs, topologyFault } from './fault-kind.ts';

/**
 * kill -9 of a node (`target: primary` by default): a crash. With `for`, the node is restarted
 * after it and comes back with the config it last wrote (an old primary returns as a primary and
 * Sentinel or the cluster demote it). Mechanism: SIGKILL (process backend), `docker kill` (container).
 */
export const kill = topologyFault('kill', {
  healedBy: 'restart',
  recoveryEstimateMs: outageEstimateMs,
  unsupported: ({ backend }) => (backend === 'external' ? 'failover, pause or resume (an external deployment is not ours to kill or restart)' : undefined),
});
