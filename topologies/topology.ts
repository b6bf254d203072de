import { containerLauncher } from './container/container-server.ts';
import { DEFAULT_IMAGE } from './container/docker.ts';
import { ExternalTopology } from './external/external.ts';
import { normalizeTopologyOptions, type TopologyOptions, type TopologyOptionsInput } from './options.ts';
import { ClusterTopology } from './owned/cluster.ts';
import { SentinelTopology } from './owned/sentinel.ts';
import { SingleTopology } from './owned/single.ts';
import { resolveRedisServer } from './process/redis-binary.ts';
import { processLauncher } from './process/server-process.ts';
import type { ServerLauncher } from './server.ts';
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
      if (options.backend === 'external') return ExternalTopology.start(options, signal);
      const launcher: ServerLauncher =
        options.backend === 'container'
          ? await containerLauncher(options.image ?? DEFAULT_IMAGE, options.readyTimeoutMs)
          : processLauncher(await resolveRedisServer(options.redisServer));
      switch (options.kind) {
        case 'single':
          return SingleTopology.start(options, launcher, signal);
        case 'sentinel':
          return SentinelTopology.start(options, launcher, signal);
        case 'cluster':
          return ClusterTopology.start(options, launcher, signal);
      }
    },
  };
}

export async function startTopology(input: TopologyOptionsInput, signal?: AbortSignal): Promise<StartedTopology> {
  return createTopology(input).start(signal);
}
