import { InvalidOptionError } from '../core/errors.ts';
import { DEFAULT_IMAGE, LOCAL_IMAGE } from '../topologies/container/docker.ts';
import { clusterOptionsSchema, sentinelOptionsSchema, singleOptionsSchema } from '../topologies/options.ts';
import { defaultsOf, type FlagTable, type FlagValues, optionsBlock } from './flags.ts';
import { UsageError } from './usage-error.ts';

/** Flags that choose where Redis runs; shared by `run` and `topology up`. Fields are topology options. */
export const BACKEND_FLAGS = {
  backend: { type: 'string', value: '<b>', field: 'backend', help: 'process | container | external\n(process: redis-server children on loopback)' },
  image: {
    type: 'string',
    value: '<ref>',
    field: 'image',
    default: DEFAULT_IMAGE,
    help: `container: the Redis image; offline, build one with\n\`tokenbench image build\` and pass --image ${LOCAL_IMAGE}`,
  },
  redis: {
    type: 'string',
    value: '<url|host:port>',
    field: 'endpoints',
    help: 'external single node, e.g. redis://:secret@10.0.0.5:6379\n(implies --backend external)',
  },
  sentinels: { type: 'string', value: '<h:p,...>', field: 'endpoints', help: "external Sentinel deployment's sentinels (with --master-name)" },
  'master-name': { type: 'string', value: '<name>', field: 'masterName', help: 'external Sentinel: the monitored name' },
  cluster: { type: 'string', value: '<h:p,...>', field: 'endpoints', help: 'external Cluster: one or more seed nodes' },
  username: { type: 'string', value: '<user>', field: 'username', help: 'external: AUTH user for the data nodes (or in the --redis URL)' },
  password: { type: 'string', value: '<password>', field: 'password', help: 'external: AUTH password for the data nodes (or in the --redis URL)' },
  'sentinel-password': { type: 'string', value: '<p>', field: 'sentinelPassword', help: "external: the sentinels' own password" },
  tls: { type: 'boolean', field: 'tls', help: 'external: TLS to every node' },
  'tls-ca': { type: 'string', value: '<pem>', field: 'tlsCaFile', help: 'external: TLS trusting this CA (a PEM file)' },
  'tls-insecure': { type: 'boolean', field: 'tlsInsecure', help: 'external: TLS without verifying certificates' },
  'allow-existing-data': {
    type: 'boolean',
    field: 'allowExistingData',
    help: 'external: run on a non-empty database (only keys under tb:<run>: are\nwritten, and removed at the end)',
  },
} as const satisfies FlagTable;

/**
 * Every topology option's default, whichever kind has it (a sentinel's masterName, a cluster's
 * shards), with kind single. Sentinel's before its transform, so a quorum left out stays unset
 * (a majority of whatever --sentinels says) instead of reading as 2.
 */
export const TOPOLOGY_DEFAULTS: Record<string, unknown> = {
  ...sentinelOptionsSchema.in.parse({ kind: 'sentinel' }),
  ...clusterOptionsSchema.parse({ kind: 'cluster' }),
  ...singleOptionsSchema.parse({ kind: 'single' }),
};

export const BACKEND_HELP = optionsBlock('Where Redis runs:', BACKEND_FLAGS, defaultsOf(TOPOLOGY_DEFAULTS));

type BackendValues = FlagValues<typeof BACKEND_FLAGS>;

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Topology fields from the backend flags; `kind` only when an external address implies it
 * (--redis: single, --sentinels: sentinel, --cluster: cluster).
 */
export function backendFromFlags(values: BackendValues): Record<string, unknown> {
  const addresses = (['redis', 'sentinels', 'cluster'] as const).filter((f) => values[f] !== undefined);
  if (addresses.length > 1) throw new UsageError(`--${addresses[0]} and --${addresses[1]}: give one deployment, not both`);
  const out: Record<string, unknown> = {};
  if (values.backend !== undefined) {
    if (!['process', 'container', 'external'].includes(values.backend))
      throw new InvalidOptionError('--backend', 'process, container or external', values.backend);
    out.backend = values.backend;
  }
  const [address] = addresses;
  if (address) {
    if (values.backend !== undefined && values.backend !== 'external')
      throw new UsageError(`--${address}: points at an existing deployment, which is --backend external, not ${values.backend}`);
    out.backend = 'external';
    out.kind = address === 'redis' ? 'single' : address;
    out.endpoints = address === 'redis' ? [values.redis] : list(values[address]!);
  }
  if (values['master-name'] !== undefined) {
    if (address !== 'sentinels') throw new UsageError('--master-name: goes with --sentinels');
    out.masterName = values['master-name'];
  }
  const set = (field: string, value: unknown) => {
    if (value !== undefined) out[field] = value;
  };
  set('image', values.image);
  set('username', values.username);
  set('password', values.password);
  set('sentinelPassword', values['sentinel-password']);
  set('tls', values.tls);
  set('tlsCaFile', values['tls-ca']);
  set('tlsInsecure', values['tls-insecure']);
  set('allowExistingData', values['allow-existing-data']);
  return out;
}
