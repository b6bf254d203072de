import { parseDurationMs } from '../core/duration.ts';
import { EXIT_CODES, InvalidOptionError, isAbortError } from '../core/errors.ts';
import { measureTopologyTimes, type TimeStats, type TopologyTimes } from '../topologies/measure.ts';
import { TOPOLOGY_KINDS, type TopologyOptionsInput } from '../topologies/options.ts';
import { createTopology } from '../topologies/topology.ts';
import type { StartedTopology, TopologyEvent, TopologyKind } from '../topologies/types.ts';
import { BACKEND_FLAGS, backendFromFlags, commandLineSecretWarning, passwordsFromEnvironment } from './backend-flags.ts';
import { type FlagValues, flagForField, intFlag, parseFlags } from './flags.ts';
import { ensureRedisServer } from './install-redis.ts';
import { BENCH_RUNS, TOPOLOGY_FLAGS, TOPOLOGY_HELP, TOPOLOGY_USAGE } from './topology-flags.ts';
import { UsageError } from './usage-error.ts';

export { TOPOLOGY_HELP } from './topology-flags.ts';

const FLAG_OF_FIELD: Record<string, string> = { ...flagForField(TOPOLOGY_FLAGS, BACKEND_FLAGS), kind: 'topology kind' };

const ONLY_FOR: Record<string, TopologyKind[]> = {
  sentinels: ['sentinel'],
  quorum: ['sentinel'],
  'down-after': ['sentinel'],
  'failover-timeout': ['sentinel'],
  shards: ['cluster'],
  'node-timeout': ['cluster'],
  replicas: ['sentinel', 'cluster'],
};

export const flagLabel = (path: readonly PropertyKey[]): string => FLAG_OF_FIELD[String(path[0])] ?? `--${String(path[0])}`;

type Values = FlagValues<typeof TOPOLOGY_USAGE.flags>;

export function topologyOptionsFromFlags(kindArgument: string | undefined, values: Values, env: NodeJS.ProcessEnv = process.env): TopologyOptionsInput {
  // --sentinels is a count for the owned backends and a list of addresses for an external deployment.
  const externalSentinels = values.sentinels?.includes(':') ? values.sentinels : undefined;
  const backend = backendFromFlags({ ...values, sentinels: externalSentinels });
  if (externalSentinels) values = { ...values, sentinels: undefined };
  const implied = backend.kind as string | undefined;
  if (implied && kindArgument && implied !== kindArgument)
    throw new UsageError(`topology up ${kindArgument}: the addresses given describe a ${implied} deployment`);
  const kind = kindArgument ?? implied;
  if (kind === undefined) throw new UsageError('topology up: which topology? single, sentinel or cluster (see: tokenbench topology --help)');
  if (!(TOPOLOGY_KINDS as readonly string[]).includes(kind)) {
    throw new InvalidOptionError('topology kind', TOPOLOGY_KINDS.join(', '), kind);
  }
  for (const [flag, kinds] of Object.entries(ONLY_FOR)) {
    if (values[flag as keyof Values] !== undefined && !kinds.includes(kind as TopologyKind)) {
      throw new UsageError(`--${flag}: applies to ${kinds.join(' and ')} topologies, not ${kind}`);
    }
  }
  const duration = (flag: 'down-after' | 'failover-timeout' | 'node-timeout') =>
    values[flag] === undefined ? undefined : parseDurationMs(values[flag]!, `--${flag}`);
  const input: Record<string, unknown> = {
    ...backend,
    kind,
    redisServer: values['redis-server'],
    persistence: values.persistence,
    minReplicasToWrite: intFlag(values['min-replicas-to-write'], '--min-replicas-to-write'),
    minReplicasMaxLag: intFlag(values['min-replicas-max-lag'], '--min-replicas-max-lag', 1),
    extraConfig: values['redis-conf'],
    keep: values.keep,
  };
  if (kind === 'sentinel') {
    Object.assign(input, {
      replicas: intFlag(values.replicas, '--replicas'),
      sentinels: intFlag(values.sentinels, '--sentinels'),
      quorum: intFlag(values.quorum, '--quorum'),
      downAfterMs: duration('down-after'),
      failoverTimeoutMs: duration('failover-timeout'),
    });
  }
  if (kind === 'cluster') {
    Object.assign(input, {
      shards: intFlag(values.shards, '--shards'),
      replicasPerShard: intFlag(values.replicas, '--replicas'),
      nodeTimeoutMs: duration('node-timeout'),
    });
  }
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  passwordsFromEnvironment(defined, env);
  return defined as TopologyOptionsInput;
}

export async function topologyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, TOPOLOGY_USAGE.flags, TOPOLOGY_USAGE.command);
  const [sub, kind, ...rest] = positionals;
  if (values.help || sub === undefined) {
    process.stdout.write(TOPOLOGY_HELP);
    return values.help ? 0 : 2;
  }
  if (sub === 'up') {
    if (rest.length > 0) throw new UsageError(`topology up: unexpected argument '${rest[0]}'`);
    return topologyUp(kind, values);
  }
  if (sub === 'bench') return topologyBench(values);
  throw new UsageError(`topology: unknown subcommand '${sub}'; expected up or bench (see: tokenbench topology --help)`);
}

function describe(t: StartedTopology): string {
  const lines = [
    `${t.kind} topology ready in ${(t.startupMs / 1000).toFixed(2)} s (backend ${t.backend}${t.dataDir ? `, data in ${t.dataDir}` : ''}${t.keyPrefix ? `, keys under ${t.keyPrefix}` : ''})`,
  ];
  const handle = (n: ReturnType<StartedTopology['nodes']>[number]) =>
    n.pid !== undefined ? `  pid ${n.pid}` : n.containerId ? `  container ${n.containerId.slice(0, 12)}` : '';
  for (const n of t.nodes())
    lines.push(`  ${n.id.padEnd(11)} ${n.role.padEnd(8)} ${n.host}:${n.port}${n.shard !== undefined ? `  shard ${n.shard}` : ''}${handle(n)}`);
  const first = t.nodes()[0]!;
  if (t.kind === 'single') lines.push(`connect: redis-cli -p ${first.port}`);
  if (t.kind === 'cluster') lines.push(`connect: redis-cli -c -p ${first.port}`);
  if (t.kind === 'sentinel') {
    const sentinel = t.nodes().find((n) => n.role === 'sentinel')!;
    lines.push(`connect: redis-cli -p ${sentinel.port} SENTINEL GET-MASTER-ADDR-BY-NAME ${t.masterName}`);
  }
  lines.push('Ctrl-C stops it.');
  return `${lines.join('\n')}\n`;
}

function formatEvent(e: TopologyEvent, startNs: bigint): string {
  const at = (Number(e.ns - startNs) / 1e9).toFixed(3);
  return `[+${at}s] ${e.source} ${e.type}${e.node ? ` ${e.node}` : ''}${e.detail ? ` (${e.detail})` : ''}\n`;
}

/**
 * Resolves on the first SIGINT / SIGTERM / SIGHUP; a second quits at once with 130 (the exit
 * cleanup still kills the servers). Until disposed, those signals are ours.
 */
function untilSignal(): { promise: Promise<NodeJS.Signals>; dispose: () => void } {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  let handler: (s: NodeJS.Signals) => void = () => {};
  let received = 0;
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    handler = (s) => {
      if (++received > 1) process.exit(EXIT_CODES.interrupted);
      resolve(s);
    };
  });
  for (const s of signals) process.on(s, handler);
  return {
    promise,
    dispose: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}

async function topologyUp(kindArgument: string | undefined, values: Values): Promise<number> {
  const topology = createTopology(topologyOptionsFromFlags(kindArgument, values), flagLabel);
  const warning = commandLineSecretWarning(values);
  if (warning) process.stderr.write(warning);
  const kind = topology.kind;
  if (topology.backend === 'process') await ensureRedisServer(topology.options.redisServer);
  const abort = new AbortController();
  const signal = untilSignal();
  void signal.promise.then(() => abort.abort());
  let started: StartedTopology | undefined;
  try {
    if (!values.json) process.stderr.write(`starting ${kind} topology...\n`);
    started = await topology.start(abort.signal);
    if (values.json) {
      const nodes = started.nodes().map(({ id, role, host, port, shard }) => ({ id, role, host, port, ...(shard !== undefined && { shard }) }));
      process.stdout.write(
        `${JSON.stringify({ kind: started.kind, backend: started.backend, ...(started.masterName && { masterName: started.masterName }), dataDir: started.dataDir, nodes })}\n`,
      );
    } else {
      process.stdout.write(describe(started));
      const startNs = process.hrtime.bigint();
      void (async () => {
        for await (const e of started!.events()) if (e.ns >= startNs) process.stderr.write(formatEvent(e, startNs));
      })();
    }
    const received = await signal.promise;
    if (!values.json) process.stderr.write(`${received}: stopping...\n`);
    return 0;
  } catch (error) {
    // Interrupted while starting: start() has stopped what it started; a failure of its own still shows.
    if (!(abort.signal.aborted && isAbortError(error))) throw error;
    if (!values.json) process.stderr.write(`${await signal.promise}: stopping...\n`);
    return EXIT_CODES.interrupted;
  } finally {
    await started?.stop();
    signal.dispose();
    if (started && !values.json) process.stderr.write(values.keep ? `stopped; kept ${started.dataDir}\n` : 'stopped; nothing left running\n');
  }
}

async function topologyBench(values: Values): Promise<number> {
  const runs = intFlag(values.runs, '--runs', 1) ?? BENCH_RUNS;
  const kinds = (values.kinds ?? TOPOLOGY_FLAGS.kinds.default).split(',').map((k) => k.trim());
  const backends = (values.backend ?? 'process').split(',').map((b) => b.trim());
  for (const backend of backends) {
    if (backend !== 'process' && backend !== 'container')
      throw new InvalidOptionError('--backend', 'process and/or container (bench starts and kills the servers)', backend);
  }
  if (backends.includes('process')) await ensureRedisServer(values['redis-server'] ?? 'redis-server');
  const all: (TopologyTimes & { backend: string })[] = [];
  for (const backend of backends) {
    const image = backend === 'container' ? values.image : undefined;
    const topologies = kinds.map((kind) => {
      const input = topologyOptionsFromFlags(kind, { ...values, backend, image, keep: false });
      createTopology(input, flagLabel); // a bad flag fails here, named as the flag
      return input;
    });
    const results = await measureTopologyTimes(topologies, runs, (kind, i) => {
      if (!values.json) process.stderr.write(`${backend} ${kind}: run ${i + 1}/${runs}...\n`);
    });
    all.push(...results.map((r) => ({ backend, ...r })));
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
    return 0;
  }
  const f = (s?: TimeStats) => (s ? `${(s.min / 1000).toFixed(2)} / ${(s.median / 1000).toFixed(2)} / ${(s.max / 1000).toFixed(2)}` : '-');
  process.stdout.write(
    `\n| backend | topology | start-to-ready s (min / median / max) | kill -9 primary to promotion s | kill -9 to +switch-master / FAIL s |\n|---|---|---|---|---|\n`,
  );
  for (const r of all) process.stdout.write(`| ${r.backend} | ${r.kind} | ${f(r.startToReadyMs)} | ${f(r.killToPromotionMs)} | ${f(r.killToAnnouncedMs)} |\n`);
  if (backends.length > 1) {
    const [first] = backends;
    process.stdout.write(`\nMedian ratios to ${first} (same run, same machine):\n| backend | topology | start-to-ready | promotion |\n|---|---|---|---|\n`);
    for (const r of all.filter((x) => x.backend !== first)) {
      const base = all.find((x) => x.backend === first && x.kind === r.kind)!;
      const ratio = (a?: TimeStats, b?: TimeStats) => (a && b ? `${(a.median / b.median).toFixed(2)}x` : '-');
      process.stdout.write(
        `| ${r.backend} | ${r.kind} | ${ratio(r.startToReadyMs, base.startToReadyMs)} | ${ratio(r.killToPromotionMs, base.killToPromotionMs)} |\n`,
      );
    }
  }
  process.stdout.write(`\n${runs} run(s) each; promotion = first ROLE poll (every 100 ms) where a replica answers master.\n`);
  return 0;
}
