import { topologyFault } from './fault-kind.ts';

/** A graceful failover: SENTINEL FAILOVER, or CLUSTER FAILOVER on a replica of the target shard. */
export const failover = topologyFault('failover', {
  unsupported: ({ kind }) => (kind === 'single' ? 'kill, pause, resume or restart (failover needs a sentinel or cluster topology)' : undefined),
});
