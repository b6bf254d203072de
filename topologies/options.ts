import { z } from 'zod';
import { parseOrThrow } from '../core/validation.ts';

/**
 * Defaults for the process backend. Test-lab values, as in Redis' own test suite: failures are
 * detected in about a second instead of the production default of 30 s, so a run sees a whole
 * failover in a few seconds.
 */
export const DEFAULT_TOPOLOGY_OPTIONS = {
  /** Binary to run; looked up on PATH. valkey-server works too. */
  redisServer: 'redis-server',
  /** No RDB, no AOF: a killed node comes back empty, as a cache would. */
  persistence: 'none' as 'none' | 'rdb' | 'aof',
  /** 0 disables the check (Redis default). */
  minReplicasToWrite: 0,
  minReplicasMaxLag: 10,
  /** Extra redis.conf lines for every data node, e.g. `maxmemory 100mb`. */
  extraConfig: [] as string[],
  /** Keep the data dir (configs, logs) after stop. */
  keep: false,
  /** How long start() may take before it fails, naming what it was waiting for. */
  readyTimeoutMs: 30_000,
  sentinel: {
    replicas: 2,
    sentinels: 3,
    downAfterMs: 1000,
    failoverTimeoutMs: 2000,
    masterName: 'mymaster',
  },
  cluster: {
    shards: 3,
    replicasPerShard: 1,
    nodeTimeoutMs: 1000,
  },
} as const;

const D = DEFAULT_TOPOLOGY_OPTIONS;
const count = (min: number, what: string) => z.number().int().min(min, `an integer >= ${min} (${what})`);

/** An image reference, as the container backend takes it (also a scenario's `servers:` entry). */
export const imageRefSchema = z.string().regex(/^[a-z0-9][\w./:@-]*$/i, 'an image reference such as redis:7.4');

/** `host:port`, `[v6]:port`, or a redis:// / rediss:// URL. */
const endpointSchema = z.string().regex(/^(rediss?:\/\/\S+|\[[0-9a-fA-F:.]+\]:\d{1,5}|[A-Za-z0-9._-]+:\d{1,5})$/, 'host:port or a redis:// URL');

const commonShape = {
  backend: z
    .enum(['process', 'container', 'external'])
    .default('process')
    .describe(
      'process: redis-server children of tokenbench; container: one container per node (Docker); external: a deployment the user already runs (see `endpoints`).',
    ),
  endpoints: z
    .array(endpointSchema)
    .min(1, 'at least one address')
    .optional()
    .describe('External backend only, and required there: single: one address or URL; sentinel: the sentinels; cluster: seed nodes.'),
  username: z.string().min(1).optional().describe("External backend: AUTH user for the data nodes (a URL's own user:password wins)."),
  password: z.string().min(1).optional().describe("External backend: AUTH password for the data nodes (a URL's own user:password wins)."),
  sentinelPassword: z.string().min(1).optional().describe("External backend: sentinels' own password, when they have one."),
  tls: z.boolean().default(false).describe('External backend: TLS to every node; `tlsCaFile` trusts a private CA; `tlsInsecure` skips verification.'),
  tlsCaFile: z.string().min(1).optional().describe('External backend: a private CA to trust (with `tls`).'),
  tlsInsecure: z.boolean().default(false).describe('External backend: skip TLS certificate verification (with `tls`).'),
  allowExistingData: z
    .boolean()
    .default(false)
    .describe('External backend: run on a database that already holds keys (tokenbench then touches only its own prefix).'),
  redisServer: z.string().min(1).default(D.redisServer),
  image: imageRefSchema.optional().describe('Container backend only: the image to run. Offline, `tokenbench image build` makes tokenbench/redis:local.'),
  persistence: z.enum(['none', 'rdb', 'aof']).default(D.persistence),
  minReplicasToWrite: count(0, 'replicas that must acknowledge within the lag for a write to be accepted').default(D.minReplicasToWrite),
  minReplicasMaxLag: count(1, 'seconds').default(D.minReplicasMaxLag),
  extraConfig: z.array(z.string()).default([]),
  keep: z.boolean().default(D.keep),
  addresses: z
    .enum(['shared', 'per-node'])
    .default('shared')
    .describe(
      'shared: every node listens on 127.0.0.1; per-node: each node gets its own loopback address (127.77.k.n, Linux) and sends from it, so network faults can cut one link. A scenario with a network fault sets per-node.',
    ),
  readyTimeoutMs: count(100, 'milliseconds').default(D.readyTimeoutMs),
};

export const singleOptionsSchema = z.strictObject({ kind: z.literal('single'), ...commonShape });

export const sentinelOptionsSchema = z
  .strictObject({
    kind: z.literal('sentinel'),
    ...commonShape,
    replicas: count(0, 'replicas of the primary').default(D.sentinel.replicas),
    sentinels: count(1, 'at least one sentinel must watch the primary').default(D.sentinel.sentinels),
    quorum: count(1, 'sentinels that must agree')
      .optional()
      .describe('Sentinels that must agree the primary is down, at most `sentinels`. Default: a majority.'),
    downAfterMs: count(1, 'milliseconds').default(D.sentinel.downAfterMs),
    failoverTimeoutMs: count(1, 'milliseconds').default(D.sentinel.failoverTimeoutMs),
    masterName: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'a name of letters, digits, . _ -')
      .default(D.sentinel.masterName),
  })
  .transform((o) => ({ ...o, quorum: o.quorum ?? Math.floor(o.sentinels / 2) + 1 }))
  .superRefine((o, ctx) => {
    if (o.quorum > o.sentinels) {
      ctx.addIssue({ code: 'custom', path: ['quorum'], input: o.quorum, message: `a quorum of at most ${o.sentinels} (the number of sentinels)` });
    }
  });

export const clusterOptionsSchema = z.strictObject({
  kind: z.literal('cluster'),
  ...commonShape,
  // Redis Cluster needs a majority of primaries to agree on a failure: below 3 it cannot fail over.
  shards: count(3, 'a cluster needs at least 3 shards to fail over').default(D.cluster.shards),
  replicasPerShard: count(0, 'replicas per shard').default(D.cluster.replicasPerShard),
  nodeTimeoutMs: count(1, 'milliseconds').default(D.cluster.nodeTimeoutMs),
});

const EXTERNAL_ONLY = ['endpoints', 'username', 'password', 'sentinelPassword', 'tlsCaFile'] as const;
const EXTERNAL_ONLY_FLAGS = ['tls', 'tlsInsecure', 'allowExistingData'] as const;

/** Fields that belong to one backend are errors on another: silently ignoring them would mislead. */
export const topologyOptionsSchema = z.discriminatedUnion('kind', [singleOptionsSchema, sentinelOptionsSchema, clusterOptionsSchema]).superRefine((o, ctx) => {
  const issue = (field: string, message: string, input: unknown) => ctx.addIssue({ code: 'custom', path: [field], input, message });
  if (o.image !== undefined && o.backend !== 'container')
    issue('image', `no image with the ${o.backend} backend (images are for --backend container)`, o.image);
  if (o.addresses === 'per-node' && o.backend === 'external')
    issue('addresses', 'shared with the external backend (its addresses are not ours to choose)', o.addresses);
  if (o.backend === 'external') {
    if (!o.endpoints) issue('endpoints', 'the addresses of the deployment (--redis, --sentinels or --cluster)', undefined);
    else if (o.kind === 'single' && o.endpoints.length !== 1) issue('endpoints', 'exactly one address for a single node', o.endpoints);
    return;
  }
  for (const field of EXTERNAL_ONLY) if (o[field] !== undefined) issue(field, `nothing with the ${o.backend} backend (it is for --backend external)`, o[field]);
  for (const field of EXTERNAL_ONLY_FLAGS) if (o[field]) issue(field, `false with the ${o.backend} backend (it is for --backend external)`, o[field]);
});

/** Every kind, in the order reports and suites list them. */
export const TOPOLOGY_KINDS = ['single', 'sentinel', 'cluster'] as const;

export type TopologyOptionsInput = z.input<typeof topologyOptionsSchema>;
export type TopologyOptions = z.output<typeof topologyOptionsSchema>;
export type SingleOptions = z.output<typeof singleOptionsSchema>;
export type SentinelOptions = z.output<typeof sentinelOptionsSchema>;
export type ClusterOptions = z.output<typeof clusterOptionsSchema>;

/** Normalizes once, in one place; a bad option says which, what is allowed and what was given. */
export function normalizeTopologyOptions(input: unknown, label?: (path: readonly PropertyKey[]) => string): TopologyOptions {
  return parseOrThrow(topologyOptionsSchema, input, label);
}
