import { TOPOLOGY_KINDS } from '../topologies/options.ts';
import { BACKEND_FLAGS, BACKEND_HELP, TOPOLOGY_DEFAULTS } from './backend-flags.ts';
import { type CommandUsage, defaultsOf, type FlagTable, HELP_FLAG, optionsBlock, showDuration } from './flags.ts';

/** How many times `topology bench` starts each topology when --runs is not given. */
export const BENCH_RUNS = 3;

/** The flags of `topology` besides the backend ones. Fields are topology options. */
export const TOPOLOGY_FLAGS = {
  replicas: {
    type: 'string',
    value: '<n>',
    field: { sentinel: 'replicas', cluster: 'replicasPerShard' },
    help: 'sentinel: of the primary; cluster: per shard',
  },
  sentinels: { type: 'string', value: '<n>', field: 'sentinels', help: 'sentinel: number of sentinels\n(host:port,...: an external deployment, see below)' },
  quorum: { type: 'string', value: '<n>', field: 'quorum', default: 'majority', help: 'sentinel: how many must agree the primary is down' },
  'down-after': { type: 'string', value: '<d>', field: 'downAfterMs', show: showDuration, help: 'sentinel: down-after-milliseconds' },
  'failover-timeout': { type: 'string', value: '<d>', field: 'failoverTimeoutMs', show: showDuration, help: 'sentinel: failover-timeout' },
  shards: { type: 'string', value: '<n>', field: 'shards', help: 'cluster: number of shards, at least 3' },
  'node-timeout': { type: 'string', value: '<d>', field: 'nodeTimeoutMs', show: showDuration, help: 'cluster: cluster-node-timeout' },
  'redis-server': { type: 'string', value: '<path>', field: 'redisServer', help: 'server binary (PATH); valkey-server works too' },
  persistence: { type: 'string', value: '<mode>', field: 'persistence', help: 'none | rdb | aof' },
  'min-replicas-to-write': { type: 'string', value: '<n>', field: 'minReplicasToWrite', help: 'writes need this many linked replicas; 0: off' },
  'min-replicas-max-lag': { type: 'string', value: '<s>', field: 'minReplicasMaxLag', help: 'lag (seconds) a replica may have and still count' },
  'redis-conf': { type: 'multiple', value: '<line>', field: 'extraConfig', help: 'extra redis.conf line for every data node; repeatable' },
  keep: { type: 'boolean', field: 'keep', help: 'keep the temp dir (configs, logs, nodes.conf) after stop' },
  json: { type: 'boolean', help: 'up: print one JSON object (kind, backend, nodes) on stdout;\nbench: print the measurements as JSON' },
  runs: { type: 'string', value: '<n>', default: String(BENCH_RUNS), help: 'bench: start each topology this many times' },
  kinds: { type: 'string', value: '<list>', default: TOPOLOGY_KINDS.join(','), help: 'bench: the topologies to time' },
  help: HELP_FLAG,
} as const satisfies FlagTable;

export const TOPOLOGY_HELP = `Usage: tokenbench topology up <single|sentinel|cluster> [options]
       tokenbench topology bench [--runs ${BENCH_RUNS}] [--kinds ${TOPOLOGY_KINDS.join(',')}] [--backend process,container] [--json]

up     Start a Redis topology on loopback (free ports, temp dir) and keep it up until Ctrl-C,
       then tear it down: every process (or container) removed, the temp dir too (unless --keep).
       With an external deployment (--redis, --sentinels h:p,..., --cluster), it connects,
       shows the nodes it found and prints their events until Ctrl-C.
bench  Start each topology --runs times and measure start-to-ready and, for sentinel and
       cluster, kill -9 of the primary to promotion. Prints min / median / max; with several
       backends, one table each and the ratio to the first.

${optionsBlock('Topology options (defaults in brackets):', TOPOLOGY_FLAGS, defaultsOf(TOPOLOGY_DEFAULTS))}

${BACKEND_HELP}

Examples:
  tokenbench topology up single
  tokenbench topology up sentinel --replicas 1 --sentinels 5 --quorum 3
  tokenbench topology up cluster --shards 3 --replicas 1 --json > endpoints.json
  tokenbench topology up sentinel --redis-conf "maxmemory 64mb" --keep
  tokenbench topology up cluster --backend container --image tokenbench/redis:local
  tokenbench topology up --sentinels 10.0.0.5:26379,10.0.0.6:26379 --master-name mymaster
  tokenbench topology bench --runs 3
  tokenbench topology bench --runs 3 --backend process,container --image tokenbench/redis:local
`;

// --sentinels is in both tables (a count here, addresses there): one option, two help lines.
export const TOPOLOGY_USAGE = { command: 'topology', flags: { ...BACKEND_FLAGS, ...TOPOLOGY_FLAGS }, help: TOPOLOGY_HELP } satisfies CommandUsage;
