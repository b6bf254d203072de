import { normalizeTopologyOptions, type TopologyOptions, type TopologyOptionsInput } from './options.ts';
import { containerLauncher } from './container/container-server.ts';
import { DEFAULT_IMAGE } from './container/docker.ts';
import { InvalidOptionError } from './errors.ts';
import { ExternalTopology } from './external/external.ts';
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
  checkBackendFields(options, (field) => label?.([field]) ?? `topology.${field}`);
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

const EXTERNAL_ONLY = ['endpoints', 'username', 'password', 'sentinelPassword', 'tlsCaFile'] as const;

/** Fields that belong to one backend are errors on another: silently ignoring them would mislead. */
function checkBackendFields(options: TopologyOptions, label: (field: string) => string): void {
  if (options.image !== undefined && options.backend !== 'container') {
    throw new InvalidOptionError(label('image'), `no image with the ${options.backend} backend (images are for --backend container)`, options.image);
  }
  if (options.backend === 'external') {
    if (!options.endpoints) throw new InvalidOptionError(label('endpoints'), 'the addresses of the deployment (--redis, --sentinels or --cluster)', undefined);
    if (options.kind === 'single' && options.endpoints.length !== 1) throw new InvalidOptionError(label('endpoints'), 'exactly one address for a single node', options.endpoints);
    return;
  }
  for (const field of EXTERNAL_ONLY) {
    if (options[field] !== undefined) throw new InvalidOptionError(label(field), `nothing with the ${options.backend} backend (it is for --backend external)`, options[field]);
  }
  for (const field of ['tls', 'tlsInsecure', 'allowExistingData'] as const) {
    if (options[field]) throw new InvalidOptionError(label(field), `false with the ${options.backend} backend (it is for --backend external)`, options[field]);
  }
}

export async function startTopology(input: TopologyOptionsInput, signal?: AbortSignal): Promise<StartedTopology> {
  return createTopology(input).start(signal);
}
