import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_IMAGE } from './container/docker.ts';
import type { TopologyOptions } from './options.ts';
import { resolveRedisServer } from './process/redis-binary.ts';
import { parseInfo } from './redis/replies.ts';

/** What served a topology: `redis` or `valkey`, its own version, and the binary or image it came from. */
export interface ServerIdentity {
  name: string;
  version: string | null;
  binary?: string;
  image?: string;
}

/** `INFO server`: Valkey reports `redis_version:7.2.4` for compatibility and its own version in `valkey_version`. */
export function serverFromInfo(info: Readonly<Record<string, string>>): { name: string; version: string } | undefined {
  if (info.valkey_version) return { name: 'valkey', version: info.valkey_version };
  if (info.redis_version) return { name: 'redis', version: info.redis_version };
  return undefined;
}

/**
 * The process backend's binary says what it is without a connection (`--version`, checked once per
 * process); a container's or an external deployment's server is asked over `client` (INFO server).
 * Undefined only for an external deployment that would not answer: nothing is guessed.
 */
export async function identifyServer(options: TopologyOptions, client?: Redis | Cluster): Promise<ServerIdentity | undefined> {
  if (options.backend === 'process') {
    const binary = await resolveRedisServer(options.redisServer);
    return { name: binary.flavor, version: binary.version, binary: binary.path };
  }
  const told = client
    ? await client.info('server').then(
        (text) => serverFromInfo(parseInfo(text)),
        () => undefined,
      )
    : undefined;
  if (options.backend === 'container') return { name: told?.name ?? 'unknown', version: told?.version ?? null, image: options.image ?? DEFAULT_IMAGE };
  return told;
}
