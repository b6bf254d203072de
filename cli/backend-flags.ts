import { InvalidOptionError } from '../core/errors.ts';
import { UsageError } from './usage-error.ts';

/** Flags that choose where Redis runs; shared by `run` and `topology up`. */
export const BACKEND_FLAGS = {
  backend: { type: 'string' },
  image: { type: 'string' },
  redis: { type: 'string' },
  sentinels: { type: 'string' },
  'master-name': { type: 'string' },
  cluster: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  'sentinel-password': { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-insecure': { type: 'boolean' },
  'allow-existing-data': { type: 'boolean' },
} as const;

export const BACKEND_HELP = `Where Redis runs (default: --backend process, redis-server children on loopback):
  --backend <b>               process | container | external                          [process]
  --image <ref>               container: the Redis image [redis:7.4]; offline, build one with
                              \`tokenbench image build\` and pass --image tokenbench/redis:local
  --redis <url|host:port>     external single node, e.g. redis://:secret@10.0.0.5:6379 (implies --backend external)
  --sentinels <h:p,...>       external Sentinel deployment's sentinels (with --master-name)
  --master-name <name>        external Sentinel: the monitored name                  [mymaster]
  --cluster <h:p,...>         external Cluster: one or more seed nodes
  --username / --password     external: AUTH for the data nodes (or put them in the --redis URL)
  --sentinel-password <p>     external: the sentinels' own password
  --tls / --tls-ca <pem> / --tls-insecure   external: TLS, a private CA, or no verification
  --allow-existing-data       external: run on a non-empty database (only keys under tb:<run>: are
                              written, and removed at the end)`;

/** The flags' JSON paths in topology options, for error messages in the user's words. */
export const BACKEND_FLAG_OF_FIELD: Record<string, string> = {
  backend: '--backend',
  image: '--image',
  endpoints: '--redis / --sentinels / --cluster',
  masterName: '--master-name',
  username: '--username',
  password: '--password',
  sentinelPassword: '--sentinel-password',
  tls: '--tls',
  tlsCaFile: '--tls-ca',
  tlsInsecure: '--tls-insecure',
  allowExistingData: '--allow-existing-data',
};

type BackendValues = { [K in keyof typeof BACKEND_FLAGS]?: (typeof BACKEND_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

/**
 * Topology fields from the backend flags; `kind` only when an external address implies it
 * (--redis: single, --sentinels: sentinel, --cluster: cluster).
 */
export function backendFromFlags(values: BackendValues): Record<string, unknown> {
  const addresses = (['redis', 'sentinels', 'cluster'] as const).filter((f) => values[f] !== undefined);
  if (addresses.length > 1) throw new UsageError(`--${addresses[0]} and --${addresses[1]}: give one deployment, not both`);
  const out: Record<string, unknown> = {};
  if (values.backend !== undefined) {
    if (!['process', 'container', 'external'].includes(values.backend)) throw new InvalidOptionError('--backend', 'process, container or external', values.backend);
    out.backend = values.backend;
  }
  const [address] = addresses;
  if (address) {
    if (values.backend !== undefined && values.backend !== 'external') throw new UsageError(`--${address}: points at an existing deployment, which is --backend external, not ${values.backend}`);
    out.backend = 'external';
    out.kind = address === 'redis' ? 'single' : address;
    out.endpoints = address === 'redis' ? [values.redis] : list(values[address]!);
  }
  if (values['master-name'] !== undefined) {
    if (address !== 'sentinels') throw new UsageError('--master-name: goes with --sentinels');
    out.masterName = values['master-name'];
  }
  const set = (field: string, value: unknown) => value !== undefined && (out[field] = value);
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
