import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Cluster, Redis } from 'ioredis';
import { InvalidOptionError, StrategyConformanceError } from '../core/errors.ts';
import { findAnomalies } from '../result/anomalies.ts';
import { encodeHistogram, type LatencySummary, summarize } from '../result/histogram.ts';
import type { StrategyRunResult } from '../result/schema.ts';
import { serverText } from '../result/server.ts';
import { evaluateThresholds } from '../result/thresholds.ts';
import { runVerdict } from '../result/verdict.ts';
import { checkConformance } from '../strategies/conformance.ts';
import { createStrategyFromSpec, type StrategyContext, type StrategySpec } from '../strategies/create.ts';
import { generateSharedKeys } from '../strategies/jwt/keys.ts';
import { STRATEGY_NAMES, type StrategyOptionsInput } from '../strategies/options.ts';
import type { Strategy } from '../strategies/types.ts';
import { DEFAULT_CLIENT_OPTIONS } from '../topologies/client-options.ts';
import { identifyServer, type ServerIdentity } from '../topologies/server-identity.ts';
import { startTopology } from '../topologies/topology.ts';
import type { StartedTopology, TopologyKind } from '../topologies/types.ts';
import { checkHistory } from './checkers/index.ts';
import { LoadEngine, type Origin } from './engine.ts';
import { type EngineHandle, localHandle, workerHandle } from './engine-handle.ts';
import { ENGINE_WORKER_URL, VERIFIER_WORKER_URL } from './engine-worker-url.ts';
import { FootprintSampler } from './footprint.ts';
import type { EventRecord, Phase, RunInfo } from './history.ts';
import { effectiveScheduler } from './load.ts';
import { Metrics, type MetricsSnapshot } from './metrics.ts';
import { Nemesis } from './nemesis/nemesis.ts';
import { PROBE_WORKER_BASE } from './probe.ts';
import { measureRedisCost } from './redis-cost.ts';
import {
  type BuiltinStrategyEntry,
  isHttpEntry,
  isModuleEntry,
  type Scenario,
  type ScenarioPart,
  type StrategyEntry,
  strategyName,
  thresholdsOf,
} from './scenario.ts';
import { type RunningService, resolveServicePort, startService } from './service.ts';
import { measureClockOffset, plannedStart, readWallClockIn, shardRecord, shardSlice } from './shard.ts';
import { startVerifier, type VerifierHandle } from './verifier-handle.ts';
import type { WorkloadPart } from './workload.ts';

/** Which of a scenario's runs an event is about: `index` from 0, of `count` in all (every strategy on every topology). */
export interface RunPosition {
  index: number;
  count: number;
}

export interface ProgressInfo {
  run: RunPosition;
  label: string;
  topology: TopologyKind;
  /** Run ms: negative during the warm-up (it ends at 0), then into the measured phase. */
  elapsedMs: number;
  warmupMs: number;
  durationMs: number;
  /** The measured time the figures below cover: since the last tick, without any warm-up (whose ops are not counted); 0 in the warm-up. */
  windowMs: number;
  opsPerSec: number;
  p99Ms: number;
  errors: number;
  degraded: number;
  phase: Phase;
  lastFault?: string;
}

/** The stages of a run in order, by name; `StageInfo.stage` says each in words. */
export type RunStep = 'topology' | 'service' | 'verifiers' | 'workers' | 'login' | 'load' | 'settle' | 'reconcile' | 'cost' | 'check' | 'stop';

/** What a run is doing now, for a progress display: `[blacklist on sentinel] healing faults and settling`. */
export interface StageInfo {
  run: RunPosition;
  label: string;
  topology: TopologyKind;
  step: RunStep;
  stage: string;
}

export interface RunContext {
  outDir: string;
  index: number;
  signal: AbortSignal;
  /** Called about once a second during the warm-up and the measured phase; the run's position is the scenario's to add. */
  onProgress?: (p: Omit<ProgressInfo, 'run'>) => void;
  onStage?: (stage: Omit<StageInfo, 'run'>) => void;
}

/** One strategy on a fresh topology: log in, warm up, measured load with faults, settle, reconciliation, checks. */
export async function runStrategy(whole: ScenarioPart, entryIndex: number, ctx: RunContext): Promise<StrategyRunResult> {
  // One generator of a run split across several runs its slice of it (harness/shard.ts).
  const scenario = shardSlice(whole);
  const plan = strategyPlan(scenario, scenario.strategies[entryIndex]!);
  const { spec, failurePolicy, wait } = plan;
  // A binary says what it is before it starts; a container or an external server once connected.
  let server = scenario.topology.backend === 'process' ? await identifyServer(scenario.topology) : undefined;
  const stage = (step: RunStep, s: string) =>
    ctx.onStage?.({ label: `${plan.title}${serverSuffix(scenario, server)}`, topology: scenario.topology.kind, step, stage: s });
  // Verifier instances check the generators' tokens: one set of keys for every instance of the run.
  if (scenario.load.verifiers > 0 && !('module' in spec) && spec.name !== 'http' && !spec.jwt?.keys) {
    spec.jwt = { ...spec.jwt, keys: await generateSharedKeys(spec.jwt?.alg ?? scenario.jwt.alg) };
  }

  stage('topology', `starting ${scenario.topology.kind} topology`);
  const topology: StartedTopology = await startTopology(scenario.topology, ctx.signal);
  // An external deployment hands out a per-run prefix, the only keys it lets us touch (and removes at stop).
  if (topology.keyPrefix !== undefined && !('module' in spec) && spec.name !== 'http') spec.keyPrefix = topology.keyPrefix;
  const keyPrefix = (!('module' in spec) && spec.name !== 'http' && spec.keyPrefix) || plan.keyPrefix;
  let redis: Redis | Cluster | undefined;
  let strategy: Strategy | undefined;
  let service: RunningService | undefined;
  const handles: EngineHandle[] = [];
  const verifiers: VerifierHandle[] = [];
  let clientGroups: NonNullable<StrategyRunResult['clientGroups']> = [];
  try {
    if (scenario.service) {
      stage('service', `starting the service: ${scenario.service.command}`);
      service = await startService(scenario.service, {
        target: topology.endpoints(),
        client: scenario.client,
        logPath: join(ctx.outDir, `service-${ctx.index}-${plan.title.replace(/[^A-Za-z0-9._-]+/g, '-')}.log`),
        runLabel: plan.title,
        signal: ctx.signal,
      });
      // Before the strategy exists: an http strategy's baseUrl may name the port the service printed.
      Object.assign(spec, resolveServicePort(spec, service.port, scenario.service.command));
    }
    redis = topology.client(scenario.client);
    server ??= await identifyServer(scenario.topology, redis);
    strategy = await createRunStrategy(spec, { redis, target: topology.endpoints(), client: scenario.client });
    const label = `${plan.label(strategy)}${serverSuffix(scenario, server)}`;
    const name = strategy.name.replace(/[^A-Za-z0-9._-]+/g, '-');
    const generators = loadGenerators(scenario, topology);
    const historyPath = (w: number) => join(ctx.outDir, `history-${ctx.index}-${name}${generators.length > 1 ? `-w${w}` : ''}.ndjson`);
    const users = splitByShares(
      scenario.workload.users,
      generators.map((g) => g.share),
    );
    const concurrency = splitByShares(
      scenario.load.concurrency,
      generators.map((g) => g.share),
    );
    // Users are split, not shared: each generator owns its users' sessions, so no token is in two places.
    // A shard's threads name theirs as one generator would, so that all shards' users are one generator's.
    const partScenario = (w: number): Scenario => {
      const workload: WorkloadPart = { ...scenario.workload, users: Math.max(1, users[w]!), seed: scenario.workload.seed + w };
      if (scenario.load.shard) workload.firstUser = ((scenario.workload as WorkloadPart).firstUser ?? 0) + users.slice(0, w).reduce((a, b) => a + b, 0);
      return { ...scenario, workload };
    };
    // A port per generator-verifier pair: acknowledged revocations go thread to thread.
    const channels = Array.from({ length: generators.length }, () => Array.from({ length: scenario.load.verifiers }, () => new MessageChannel()));
    const probePorts = (w: number): { probePorts?: MessagePort[] } => (scenario.load.verifiers > 0 ? { probePorts: channels[w]!.map((c) => c.port1) } : {});
    if (scenario.load.verifiers > 0) {
      stage('verifiers', `starting ${scenario.load.verifiers} verifier instance threads`);
      const started = await Promise.allSettled(
        Array.from({ length: scenario.load.verifiers }, (_, k) =>
          startVerifier(
            {
              target: topology.endpoints(),
              // From 127.0.0.1: a verifier belongs to no client group, outside every network fault.
              client: scenario.client,
              strategy: spec,
              historyPath: join(ctx.outDir, `history-${ctx.index}-${name}-v${k}.ndjson`),
              worker: PROBE_WORKER_BASE + k,
              ports: channels.map((row) => row[k]!.port2),
            },
            VERIFIER_WORKER_URL,
          ),
        ),
      );
      for (const s of started) if (s.status === 'fulfilled') verifiers.push(s.value);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    }
    if (generators.length === 1 && generators[0]!.address === undefined) {
      const engine = new LoadEngine({
        scenario,
        strategy,
        redis,
        historyPath: historyPath(0),
        worker: 0,
        rate: scenario.load.rate,
        concurrency: scenario.load.concurrency,
        userPrefix: 'user',
        signal: ctx.signal,
        ...probePorts(0),
      });
      handles.push(localHandle(engine, historyPath(0)));
    } else {
      stage('workers', `starting ${generators.length} load worker threads`);
      const started = await Promise.all(
        generators.map((generator, w) =>
          workerHandle(
            {
              target: topology.endpoints(),
              client: { ...scenario.client, ...(generator.address !== undefined && { localAddress: generator.address }) },
              strategy: spec,
              scenario: partScenario(w),
              engine: {
                historyPath: historyPath(w),
                worker: w,
                rate: scenario.load.rate * generator.share,
                concurrency: Math.max(1, concurrency[w]!),
                userPrefix: scenario.load.shard ? 'user' : `w${w}-user`,
                ...probePorts(w),
              },
            },
            ENGINE_WORKER_URL,
          ),
        ),
      );
      handles.push(...started);
    }
    clientGroups = generators.flatMap((g, worker) => (g.group === undefined ? [] : [{ name: g.group, worker, address: g.address ?? null, share: g.share }]));
    const onAbort = () => {
      for (const h of handles) h.abort();
      for (const v of verifiers) v.abort();
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    // An abort while the worker threads were starting came before the listener: it would not fire.
    if (ctx.signal.aborted) onAbort();
    try {
      return await new Orchestration(scenario, strategy, topology, handles, verifiers, ctx, label).run({
        failurePolicy,
        wait: wait ?? null,
        alg: plan.alg(strategy),
        redis,
        keyPrefix,
        clientGroups,
        server,
      });
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  } finally {
    await Promise.allSettled([...handles.map((h) => h.close()), ...verifiers.map((v) => v.close())]);
    await strategy?.close?.().catch(() => {});
    redis?.disconnect();
    if (service) {
      stage('stop', 'stopping the service');
      await service.stop();
    }
    stage('stop', 'stopping topology');
    await topology.stop();
  }
}

/** ` · valkey 8.0.1` (or the servers entry's label) on the runs of a servers matrix with more than one entry; nothing otherwise. */
function serverSuffix(scenario: ScenarioPart, server: ServerIdentity | undefined): string {
  if (!scenario.server?.inRunLabel) return '';
  // Before a container has said what it runs: the image it was asked for.
  return ` · ${scenario.server.label ?? (server ? serverText(server) : (scenario.topology.image ?? scenario.topology.redisServer))}`;
}

/** What one entry of `strategies` builds in every thread, with the policy and label its run records. */
function strategyPlan(
  scenario: ScenarioPart,
  entry: StrategyEntry,
): {
  spec: StrategySpec;
  title: string;
  failurePolicy: 'fail-closed' | 'fail-open';
  wait: { replicas: number; timeoutMs: number } | undefined;
  /** What the Redis cost counts: ours are under tb:, a module's keys are all the fresh topology holds. */
  keyPrefix: string;
  label(strategy: Strategy): string;
  alg(strategy: Strategy): string;
} {
  const topologyLabel = scenario.topologyLabel ? ` · ${scenario.topologyLabel}` : '';
  const failurePolicy = (!isModuleEntry(entry) && typeof entry !== 'string' && entry.failurePolicy) || scenario.policy.failure;
  if (isHttpEntry(entry)) {
    return {
      spec: {
        name: 'http',
        http: entry.http,
        ...(entry.label !== undefined && { label: entry.label }),
        ...(entry.guarantee !== undefined && { guarantee: entry.guarantee }),
        timeoutMs: scenario.client.commandTimeout ?? DEFAULT_CLIENT_OPTIONS.commandTimeout,
      },
      title: entry.label ?? 'http service',
      failurePolicy,
      wait: undefined,
      // The service's keys are its own: the Redis cost counts everything the fresh topology holds.
      keyPrefix: '',
      label: (strategy) => `${entry.label ?? strategy.label}${topologyLabel}`,
      // Its JWTs are the service's own: not known here.
      alg: () => '-',
    };
  }
  if (isModuleEntry(entry)) {
    return {
      spec: { module: entry.module, ...(entry.options !== undefined && { options: entry.options }), failurePolicy },
      title: entry.label ?? basename(entry.module),
      failurePolicy,
      wait: undefined,
      keyPrefix: '',
      label: (strategy) => `${entry.label ?? strategy.label}${topologyLabel}`,
      alg: (strategy) => (typeof strategy.alg === 'string' ? strategy.alg : 'unknown'),
    };
  }
  const name = strategyName(entry) as Exclude<ReturnType<typeof strategyName>, 'http'>;
  const overrides: Exclude<BuiltinStrategyEntry, string | { http: unknown }> | Record<string, never> =
    typeof entry === 'string' ? {} : (entry as Exclude<BuiltinStrategyEntry, string | { http: unknown }>);
  const wait = overrides.wait === null ? undefined : (overrides.wait ?? scenario.policy.wait);
  const spec: StrategyOptionsInput = {
    name,
    jwt: { ...scenario.jwt, ...overrides.jwt },
    failurePolicy,
    ...(wait && { wait }),
    // Fields left out take the strategy schema's own defaults.
    ...(overrides.blacklist && { blacklist: overrides.blacklist }),
    ...(overrides.whitelist && { whitelist: overrides.whitelist }),
    ...(overrides.replicated && { replicated: overrides.replicated }),
  };
  return {
    spec,
    title: overrides.label ?? name,
    failurePolicy,
    wait,
    keyPrefix: 'tb:',
    label: (strategy) =>
      `${overrides.label ?? `${strategy.label}${wait ? ` + WAIT ${wait.replicas}` : ''}${failurePolicy === 'fail-open' ? ' (fail-open)' : ''}`}${topologyLabel}`,
    alg: () => scenario.jwt.alg,
  };
}

/** A strategy module must pass the conformance pass before it is measured; ours are trusted (a test holds them to it). */
async function createRunStrategy(spec: StrategySpec, context: StrategyContext): Promise<Strategy> {
  const strategy = await createStrategyFromSpec(spec, context);
  if (!('module' in spec)) return strategy;
  const report = await checkConformance(strategy, { reservedNames: STRATEGY_NAMES });
  if (report.failures.length > 0) {
    await strategy.close?.().catch(() => {});
    throw new StrategyConformanceError(spec.module, report.failures);
  }
  return strategy;
}

/** One load generator: its share of users, rate and concurrency, and the client group it sends for. */
interface LoadGenerator {
  share: number;
  /** The loopback address it sends from; undefined: 127.0.0.1, outside every network fault. */
  address?: string;
  group?: string;
}

/**
 * Client groups each get a generator of their own, sending from their own address; what their
 * shares leave goes to one more, from 127.0.0.1. Without groups: `load.workers` equal generators.
 */
function loadGenerators(scenario: Scenario, topology: StartedTopology): LoadGenerator[] {
  const groups = scenario.load.clientGroups;
  if (groups.length === 0) return Array.from({ length: scenario.load.workers }, () => ({ share: 1 / scenario.load.workers }));
  const generators: LoadGenerator[] = groups.map((g, i) => {
    const address = topology.clientAddress?.(i);
    if (address === undefined)
      throw new InvalidOptionError('load.clientGroups', 'a topology with per-node addresses (process or container backend)', topology.backend);
    return { share: g.share, address, group: g.name };
  });
  const rest = 1 - groups.reduce((sum, g) => sum + g.share, 0);
  if (rest > 1e-9) generators.push({ share: rest });
  return generators;
}

/** `total` split in proportion to `shares`, by largest remainder: the parts add up to `total` exactly. */
export function splitByShares(total: number, shares: readonly number[]): number[] {
  const sum = shares.reduce((a, b) => a + b, 0);
  const exact = shares.map((share) => (total * share) / sum);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left <= 0) break;
    parts[i]!++;
    left--;
  }
  return parts;
}

/** Time zero, phases, settling and checks: everything that is one per run, whatever the number of load generators. Faults are the nemesis's. */
class Orchestration {
  readonly #scenario: ScenarioPart;
  readonly #strategy: Strategy;
  readonly #topology: StartedTopology;
  readonly #handles: EngineHandle[];
  readonly #verifiers: VerifierHandle[];
  readonly #ctx: RunContext;
  readonly #label: string;
  readonly #nemesis: Nemesis;
  #origin: Origin = { absoluteMs: performance.timeOrigin + performance.now(), wallMs: Date.now() };
  #originNs = process.hrtime.bigint();
  /** Run ms of the last progress tick (the measured phase starts at 0): the next one's figures cover the time since. */
  #lastTickMs = 0;

  constructor(
    scenario: ScenarioPart,
    strategy: Strategy,
    topology: StartedTopology,
    handles: EngineHandle[],
    verifiers: VerifierHandle[],
    ctx: RunContext,
    label: string,
  ) {
    this.#scenario = scenario;
    this.#strategy = strategy;
    this.#topology = topology;
    this.#handles = handles;
    this.#verifiers = verifiers;
    this.#ctx = ctx;
    this.#label = label;
    this.#nemesis = new Nemesis(topology, {
      now: () => this.#now(),
      settleMs: scenario.load.settle,
      clientGroups: scenario.load.clientGroups.map((g) => g.name),
      onPhase: (phase) => {
        for (const h of this.#handles) void h.setPhase(phase);
        for (const v of this.#verifiers) v.setPhase(phase);
      },
    });
  }

  #now(): number {
    return performance.timeOrigin + performance.now() - this.#origin.absoluteMs;
  }

  #stage(step: RunStep, stage: string): void {
    this.#ctx.onStage?.({ label: this.#label, topology: this.#scenario.topology.kind, step, stage });
  }

  async run(extra: {
    failurePolicy: 'fail-closed' | 'fail-open';
    wait: { replicas: number; timeoutMs: number } | null;
    alg: string;
    redis: Redis | Cluster;
    keyPrefix: string;
    clientGroups: NonNullable<StrategyRunResult['clientGroups']>;
    server: ServerIdentity | undefined;
  }): Promise<StrategyRunResult> {
    const load = this.#scenario.load;
    const signal = this.#ctx.signal;
    this.#stage('login', `logging in ${this.#scenario.workload.users * this.#scenario.workload.sessionsPerUser} sessions`);
    await Promise.all(this.#handles.map((h) => h.login()));
    const footprint = FootprintSampler.forRun(this.#topology, this.#handles, this.#verifiers);
    await footprint.prepare();

    // Time zero is the planned start of the measured phase, for ops, faults and topology events
    // alike. Warm-up runs just before it, in one continuous load (no burst at the switch), and its
    // ops go to the history too: a token revoked in the warm-up and replayed later must be known.
    // A shard's time zero is the shared start time, held against the Redis clock all shards share.
    const clock = load.shard ? await measureClockOffset(extra.redis) : null;
    const start = plannedStart(load);
    this.#origin = { absoluteMs: performance.timeOrigin + performance.now() + start.inMs, wallMs: Date.now() + start.inMs };
    this.#originNs = process.hrtime.bigint() + BigInt(Math.round(start.inMs * 1e6));
    for (const v of this.#verifiers) v.setOrigin(this.#origin);
    await Promise.all(this.#handles.map((h) => h.setOrigin(this.#origin)));
    if (start.fromMs > this.#now()) {
      this.#stage('load', `waiting for the shared start at ${load.startAt} (in ${Math.round(-this.#now() / 1000)} s)`);
      await delay(start.fromMs - this.#now(), undefined, { signal });
    }
    const startedAtWallMs = load.shard ? readWallClockIn(-this.#now()) : undefined;
    this.#stage('load', `warming up for ${Math.round(-start.fromMs)} ms, then measuring for ${load.duration} ms`);
    this.#nemesis.start(this.#scenario.faults, -this.#now());
    // The footprint covers the measured phase only: settling and reconciliation load the machine
    // differently (healing, waiting, a burst of verifies) and no latency figure is measured there.
    footprint.startIn(-this.#now());
    const progress = setInterval(() => void this.#reportProgress(), 1000);
    progress.unref();
    let inFlightAtEnd = 0;
    try {
      const pending = await Promise.all(this.#handles.map((h) => h.drive(start.fromMs, load.duration)));
      inFlightAtEnd = pending.reduce((a, b) => a + b, 0);
    } finally {
      clearInterval(progress);
      this.#nemesis.stop();
      footprint.stop();
    }
    const measuredMs = Math.max(0, Math.min(this.#now(), load.duration));

    // Settle: undo every fault, wait for the topology, then ask once more about every acknowledged revocation.
    this.#stage('settle', 'healing faults and settling');
    await this.#nemesis.heal();
    const finalPrimaryPorts = (await this.#topology.primaries().catch(() => [])).map((n) => n.port);
    let reconciled = 0;
    if (!signal.aborted) {
      this.#stage('reconcile', 'final reconciliation of acknowledged revocations');
      reconciled = (await Promise.all(this.#handles.map((h) => h.reconcile()))).reduce((a, b) => a + b, 0);
    }
    const localState = (await Promise.all(this.#handles.map(async (h, worker) => ({ worker, state: await h.localState() })))).flatMap(({ worker, state }) =>
      state ? [{ worker, ...state }] : [],
    );
    const parts = await Promise.all(this.#handles.map((h) => h.finish()));
    // After the generators: no revocation is handed over any more, and the probes' files are complete for the checkers.
    await Promise.all(this.#verifiers.map((v) => v.finish()));
    this.#stage('cost', 'measuring what the state costs in Redis');
    const cost = await measureRedisCost(extra.redis, extra.keyPrefix);
    const metrics = new Metrics(load.bucket);
    for (const part of parts) metrics.merge(part);

    const events: EventRecord[] = this.#topology.eventLog
      .snapshot()
      .filter((e) => e.ns >= this.#originNs)
      // A fault is dated when issued but logged when done, so the log is in observation order: sort by time.
      .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0))
      .map((e) => ({
        atMs: Number(e.ns - this.#originNs) / 1e6,
        source: e.source,
        type: e.type,
        ...(e.node && { node: e.node }),
        ...(e.detail && { detail: e.detail }),
      }));
    const faults = this.#nemesis.records;
    const runInfo: RunInfo = {
      strategy: this.#strategy.name,
      guarantee: this.#strategy.guarantee,
      failurePolicy: extra.failurePolicy,
      faults,
      events,
      finalPrimaryPorts,
      durationMs: measuredMs,
      nodes: this.#topology.nodes().map(({ id, port }) => ({ id, port })),
      ...(extra.clientGroups.length > 0 && { clientGroups: extra.clientGroups }),
      ...(this.#verifiers.length > 0 && { verifiers: this.#verifiers.length }),
    };
    this.#stage('check', 'checking the history');
    // The verifiers' probes are checked like any verify; they were never in the generators' Metrics, so not in latency, throughput or timeline.
    const historyFiles = [...this.#handles.map((h) => h.historyPath), ...this.#verifiers.map((v) => v.historyPath)];
    const checks = await checkHistory(historyFiles, runInfo);

    const latency: StrategyRunResult['latency'] = {};
    for (const [f, h] of metrics.byOp) {
      const byPhase: Partial<Record<Phase, LatencySummary>> = {};
      for (const [phase, hp] of metrics.byOpPhase.get(f) ?? []) byPhase[phase] = summarize(hp);
      const service = metrics.serviceByOp.get(f);
      latency[f] = {
        all: summarize(h),
        byPhase,
        histogram: encodeHistogram(h),
        ...(service && { serviceTime: { all: summarize(service), histogram: encodeHistogram(service) } }),
      };
    }
    const run = {
      strategy: this.#strategy.name,
      label: this.#label,
      engine: this.#strategy.engine,
      alg: extra.alg,
      guarantee: this.#strategy.guarantee,
      failurePolicy: extra.failurePolicy,
      wait: extra.wait,
      topology: {
        kind: this.#topology.kind,
        backend: this.#topology.backend,
        startupMs: Math.round(this.#topology.startupMs),
        nodes: this.#topology.nodes().map(({ id, role, port, shard }) => ({ id, role, port, ...(shard !== undefined && { shard }) })),
        ...(this.#scenario.topologyLabel !== undefined && { label: this.#scenario.topologyLabel }),
      },
      ...(extra.server && { server: { ...extra.server, ...(this.#scenario.server?.label !== undefined && { label: this.#scenario.server.label }) } }),
      interrupted: signal.aborted,
      ...(extra.clientGroups.length > 0 && { clientGroups: extra.clientGroups }),
      ...(localState.length > 0 && { localState }),
      load: {
        mode: load.mode,
        targetRate: load.mode === 'open' ? load.rate : null,
        concurrency: load.mode === 'closed' ? load.concurrency : null,
        workers: this.#handles.length,
        warmupMs: Math.round(-start.fromMs),
        durationMs: Math.round(measuredMs),
        completedOps: metrics.completed,
        achievedRate: measuredMs > 0 ? Math.round((metrics.completed / measuredMs) * 1000) : 0,
        inFlightAtEnd,
        ...(load.mode === 'open' && { scheduler: effectiveScheduler(load.rate / this.#handles.length) }),
      },
      latency,
      slip: load.mode === 'open' ? summarize(metrics.slip) : null,
      redis: {
        roundTripsPerVerify: metrics.verifiesWithVerdict ? Math.round((metrics.redisOpsTotal / metrics.verifiesWithVerdict) * 1000) / 1000 : null,
        ...cost,
      },
      // Not measured (a service's own Redis traffic): no per-bucket round trips rather than zeros.
      timeline: this.#strategy.redisVisible === false ? metrics.timeline().map(({ verifyRedisOps: _, ...bucket }) => bucket) : metrics.timeline(),
      faults,
      events,
      checks,
      historyFiles,
      reconciledTokens: reconciled,
      footprint: footprint.result(),
      ...(load.shard && { shard: shardRecord(load, (await startedAtWallMs)!, clock) }),
    };
    // What the checkers prove, the limits the scenario set, and what the ground truth shows that nobody asked for.
    // A shard's limits are the whole run's: `tokenbench merge` checks them on the merged result.
    const thresholds = load.shard ? [] : evaluateThresholds(run, thresholdsOf(this.#scenario));
    return { ...run, verdict: runVerdict(checks), thresholds, anomalies: findAnomalies(run) };
  }

  async #reportProgress(): Promise<void> {
    if (!this.#ctx.onProgress) return;
    const nowMs = this.#now();
    // Warm-up ops are not counted: a window reaching back before 0 covers only its measured part.
    const windowMs = Math.max(0, nowMs - Math.max(0, this.#lastTickMs));
    this.#lastTickMs = nowMs;
    const windows = await Promise.all(this.#handles.map((h) => h.window().catch(() => undefined)));
    const present = windows.filter((w): w is MetricsSnapshot => w !== undefined);
    const last = this.#nemesis.records.at(-1);
    const ops = present.reduce((a, w) => a + w.ops, 0);
    this.#ctx.onProgress({
      label: this.#label,
      topology: this.#scenario.topology.kind,
      elapsedMs: nowMs,
      warmupMs: this.#scenario.load.warmup,
      durationMs: this.#scenario.load.duration,
      windowMs,
      opsPerSec: windowMs > 0 ? Math.round((ops * 1000) / windowMs) : 0,
      // The worst thread's p99 bounds the merged p99 from above: enough for a progress line.
      p99Ms: Math.max(0, ...present.map((w) => w.p99Ms)),
      errors: present.reduce((a, w) => a + w.errors, 0),
      degraded: present.reduce((a, w) => a + w.degraded, 0),
      phase: nowMs < 0 ? 'warmup' : this.#nemesis.phase,
      ...(last && { lastFault: `${last.action} ${last.node ?? last.target} @${(last.atMs / 1000).toFixed(1)}s` }),
    });
  }
}
