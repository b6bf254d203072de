import { readFileSync } from 'node:fs';
import { InvalidOptionError } from '../core/errors.ts';
import { hasRedactedUrlPassword, REDACTED, SECRET_FIELDS, urlPassword, withoutUrlPassword } from '../core/secrets.ts';
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
    help: 'external single node, e.g. rediss://app@10.0.0.5:6379\n(implies --backend external)',
  },
  sentinels: { type: 'string', value: '<h:p,...>', field: 'endpoints', help: "external Sentinel deployment's sentinels (with --master-name)" },
  'master-name': { type: 'string', value: '<name>', field: 'masterName', help: 'external Sentinel: the monitored name' },
  cluster: { type: 'string', value: '<h:p,...>', field: 'endpoints', help: 'external Cluster: one or more seed nodes' },
  username: { type: 'string', value: '<user>', field: 'username', help: 'external: AUTH user for the data nodes (or in the --redis URL)' },
  'password-file': { type: 'string', value: '<f>', field: 'password', help: "external: the data nodes' AUTH password: the file's first line" },
  password: { type: 'string', value: '<p>', field: 'password', help: 'the same on the command line (or in the --redis URL): ps shows it' },
  'sentinel-password-file': { type: 'string', value: '<f>', field: 'sentinelPassword', help: "external: the sentinels' own password, from a file" },
  'sentinel-password': { type: 'string', value: '<p>', field: 'sentinelPassword', help: 'the same on the command line: ps shows it' },
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

/** Where the external backend finds passwords not given by flag; redis-cli's own variable included, so its users need nothing new. */
export const PASSWORD_ENV = ['TOKENBENCH_REDIS_PASSWORD', 'REDISCLI_AUTH'] as const;
export const SENTINEL_PASSWORD_ENV = 'TOKENBENCH_SENTINEL_PASSWORD';

export const BACKEND_HELP = `${optionsBlock('Where Redis runs:', BACKEND_FLAGS, defaultsOf(TOPOLOGY_DEFAULTS))}

Passwords (external backend), the first found wins:
  data nodes  --password-file, --password or the URL's (one of them); the scenario file's;
              then the environment: ${PASSWORD_ENV[0]}, then ${PASSWORD_ENV[1]} (redis-cli's)
  sentinels   --sentinel-password-file or --sentinel-password; the scenario file's;
              then ${SENTINEL_PASSWORD_ENV}
A password typed on the command line shows in ps and shell history: tokenbench warns. What it
writes (result.json, scenario.json, reports, merge output) and compare's output say ${REDACTED}
instead; to run such a scenario.json again, give the password again (a file or the environment).`;

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
  const urlPasswordFlag = addresses.find((flag) => list(values[flag]!).some((endpoint) => urlPassword(endpoint) !== undefined));
  set('password', secretFlag(values, 'password', urlPasswordFlag && `--${urlPasswordFlag} (a URL's user:password)`));
  set('sentinelPassword', secretFlag(values, 'sentinel-password'));
  set('tls', values.tls);
  set('tlsCaFile', values['tls-ca']);
  set('tlsInsecure', values['tls-insecure']);
  set('allowExistingData', values['allow-existing-data']);
  return out;
}

/** A password file's first line, its line ending stripped (editors add one). */
function readSecretFile(path: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const [firstLine = ''] = text.split(/\r?\n/);
  if (firstLine === '') throw new UsageError(`${flag} ${path}: its first line is empty; expected the password there`);
  return firstLine;
}

/** `--password` or `--password-file`: one of the two (or a URL's password), never two that could disagree. */
function secretFlag(values: BackendValues, flag: 'password' | 'sentinel-password', alsoGiven?: string): string | undefined {
  const fileFlag = `${flag}-file` as const;
  const given = [values[flag] !== undefined && `--${flag}`, values[fileFlag] !== undefined && `--${fileFlag}`, alsoGiven].filter(Boolean);
  if (given.length > 1) throw new UsageError(`${given[0]} and ${given[1]}: give the password one way`);
  return values[fileFlag] !== undefined ? readSecretFile(values[fileFlag]!, `--${fileFlag}`) : values[flag];
}

/**
 * The environment's passwords, for an external topology that has none of its own (none given by
 * flag, file, URL or scenario, or one redacted when tokenbench wrote it). A password that takes
 * a redacted URL password's place, or one given `byFlag`, also takes the URL's out, where it
 * would win at login. Changes the topology object in place; any other backend is left alone,
 * so a REDISCLI_AUTH kept for redis-cli never reaches the process backend (which would refuse it).
 */
export function passwordsFromEnvironment(topology: Record<string, unknown> | undefined, env: NodeJS.ProcessEnv, { byFlag = false } = {}): void {
  if (topology?.backend !== 'external') return;
  const given = (value: unknown) => typeof value === 'string' && value !== REDACTED;
  const endpoints = Array.isArray(topology.endpoints) ? (topology.endpoints as unknown[]).filter((e): e is string => typeof e === 'string') : [];
  // A flag's password beats the scenario file's, its URLs' included (a URL's would win at login).
  const urlGiven = !byFlag && endpoints.some((e) => urlPassword(e) !== undefined && !hasRedactedUrlPassword(e));
  if (!given(topology.password) && !urlGiven) {
    const fromEnv = PASSWORD_ENV.map((name) => env[name]).find((value) => value !== undefined && value !== '');
    if (fromEnv !== undefined) topology.password = fromEnv;
  }
  if (given(topology.password) && !urlGiven && endpoints.length > 0) topology.endpoints = endpoints.map(withoutUrlPassword);
  const sentinelFromEnv = env[SENTINEL_PASSWORD_ENV];
  if (topology.kind === 'sentinel' && !given(topology.sentinelPassword) && sentinelFromEnv) topology.sentinelPassword = sentinelFromEnv;
}

/**
 * One warning line when a password was typed on the command line (ps and shell history show
 * it), naming what to use instead; undefined when none was.
 */
export function commandLineSecretWarning(values: BackendValues & { set?: string[] }): string | undefined {
  const typed: string[] = [];
  const instead = new Set<string>();
  const dataInstead = `--password-file <path> or ${PASSWORD_ENV[0]}`;
  if (values.password !== undefined) {
    typed.push('--password');
    instead.add(dataInstead);
  }
  for (const flag of ['redis', 'sentinels', 'cluster'] as const) {
    if (values[flag] !== undefined && list(values[flag]).some((endpoint) => urlPassword(endpoint) !== undefined)) {
      typed.push(`the --${flag} URL's password`);
      instead.add(dataInstead);
    }
  }
  if (values['sentinel-password'] !== undefined) {
    typed.push('--sentinel-password');
    instead.add(`--sentinel-password-file <path> or ${SENTINEL_PASSWORD_ENV}`);
  }
  for (const assignment of values.set ?? []) {
    const [path = '', value = ''] = assignment.split(/=(.*)/s);
    if (SECRET_FIELDS.has(path.split('.').at(-1)!) || urlPassword(value) !== undefined) {
      typed.push(`--set ${path}`);
      instead.add('a scenario file (--scenario)');
    }
  }
  if (typed.length === 0) return undefined;
  return `tokenbench: warning: a password on the command line (${typed.join(', ')}) shows in ps and shell history; use ${[...instead].join(', or ')} instead\n`;
}
