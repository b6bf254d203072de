import { normalizeTopologyOptions, type TopologyOptions, type TopologyOptionsInput } from './options.ts';
import { ClusterProcessTopology } from './process/cluster.ts';
import { resolveRedisServer } from './process/redis-binary.ts';
import { SentinelProcessTopology } from './process/sentinel.ts';
import { SingleProcessTopology } from './process/single.ts';
import type { StartedTopology, Topology } from './types.ts';

/**
 * A topology described, not yet started: `await using t = await createTopology({ kind: 'sentinel' }).start()`.
 * Options are checked here, so a bad one fails before anything is spawned.
 */
export function createTopology(
  input: TopologyOptionsInput,
  label?: (path: readonly PropertyKey[]) => string,
): Topology & { readonly options: TopologyOptions } {
  const options = normalizeTopologyOptions(input, label);
  return {
    kind: options.kind,
    backend: options.backend,
    options,
    async start(signal?: AbortSignal): Promise<StartedTopology> {
      const binary = await resolveRedisServer(options.redisServer);
      switch (options.kind) {
        case 'single':
          return SingleProcessTopology.start(options, binary, signal);
        case 'sentinel':
          return SentinelProcessTopology.start(options, binary, signal);
        case 'cluster':
          return ClusterProcessTopology.start(options, binary, signal);
      }
    },
  };
}

export function startTopology(input: TopologyOptionsInput, signal?: AbortSignal): Promise<StartedTopology> {
  return createTopology(input).start(signal);
}
