import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Cluster, Redis } from 'ioredis';
import { createStrategy } from '../strategies/create.ts';
import type { StrategyOptionsInput } from '../strategies/options.ts';
import type { Strategy } from '../strategies/types.ts';
import { startTopology } from '../topologies/topology.ts';
import type { StartedTopology } from '../topologies/types.ts';
import { runCheckersOverStream } from './checkers/index.ts';
import { LoadEngine, type Origin } from './engine.ts';
import type { EngineReply, EngineRequest, EngineWorkerData } from './engine-worker.ts';
import { ENGINE_WORKER_URL } from './engine-worker-url.ts';
import { readHistory } from './history-file.ts';
import { measureRedisCost, type RedisCost } from './redis-cost.ts';
import type { CheckResult, EventRecord, FaultRecord, Op, Phase, RunInfo } from './history.ts';
import { encodeHistogram, type LatencySummary, summarize } from '../result/histogram.ts';
import { Metrics, type MetricsSnapshot, type SerializedMetrics, type TimelineBucket } from './metrics.ts';
import { strategyName, type Scenario } from './scenario.ts';

export interface StrategyRun {
  strategy: string;
  label: string;
  engine: string;
  alg: string;
  guarantee: Strategy['guarantee'];
  failurePolicy: 'fail-closed' | 'fail-open';
  wait: { replicas: number; timeoutMs: number } | null;
  topology: { kind: string; backend: string; startupMs: number; nodes: { id: string; role: string; port: number; shard?: number }[] };
  interrupted: boolean;
  load: {
    mode: 'open' | 'closed';
    targetRate: number | null;
    concurrency: number | null;
    workers: number;
    warmupMs: number;
    durationMs: number;
    completedOps: number;
    achievedRate: number;
    /** Ops still running when the measured phase ended (waited for, then counted). */
    inFlightAtEnd: number;
  };
  /** Per op type: all phases, then per phase. Milliseconds; `histogram` is HdrHistogram (us), compressed base64. */
  latency: Record<string, { all: LatencySummary; byPhase: Record<string, LatencySummary>; histogram: string }>;
  /** How late the open-loop generator launched operations. Large slip = saturated generator. */
  slip: LatencySummary | null;
  redis: { roundTripsPerVerify: number | null } & RedisCost;
  timeline: TimelineBucket[];
  faults: FaultRecord[];
  events: EventRecord[];
  checks: Record<string, CheckResult>;
  historyFiles: string[];
  reconciledTokens: number;
}

export interface ProgressInfo {
  label: string;
  elapsedMs: number;
  durationMs: number;
  opsPerSec: number;
  p99Ms: number;
  errors: number;
  degraded: number;
  phase: Phase;
  lastFault?: string;
}

export interface RunContext {
  outDir: string;
  index: number;
  signal: AbortSignal;
  /** Called about once a second during the run. */
  onProgress?: (p: ProgressInfo) => void;
  onStage?: (label: string, stage: string) => void;
}

/** One load generator, in this thread or in a worker thread: the orchestrator drives them alike. */
interface EngineHandle {
  readonly historyPath: string;
  login(): Promise<void>;
  setOrigin(origin: Origin): Promise<void>;
  setPhase(phase: Phase): void;
  drive(fromMs: number, untilMs: number): Promise<number>;
  window(): Promise<MetricsSnapshot>;
  reconcile(): Promise<number>;
  finish(): Promise<SerializedMetrics>;
  close(): Promise<void>;
  abort(): void;
}

function localHandle(engine: LoadEngine, historyPath: string, signal: AbortSignal): EngineHandle {
  return {
    historyPath,
    login: () => engine.login(signal),
    setOrigin: async (origin) => engine.setOrigin(origin),
    setPhase: (phase) => engine.setPhase(phase),
    drive: (from, until) => engine.drive(from, until, signal),
    window: async () => engine.window(),
    reconcile: () => engine.reconcile(),
    finish: () => engine.finish(),
    close: () => engine.close(),
    abort: () => {},
  };
}

async function workerHandle(data: EngineWorkerData): Promise<EngineHandle> {
  const worker = new Worker(ENGINE_WORKER_URL, { workerData: data });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let exited = false;
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (reply: EngineReply) => {
      if ('type' in reply) {
        if (reply.type === 'ready') resolve();
        else reject(new Error(`load worker ${data.engine.worker} failed to start: ${reply.error}`));
        return;
      }
      const call = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.error !== undefined) call?.reject(new Error(reply.error));
      else call?.resolve(reply.result);
    });
    worker.on('error', (error) => {
      reject(error);
      for (const call of pending.values()) call.reject(error);
    });
    worker.on('exit', () => {
      exited = true;
      for (const call of pending.values()) call.reject(new Error(`load worker ${data.engine.worker} exited`));
    });
  });
  await ready;
  const call = <T>(method: Extract<EngineRequest, { id: number }>['method'], ...args: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(`load worker ${data.engine.worker} has exited`));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, method, args } satisfies EngineRequest);
    });
  return {
    historyPath: data.engine.historyPath,
    login: () => call('login'),
    setOrigin: (origin) => call('setOrigin', origin),
    setPhase: (phase) => void call('setPhase', phase).catch(() => {}),
    drive: (from, until) => call('drive', from, until),
    window: () => call('window'),
    reconcile: () => call('reconcile'),
    finish: () => call('finish'),
    close: async () => {
      if (exited) return;
      await call('close').catch(() => {});
      await worker.terminate();
    },
    abort: () => {
      if (!exited) worker.postMessage({ type: 'abort' } satisfies EngineRequest);
    },
  };
}

/** One strategy on a fresh topology: log in, warm up, measured load with faults, settle, reconciliation, checks. */
export async function runStrategy(scenario: Scenario, entryIndex: number, ctx: RunContext): Promise<StrategyRun> {
  const entry = scenario.strategies[entryIndex]!;
  const name = strategyName(entry);
  const overrides: Exclude<Scenario['strategies'][number], string> | Record<string, never> = typeof entry === 'string' ? {} : entry;
  const failurePolicy = overrides.failurePolicy ?? scenario.policy.failure;
  const wait = overrides.wait === null ? undefined : (overrides.wait ?? scenario.policy.wait);
  const strategyOptions: StrategyOptionsInput = {
    name,
    jwt: { ...scenario.jwt, ...overrides.jwt },
    failurePolicy,
    ...(wait && { wait }),
    // Fields left out take the strategy schema's own defaults.
    ...(overrides.blacklist && { blacklist: overrides.blacklist }),
    ...(overrides.whitelist && { whitelist: overrides.whitelist }),
  };
  const stage = (s: string) => ctx.onStage?.(overrides.label ?? name, s);

  stage(`starting ${scenario.topology.kind} topology`);
  const topology: StartedTopology = await startTopology(scenario.topology, ctx.signal);
  // An external deployment hands out a per-run prefix, the only keys it lets us touch (and removes at stop).
  if (topology.keyPrefix !== undefined) strategyOptions.keyPrefix = topology.keyPrefix;
  const keyPrefix = strategyOptions.keyPrefix ?? 'tb:';
  let redis: Redis | Cluster | undefined;
  const handles: EngineHandle[] = [];
  try {
    redis = topology.client(scenario.client);
    const strategy = await createStrategy(strategyOptions, { redis });
    const label = overrides.label ?? `${strategy.label}${wait ? ` + WAIT ${wait.replicas}` : ''}${failurePolicy === 'fail-open' ? ' (fail-open)' : ''}`;
    const workers = scenario.load.workers;
    const historyPath = (w: number) => join(ctx.outDir, `history-${ctx.index}-${name}${workers > 1 ? `-w${w}` : ''}.ndjson`);
    const share = (total: number, w: number) => Math.floor(total / workers) + (w < total % workers ? 1 : 0);
    // Users are split, not shared: each generator owns its users' sessions, so no token is in two places.
    const partScenario = (w: number): Scenario => ({ ...scenario, workload: { ...scenario.workload, users: Math.max(1, share(scenario.workload.users, w)), seed: scenario.workload.seed + w } });
    if (workers === 1) {
      const engine = new LoadEngine({ scenario, strategy, redis, historyPath: historyPath(0), worker: 0, rate: scenario.load.rate, concurrency: scenario.load.concurrency, userPrefix: 'user' });
      handles.push(localHandle(engine, historyPath(0), ctx.signal));
    } else {
      stage(`starting ${workers} load worker threads`);
      const started = await Promise.all(
        Array.from({ length: workers }, (_, w) =>
          workerHandle({
            target: topology.endpoints(),
            client: scenario.client,
            strategy: strategyOptions,
            scenario: partScenario(w),
            engine: { historyPath: historyPath(w), worker: w, rate: scenario.load.rate / workers, concurrency: Math.max(1, share(scenario.load.concurrency, w)), userPrefix: `w${w}-user` },
          }),
        ),
      );
      handles.push(...started);
    }
    const onAbort = () => handles.forEach((h) => h.abort());
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await new Orchestration(scenario, strategy, topology, handles, ctx, label).run({ failurePolicy, wait: wait ?? null, redis, keyPrefix });
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  } finally {
    await Promise.allSettled(handles.map((h) => h.close()));
    redis?.disconnect();
    stage('stopping topology');
    await topology.stop();
  }
}

/** Time zero, faults, phases, settling and checks: everything that is one per run, whatever the number of load generators. */
class Orchestration {
  readonly #scenario: Scenario;
  readonly #strategy: Strategy;
  readonly #topology: StartedTopology;
  readonly #handles: EngineHandle[];
  readonly #ctx: RunContext;
  readonly #label: string;
  #origin: Origin = { absoluteMs: performance.timeOrigin + performance.now(), wallMs: Date.now() };
  #originNs = process.hrtime.bigint();
  #phase: Phase = 'steady';
  readonly #faults: FaultRecord[] = [];
  #faultGeneration = 0;

  constructor(scenario: Scenario, strategy: Strategy, topology: StartedTopology, handles: EngineHandle[], ctx: RunContext, label: string) {
    this.#scenario = scenario;
    this.#strategy = strategy;
    this.#topology = topology;
    this.#handles = handles;
    this.#ctx = ctx;
    this.#label = label;
  }

  #now(): number {
    return performance.timeOrigin + performance.now() - this.#origin.absoluteMs;
  }

  #stage(s: string): void {
    this.#ctx.onStage?.(this.#label, s);
  }

  #setPhase(phase: Phase): void {
    this.#phase = phase;
    for (const h of this.#handles) h.setPhase(phase);
  }

  async run(extra: { failurePolicy: 'fail-closed' | 'fail-open'; wait: { replicas: number; timeoutMs: number } | null; redis: Redis | Cluster; keyPrefix: string }): Promise<StrategyRun> {
    const load = this.#scenario.load;
    const signal = this.#ctx.signal;
    this.#stage(`logging in ${this.#scenario.workload.users * this.#scenario.workload.sessionsPerUser} sessions`);
    await Promise.all(this.#handles.map((h) => h.login()));

    // Time zero is the planned start of the measured phase, for ops, faults and topology events
    // alike. Warm-up runs just before it, in one continuous load (no burst at the switch), and its
    // ops go to the history too: a token revoked in the warm-up and replayed later must be known.
    this.#origin = { absoluteMs: performance.timeOrigin + performance.now() + load.warmup, wallMs: Date.now() + load.warmup };
    this.#originNs = process.hrtime.bigint() + BigInt(Math.round(load.warmup * 1e6));
    await Promise.all(this.#handles.map((h) => h.setOrigin(this.#origin)));
    this.#stage(`warming up for ${load.warmup} ms, then measuring for ${load.duration} ms`);
    const timers = this.#scheduleFaults(load.warmup);
    const progress = setInterval(() => void this.#reportProgress(), 1000);
    progress.unref();
    let inFlightAtEnd = 0;
    try {
      const pending = await Promise.all(this.#handles.map((h) => h.drive(-load.warmup, load.duration)));
      inFlightAtEnd = pending.reduce((a, b) => a + b, 0);
    } finally {
      clearInterval(progress);
      for (const t of timers) clearTimeout(t);
    }
    const measuredMs = Math.max(0, Math.min(this.#now(), load.duration));

    // Settle: undo every fault, wait for the topology, then ask once more about every acknowledged revocation.
    this.#stage('healing faults and settling');
    try {
      await this.#topology.heal();
      await this.#topology.waitUntilReady(load.settle);
    } catch (error) {
      this.#faults.push({ action: 'settle', target: 'topology', atMs: this.#now(), error: (error as Error).message });
    }
    const finalPrimaryPorts = (await this.#topology.primaries().catch(() => [])).map((n) => n.port);
    let reconciled = 0;
    if (!signal.aborted) {
      this.#stage('final reconciliation of acknowledged revocations');
      reconciled = (await Promise.all(this.#handles.map((h) => h.reconcile()))).reduce((a, b) => a + b, 0);
    }
    const parts = await Promise.all(this.#handles.map((h) => h.finish()));
    this.#stage('measuring what the state costs in Redis');
    const cost = await measureRedisCost(extra.redis, extra.keyPrefix);
    const metrics = new Metrics(load.bucket);
    for (const part of parts) metrics.merge(part);

    const events: EventRecord[] = this.#topology.eventLog
      .snapshot()
      .filter((e) => e.ns >= this.#originNs)
      // A fault is dated when issued but logged when done, so the log is in observation order: sort by time.
      .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0))
      .map((e) => ({ atMs: Number(e.ns - this.#originNs) / 1e6, source: e.source, type: e.type, ...(e.node && { node: e.node }), ...(e.detail && { detail: e.detail }) }));
    const runInfo: RunInfo = {
      strategy: this.#strategy.name,
      guarantee: this.#strategy.guarantee,
      failurePolicy: extra.failurePolicy,
      faults: this.#faults,
      events,
      finalPrimaryPorts,
      durationMs: measuredMs,
    };
    this.#stage('checking the history');
    const historyFiles = this.#handles.map((h) => h.historyPath);
    const checks = await checkHistory(historyFiles, runInfo);

    const latency: StrategyRun['latency'] = {};
    for (const [f, h] of metrics.byOp) {
      const byPhase: Record<string, LatencySummary> = {};
      for (const [phase, hp] of metrics.byOpPhase.get(f) ?? []) byPhase[phase] = summarize(hp);
      latency[f] = { all: summarize(h), byPhase, histogram: encodeHistogram(h) };
    }
    return {
      strategy: this.#strategy.name,
      label: this.#label,
      engine: this.#strategy.engine,
      alg: this.#scenario.jwt.alg,
      guarantee: this.#strategy.guarantee,
      failurePolicy: extra.failurePolicy,
      wait: extra.wait,
      topology: {
        kind: this.#topology.kind,
        backend: this.#topology.backend,
        startupMs: Math.round(this.#topology.startupMs),
        nodes: this.#topology.nodes().map(({ id, role, port, shard }) => ({ id, role, port, ...(shard !== undefined && { shard }) })),
      },
      interrupted: signal.aborted,
      load: {
        mode: load.mode,
        targetRate: load.mode === 'open' ? load.rate : null,
        concurrency: load.mode === 'closed' ? load.concurrency : null,
        workers: this.#handles.length,
        warmupMs: load.warmup,
        durationMs: Math.round(measuredMs),
        completedOps: metrics.completed,
        achievedRate: measuredMs > 0 ? Math.round((metrics.completed / measuredMs) * 1000) : 0,
        inFlightAtEnd,
      },
      latency,
      slip: load.mode === 'open' ? summarize(metrics.slip) : null,
      redis: { roundTripsPerVerify: metrics.verifiesWithVerdict ? Math.round((metrics.redisOpsTotal / metrics.verifiesWithVerdict) * 1000) / 1000 : null, ...cost },
      timeline: metrics.timeline(),
      faults: this.#faults,
      events,
      checks,
      historyFiles,
      reconciledTokens: reconciled,
    };
  }

  #scheduleFaults(delayMs: number): NodeJS.Timeout[] {
    const timers: NodeJS.Timeout[] = [];
    for (const spec of this.#scenario.faults) {
      timers.push(setTimeout(() => void this.#inject(spec.action, spec.target, spec.for, timers), delayMs + spec.at));
    }
    return timers;
  }

  async #inject(action: FaultRecord['action'], target: string | undefined, forMs: number | undefined, timers: NodeJS.Timeout[]): Promise<void> {
    const record: FaultRecord = { action, target: target ?? 'default', atMs: this.#now() };
    this.#faults.push(record);
    const generation = ++this.#faultGeneration;
    this.#setPhase('fault');
    try {
      const injected = await this.#topology.inject({ action: action as never, ...(target && { target }), ...(forMs !== undefined && { forMs }) });
      record.node = injected.node;
      record.target = injected.target;
      if (forMs !== undefined && (action === 'pause' || action === 'kill')) {
        const heal = action === 'pause' ? 'resume' : 'restart';
        timers.push(
          setTimeout(() => {
            this.#topology
              .inject({ action: heal, target: injected.node })
              .then(() => {
                record.healedAtMs = this.#now();
              })
              .catch((error: Error) => {
                record.error = `${heal} failed: ${error.message}`;
              });
          }, forMs),
        );
      }
    } catch (error) {
      record.error = (error as Error).message;
    }
    // The fault phase lasts until the topology is ready again; then recovery until the next fault.
    this.#topology
      .waitUntilReady(this.#scenario.load.settle)
      .then(() => {
        if (generation === this.#faultGeneration && this.#phase === 'fault') this.#setPhase('recovery');
      })
      .catch(() => {});
  }

  async #reportProgress(): Promise<void> {
    if (!this.#ctx.onProgress) return;
    const windows = await Promise.all(this.#handles.map((h) => h.window().catch(() => undefined)));
    const present = windows.filter((w): w is MetricsSnapshot => w !== undefined);
    const last = this.#faults.at(-1);
    this.#ctx.onProgress({
      label: this.#label,
      elapsedMs: this.#now(),
      durationMs: this.#scenario.load.duration,
      opsPerSec: present.reduce((a, w) => a + w.ops, 0),
      // The worst thread's p99 bounds the merged p99 from above: enough for a progress line.
      p99Ms: Math.max(0, ...present.map((w) => w.p99Ms)),
      errors: present.reduce((a, w) => a + w.errors, 0),
      degraded: present.reduce((a, w) => a + w.degraded, 0),
      phase: this.#now() < 0 ? 'warmup' : this.#phase,
      ...(last && { lastFault: `${last.action} ${last.node ?? last.target} @${(last.atMs / 1000).toFixed(1)}s` }),
    });
  }
}

/** The histories of several generators, merged in completion order (each file already is). */
async function* mergeHistories(paths: string[]): AsyncGenerator<Op> {
  const iterators = paths.map((p) => readHistory(p)[Symbol.asyncIterator]());
  const heads = await Promise.all(iterators.map((it) => it.next()));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (!head.done && (best < 0 || head.value.completeMs < (heads[best]!.value as Op).completeMs)) best = i;
    }
    if (best < 0) return;
    yield heads[best]!.value as Op;
    heads[best] = await iterators[best]!.next();
  }
}

/** Checks the history files of every load generator, merged in completion order, streaming from disk. */
export function checkHistory(paths: string[], run: RunInfo): Promise<Record<string, CheckResult>> {
  return runCheckersOverStream(mergeHistories(paths), run);
}
