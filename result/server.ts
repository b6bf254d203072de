import { z } from 'zod';

/**
 * The server a run's topology ran, as it reports itself: Valkey's INFO says `valkey_version` (its
 * `redis_version` is the Redis it stays compatible with, 7.2.4 for Valkey 8), `redis-server
 * --version` says `Valkey server v=...`. Runs of a servers matrix tell their servers apart by it.
 */
export const runServerSchema = z.strictObject({
  /** `redis` or `valkey`; `unknown` when a container's server would not answer INFO. */
  name: z.string(),
  /** Its own version (8.0.1 for Valkey 8.0.1, not the Redis version it reports for compatibility); null when it would not say. */
  version: z.string().nullable(),
  /** Process backend: the binary's full path. */
  binary: z.string().optional(),
  /** Container backend: the image reference. */
  image: z.string().optional(),
  /** The servers matrix entry's label (scenario `servers[].label`), shown instead of name and version. */
  label: z.string().optional(),
});

export type RunServer = z.infer<typeof runServerSchema>;

/** How a run's server reads in labels and reports: `valkey 8.0.1`, or the entry's label. */
export function serverText(server: RunServer): string {
  if (server.label !== undefined) return server.label;
  if (server.version !== null) return `${server.name} ${server.version}`;
  return server.image !== undefined ? `image ${server.image}` : server.name;
}
