import { scenarioSchema } from '../harness/scenario.ts';
import { JWT_ENGINES } from '../strategies/jwt/engines.ts';
import { JWT_ALGORITHMS } from '../strategies/jwt/keys.ts';
import { STRATEGY_ALIASES, STRATEGY_NAMES } from '../strategies/options.ts';
import { FAULT_ACTIONS } from '../topologies/faults.ts';
import { TOPOLOGY_KINDS } from '../topologies/options.ts';
import { BACKEND_FLAGS, BACKEND_HELP, TOPOLOGY_DEFAULTS } from './backend-flags.ts';
import { type CommandUsage, defaultsOf, type FlagTable, HELP_FLAG, optionsBlock, showDuration } from './flags.ts';
import { CI_OUTPUT_NAMES } from './report-flags.ts';

/** What --quick sets, before the other flags (which win). */
const QUICK = { 'load.warmup': '300ms', 'load.duration': '3s', 'workload.users': 500 } as const;

/** The flags of `run` besides the backend ones. Fields are scenario fields. */
export const RUN_FLAGS = {
  scenario: { type: 'string', value: '<file>', help: 'YAML or JSON scenario (see scenarios/ for examples)' },
  topology: { type: 'string', value: '<kind>', field: 'topology.kind', help: TOPOLOGY_KINDS.join(' | ') },
  strategy: {
    type: 'string',
    value: '<list>',
    field: 'strategies',
    help: `${STRATEGY_NAMES.join(',')}\n(comma-separated; ${Object.entries(STRATEGY_ALIASES)
      .map(([alias, name]) => `${alias} is ${name}`)
      .join(', ')});
a strategy module: ./file.mjs (a path: starts with . or /, or ends
in .js or .mjs) or module:<package>`,
  },
  server: {
    type: 'string',
    value: '<list>',
    field: 'servers',
    help: 'run everything once per server, e.g. redis-server,valkey-server\n(comma-separated binaries; images with --backend container)',
  },
  'redis-conf': {
    type: 'multiple',
    value: '<line>',
    field: 'topology.extraConfig',
    help: 'extra redis.conf line for every data node, on every topology entry;\nrepeatable, e.g. --redis-conf "io-threads 2"',
  },
  rate: { type: 'string', value: '<ops/s>', field: 'load.rate', help: 'open-loop arrival rate' },
  mode: { type: 'string', value: '<open|closed>', field: 'load.mode', help: 'load model' },
  concurrency: { type: 'string', value: '<n>', field: 'load.concurrency', help: 'closed loop: operations in flight' },
  duration: { type: 'string', value: '<d>', field: 'load.duration', show: showDuration, help: 'measured phase, e.g. 30s' },
  warmup: { type: 'string', value: '<d>', field: 'load.warmup', show: showDuration, help: 'unmeasured load before it' },
  shard: {
    type: 'string',
    value: '<i/N>',
    field: 'load.shard',
    help: "this generator's part of one run split across N (i from 0): a slice\nof the users, 1/N of the rate; the same scenario on every generator,\nagainst one external deployment (--redis / --sentinels / --cluster);\ntokenbench merge adds the N results and checks the thresholds",
  },
  'start-at': {
    type: 'string',
    value: '<ISO time>',
    field: 'load.startAt',
    help: 'with --shard: when every generator starts its measured phase, e.g.\n2026-12-01T10:00:00Z (each warms up just before it)',
  },
  fault: {
    type: 'multiple',
    value: '<spec>',
    field: 'faults',
    help: `action[:target]@time[+for]; repeatable.\nActions: ${FAULT_ACTIONS.join(', ')}.\nTargets: primary, replica, sentinel, killed, paused, shard-primary:<n>,\na node id. e.g. kill:primary@10s, pause:primary@5s+5s\nNetwork faults cut two sides (terms joined by +: primary, replicas,\nsentinels, a node id, clients:<group>, rest): a|b both ways, a>b only\na's packets, a<b only b's; loss and delay end with their amount. e.g.\n'partition:primary|sentinels@10s+5s', 'loss:primary|replicas:10%@5s+5s',\n'delay:primary|replicas:50ms~10ms@5s+10s' (quote | < > in a shell)`,
  },
  engine: { type: 'string', value: `<${JWT_ENGINES.join('|')}>`, field: 'jwt.engine', help: 'JWT engine' },
  alg: { type: 'string', value: '<alg>', field: 'jwt.alg', help: JWT_ALGORITHMS.join(' | ') },
  users: { type: 'string', value: '<n>', field: 'workload.users', help: 'distinct users' },
  seed: { type: 'string', value: '<n>', field: 'workload.seed', help: 'seed of every random choice' },
  wait: { type: 'string', value: '<replicas:ms>', field: 'policy.wait', default: 'off', help: 'WAIT after each revocation, e.g. 1:100' },
  'fail-open': { type: 'boolean', sets: { 'policy.failure': 'fail-open' }, help: 'accept tokens while Redis is unreachable, instead of rejecting them' },
  threshold: {
    type: 'multiple',
    value: '<metric=limit>',
    field: 'thresholds',
    help: 'a limit checked on every run; repeatable; a broken one exits 3.\ne.g. violations=0, lostRevocations=0, verify.steady.p99=10ms,\nunavailability.longest=3s, throughput=950 (a minimum)',
  },
  exec: {
    type: 'string',
    value: '<command>',
    field: 'service.command',
    help: "start your service (sh -c) on each run's topology, with REDIS_URL, or\nREDIS_SENTINELS + REDIS_MASTER_NAME, or REDIS_CLUSTER_NODES, and PORT=0;\nstopped with the run; its output goes to <out>/service-<n>-<strategy>.log",
  },
  'ready-url': {
    type: 'string',
    value: '<url>',
    field: 'service.ready.url',
    help: "--exec: polled until it answers 2xx; {{port}} is the port the\nservice printed ('listening on <port>'), e.g. http://127.0.0.1:{{port}}/healthz",
  },
  'ready-timeout': { type: 'string', value: '<d>', field: 'service.ready.timeout', default: '30s', help: '--exec: how long it may take to become ready' },
  'exec-env': { type: 'multiple', value: '<NAME=value>', field: 'service.env', help: '--exec: one more environment variable for it; repeatable' },
  set: { type: 'multiple', value: '<path=value>', help: 'set any scenario field, e.g. --set client.failoverDetector=false' },
  out: { type: 'string', value: '<dir>', default: 'results/<timestamp>', help: 'where result.json goes' },
  quick: {
    type: 'boolean',
    sets: QUICK,
    help: `a smoke run (faults must fit):\n${Object.entries(QUICK)
      .map(([field, value]) => `${field} ${value}`)
      .join(', ')}`,
  },
  'ci-outputs': {
    type: 'string',
    value: '<list>',
    help: `also write CI outputs beside report.md, comma-separated, or all:\n${CI_OUTPUT_NAMES.join(', ')}\n(each explained in tokenbench report --help)`,
  },
  json: { type: 'boolean', help: 'print the result as JSON on stdout, no progress' },
  help: HELP_FLAG,
} as const satisfies FlagTable;

/** The scenario's defaults, every topology option included (a sentinel's masterName). */
export const RUN_DEFAULTS = defaultsOf({ ...scenarioSchema.parse({}), topology: TOPOLOGY_DEFAULTS });

export const RUN_HELP = `Usage: tokenbench run [--scenario <file.yaml|json>] [options]

Runs each strategy on a fresh topology under load while faults happen, checks the history,
and writes <out>/result.json (plus one history-*.ndjson per strategy). Flags override the file.

Load is open-loop by default: operations arrive at --rate whatever the server does, and latency
counts from when each one was due (coordinated omission corrected, HdrHistogram). --mode closed
runs --concurrency clients back to back instead, for maximum throughput (labelled as such).

${optionsBlock('Options:', RUN_FLAGS, RUN_DEFAULTS)}

${BACKEND_HELP}

Examples:
  tokenbench run --topology sentinel --strategy blacklist,whitelist --rate 2000 --duration 30s --fault kill:primary@10s
  tokenbench run --topology sentinel --strategy blacklist --wait 1:100 --fault kill:primary@10s --out results/wait
  tokenbench run --topology sentinel --fault pause:primary@5s+6s --set client.failoverDetector=false
  tokenbench run --scenario scenarios/sentinel-failover.yaml --duration 60s
  tokenbench run --scenario scenarios/default-suite.yaml --backend container --image tokenbench/redis:local
  tokenbench run --sentinels 10.0.0.5:26379,10.0.0.6:26379 --master-name mymaster --strategy blacklist --fault failover:primary@10s
  tokenbench run --strategy pure --mode closed --concurrency 64 --engine fast-jwt --alg HS256
  tokenbench run --scenario scenarios/default-suite.yaml --quick
  tokenbench run --scenario scenarios/quick.yaml --threshold violations=0 --ci-outputs junit,summary,benchmark-action
  tokenbench run --scenario scenarios/default-suite.yaml --server redis-server,valkey-server
  tokenbench run --topology sentinel --exec 'node server.mjs' --ready-url 'http://127.0.0.1:{{port}}/healthz' --fault kill:primary@10s
  tokenbench run --redis redis://10.0.0.5:6379 --rate 20000 --shard 0/4 --start-at 2026-12-01T10:00:00Z --out results/shard-0

Writes <out>/result.json, report.md, report.html, scenario.json and the history files, and the
CI outputs --ci-outputs asks for (junit.xml, summary.md, hdr/...).
`;

export const RUN_USAGE = { command: 'run', flags: { ...BACKEND_FLAGS, ...RUN_FLAGS }, help: RUN_HELP } satisfies CommandUsage;
