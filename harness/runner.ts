import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { createStrategy } from '../strategies/create.ts';
import type { Strategy } from '../strategies/types.ts';
import { startTopology } from '../topologies/topology.ts';
import type { StartedTopology } from '../topologies/types.ts';
import { CHECKERS } from './checkers/index.ts';
import { HistoryWriter, readHistory } from './history-file.ts';
import type { CheckResult, EventRecord, FaultRecord, Op, OpType, Phase, RunInfo } from './history.ts';
import { runClosedLoop, runOpenLoop } from './load.ts';
import { encodeHistogram, Metrics, summarize, type LatencySummary, type TimelineBucket } from './metrics.ts';
import { strategyName, type Scenario } from './scenario.ts';
import { Workload, type PlannedOp, type Session } from './workload.ts';

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
  redis: { roundTripsPerVerify: number | null };
  timeline: TimelineBucket[];
  faults: FaultRecord[];
  events: EventRecord[];
  checks: Record<string, CheckResult>;
  historyFile: string;
  reconciledTokens: number;
}

export interface RunContext {
  outDir: string;
  index: number;
  signal: AbortSignal;
  /** Called about once a second during the measured phase. */
  onProgress?: (p: { label: string; elapsedMs: number; durationMs: number; opsPerSec: number; p99Ms: number; errors: number; degraded: number; phase: Phase; lastFault?: string }) => void;
  onStage?: (label: string, stage: string) => void;
}

const RECONCILE_MAX = 50_000;
const WARMUP_LOGIN_CONCURRENCY = 64;

function opTypeOfAck(ack: { ok: boolean; indeterminate?: boolean }): OpType {
  return ack.ok ? 'ok' : ack.indeterminate ? 'info' : 'fail';
}

/** One strategy on a fresh topology: warm-up, measured load with faults, settle, reconciliation, checks. */
export async function runStrategy(scenario: Scenario, entryIndex: number, ctx: RunContext): Promise<StrategyRun> {
  const entry = scenario.strategies[entryIndex]!;
  const name = strategyName(entry);
  const overrides: Exclude<Scenario['strategies'][number], string> | Record<string, never> = typeof entry === 'string' ? {} : entry;
  const failurePolicy = overrides.failurePolicy ?? scenario.policy.failure;
  const wait = overrides.wait === null ? undefined : (overrides.wait ?? scenario.policy.wait);
  const stage = (s: string) => ctx.onStage?.(overrides.label ?? name, s);

  stage(`starting ${scenario.topology.kind} topology`);
  const topology: StartedTopology = await startTopology(scenario.topology, ctx.signal);
  let redis: Redis | Cluster | undefined;
  const historyPath = join(ctx.outDir, `history-${ctx.index}-${name}.ndjson`);
  const history = new HistoryWriter(historyPath);
  try {
    redis = topology.client(scenario.client);
    const strategy = await createStrategy(
      {
        name,
        jwt: { ...scenario.jwt, ...overrides.jwt },
        failurePolicy,
        ...(wait && { wait }),
        ...(overrides.blacklist && { blacklist: { layout: 'key-per-token', bucketMs: 60_000, groups: 64, ...overrides.blacklist } }),
        ...(overrides.whitelist && { whitelist: { maxSessions: 0, ...overrides.whitelist } }),
      },
      { redis },
    );
    const label = overrides.label ?? strategy.label;
    const runner = new MeasuredRun(scenario, strategy, topology, redis, history, ctx, label);
    return await runner.run({ failurePolicy, wait: wait ?? null, historyFile: historyPath });
  } finally {
    await history.close().catch(() => {});
    redis?.disconnect();
    stage('stopping topology');
    await topology.stop();
  }
}

class MeasuredRun {
  readonly #scenario: Scenario;
  readonly #strategy: Strategy;
  readonly #topology: StartedTopology;
  readonly #redis: Redis | Cluster;
  readonly #history: HistoryWriter;
  readonly #ctx: RunContext;
  readonly #label: string;
  readonly #workload: Workload;
  readonly #metrics: Metrics;
  #originPerf = 0;
  #originNs = 0n;
  #originWall = 0;
  #phase: Phase = 'warmup';
  #nextId = 0;
  readonly #faults: FaultRecord[] = [];
  #faultGeneration = 0;
  /** Sessions whose revocation was acknowledged: re-verified at the final reconciliation. */
  readonly #acked: Session[] = [];

  constructor(scenario: Scenario, strategy: Strategy, topology: StartedTopology, redis: Redis | Cluster, history: HistoryWriter, ctx: RunContext, label: string) {
    this.#scenario = scenario;
    this.#strategy = strategy;
    this.#topology = topology;
    this.#redis = redis;
    this.#history = history;
    this.#ctx = ctx;
    this.#label = label;
    this.#workload = new Workload(scenario.workload, { hasRefresh: typeof strategy.refresh === 'function' });
    this.#metrics = new Metrics(scenario.load.bucket);
  }

  #now(): number {
    return performance.now() - this.#originPerf;
  }

  #runMs(unixMs: number): number {
    return unixMs - this.#originWall;
  }

  #stage(s: string): void {
    this.#ctx.onStage?.(this.#label, s);
  }

  async run(extra: { failurePolicy: 'fail-closed' | 'fail-open'; wait: { replicas: number; timeoutMs: number } | null; historyFile: string }): Promise<StrategyRun> {
    const load = this.#scenario.load;
    const signal = this.#ctx.signal;
    this.#setOrigin();
    this.#stage(`logging in ${this.#workload.users.length} users`);
    await this.#initialLogins(signal);

    // Time zero is the planned start of the measured phase, for ops, faults and topology events
    // alike. Warm-up runs just before it, in one continuous load (no burst at the switch), and its
    // ops go to the history too: a token revoked in the warm-up and replayed later must be known.
    this.#setOrigin(load.warmup);
    this.#phase = 'steady';
    this.#stage(`warming up for ${load.warmup} ms, then measuring for ${load.duration} ms`);
    const timers = this.#scheduleFaults(load.warmup);
    const progress = setInterval(() => this.#reportProgress(), 1000);
    progress.unref();
    let inFlightAtEnd = 0;
    try {
      inFlightAtEnd = await this.#drive(-load.warmup, load.duration, signal);
    } finally {
      clearInterval(progress);
      for (const t of timers) clearTimeout(t);
    }
    const measuredMs = Math.min(this.#now(), load.duration);
    const completedOps = this.#metrics.completed;

    // Settle: undo every fault, wait for the topology, then ask once more about every acknowledged revocation.
    let reconciled = 0;
    this.#stage('healing faults and settling');
    try {
      await this.#topology.heal();
      await this.#topology.waitUntilReady(load.settle);
    } catch (error) {
      this.#faults.push({ action: 'settle', target: 'topology', atMs: this.#now(), error: (error as Error).message });
    }
    const finalPrimaryPorts = (await this.#topology.primaries().catch(() => [])).map((n) => n.port);
    if (!signal.aborted) {
      this.#stage(`final reconciliation of ${Math.min(this.#acked.length, RECONCILE_MAX)} acknowledged revocations`);
      reconciled = await this.#reconcile();
    }
    await this.#history.close();

    const events: EventRecord[] = this.#topology.eventLog
      .snapshot()
      .filter((e) => e.ns >= this.#originNs)
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
    const checks = await checkHistory(extra.historyFile, runInfo);

    const latency: StrategyRun['latency'] = {};
    for (const [f, h] of this.#metrics.byOp) {
      const byPhase: Record<string, LatencySummary> = {};
      for (const [key, hp] of this.#metrics.byOpPhase) if (key.startsWith(`${f}:`)) byPhase[key.slice(f.length + 1)] = summarize(hp);
      latency[f] = { all: summarize(h), byPhase, histogram: encodeHistogram(h) };
    }
    const m = this.#metrics;
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
        warmupMs: load.warmup,
        durationMs: Math.round(measuredMs),
        completedOps,
        achievedRate: measuredMs > 0 ? Math.round((completedOps / measuredMs) * 1000) : 0,
        inFlightAtEnd,
      },
      latency,
      slip: load.mode === 'open' ? summarize(m.slip) : null,
      redis: { roundTripsPerVerify: m.verifiesWithVerdict ? Math.round((m.redisOpsTotal / m.verifiesWithVerdict) * 1000) / 1000 : null },
      timeline: m.timeline(),
      faults: this.#faults,
      events,
      checks,
      historyFile: extra.historyFile,
      reconciledTokens: reconciled,
    };
  }

  /** Sets time zero `inMs` from now. */
  #setOrigin(inMs = 0): void {
    this.#originPerf = performance.now() + inMs;
    this.#originNs = process.hrtime.bigint() + BigInt(Math.round(inMs * 1e6));
    this.#originWall = Date.now() + inMs;
  }

  async #initialLogins(signal: AbortSignal): Promise<void> {
    const logins = this.#workload.initialLogins();
    let next = 0;
    const worker = async () => {
      while (next < logins.length && !signal.aborted) {
        const subject = logins[next++]!;
        const issued = await this.#strategy.issue(subject);
        if (issued.ok) this.#workload.addSession(this.#session(issued));
      }
    };
    await Promise.all(Array.from({ length: WARMUP_LOGIN_CONCURRENCY }, worker));
  }

  #session(issued: { subject: string; accessToken: string; refreshToken?: string; jti: string; issuedAtMs: number; accessExpiresAtMs: number }, family?: string): Session {
    const fam = family ?? (issued.refreshToken ? familyOf(issued.refreshToken) : undefined);
    return {
      subject: issued.subject,
      accessToken: issued.accessToken,
      ...(issued.refreshToken !== undefined && { refreshToken: issued.refreshToken }),
      jti: issued.jti,
      ...(fam !== undefined && { family: fam }),
      issuedMs: issued.issuedAtMs,
      expiresMs: issued.accessExpiresAtMs,
    };
  }

  /** Runs the load from `fromMs` to `untilMs` of the current origin; returns the ops that were still in flight at the end. */
  async #drive(fromMs: number, untilMs: number, signal: AbortSignal): Promise<number> {
    if (untilMs <= 0) return 0;
    const load = this.#scenario.load;
    const hooks = {
      now: () => this.#now(),
      signal,
      launch: (intendedMs: number) => this.#execute(this.#workload.next(), intendedMs, intendedMs < 0 ? 'warmup' : this.#phase),
    };
    const inFlight =
      load.mode === 'open'
        ? await runOpenLoop(load.rate, fromMs, untilMs, hooks, (slip, intendedMs) => intendedMs >= 0 && this.#metrics.recordSlip(slip))
        : await runClosedLoop(load.concurrency, untilMs, hooks);
    const pending = inFlight.size;
    await Promise.allSettled([...inFlight]);
    return pending;
  }

  async #execute(plan: PlannedOp, intendedMs: number, phase: Phase): Promise<void> {
    const invokeMs = this.#now();
    const base = { id: this.#nextId++, f: plan.f, worker: 0, phase, subject: plan.subject, intendedMs, invokeMs };
    let op: Op;
    let redisOps: number | undefined;
    try {
      const result = await this.#perform(plan, invokeMs);
      redisOps = result.redisOps;
      op = { ...base, ...result.fields, completeMs: this.#now() };
    } catch (error) {
      op = { ...base, completeMs: this.#now(), type: 'info', error: (error as Error).message };
    }
    if (phase !== 'warmup') this.#metrics.record(op, redisOps);
    this.#history.append(op);
  }

  #tokenFields(session: Session): Partial<Op> {
    return {
      jti: session.jti,
      ...(session.family !== undefined && { family: session.family }),
      tokenIssuedMs: this.#runMs(session.issuedMs),
      tokenExpiresMs: this.#runMs(session.expiresMs),
    };
  }

  #ackedByPort(): number | undefined {
    if ((this.#redis as Cluster).isCluster) return undefined;
    return (this.#redis as unknown as { stream?: { remotePort?: number } }).stream?.remotePort;
  }

  async #perform(plan: PlannedOp, invokeMs: number): Promise<{ fields: Omit<Op, 'id' | 'f' | 'worker' | 'phase' | 'subject' | 'intendedMs' | 'invokeMs' | 'completeMs'>; redisOps?: number }> {
    const s = this.#strategy;
    switch (plan.f) {
      case 'verify': {
        const session = plan.session!;
        const v = await s.verify(session.accessToken);
        return {
          redisOps: v.redisOps,
          fields: {
            type: 'ok',
            accepted: v.ok,
            ...(!v.ok && { code: v.code }),
            ...(v.degraded && { degraded: true }),
            ...(plan.replay && { replay: true }),
            ...this.#tokenFields(session),
          },
        };
      }
      case 'issue': {
        const r = await s.issue(plan.subject);
        if (!r.ok) return { redisOps: r.redisOps, fields: { type: opTypeOfAck(r), code: r.code, error: r.error } };
        const session = this.#session(r);
        this.#workload.addSession(session);
        return { redisOps: r.redisOps, fields: { type: 'ok', ...this.#tokenFields(session) } };
      }
      case 'revoke': {
        const session = plan.session!;
        const ack = await s.revoke(session.refreshToken ?? session.accessToken);
        const type = opTypeOfAck(ack);
        // The user logged out either way; an indeterminate logout may still be replayed by an attacker.
        if (type !== 'fail') this.#workload.revoked(session);
        if (type === 'ok') this.#acked.push(session);
        const port = type === 'ok' ? this.#ackedByPort() : undefined;
        return {
          redisOps: ack.redisOps,
          fields: {
            type,
            ...this.#tokenFields(session),
            ...(!ack.ok && { code: ack.code, error: ack.error }),
            ...(ack.ok && ack.replicasRequested !== undefined && { replicasAcked: ack.replicasAcked ?? 0, replicasRequested: ack.replicasRequested }),
            ...(port !== undefined && { ackedByPort: port }),
          },
        };
      }
      case 'revokeAll': {
        const invokeUnix = this.#originWall + invokeMs;
        const ack = await s.revokeAll(plan.subject);
        const type = opTypeOfAck(ack);
        if (type !== 'fail') {
          const gone = this.#workload.revokedAll(plan.subject, invokeUnix);
          if (type === 'ok') this.#acked.push(...gone);
        }
        const port = type === 'ok' ? this.#ackedByPort() : undefined;
        return {
          redisOps: ack.redisOps,
          fields: {
            type,
            ...(!ack.ok && { code: ack.code, error: ack.error }),
            ...(ack.ok && ack.replicasRequested !== undefined && { replicasAcked: ack.replicasAcked ?? 0, replicasRequested: ack.replicasRequested }),
            ...(port !== undefined && { ackedByPort: port }),
          },
        };
      }
      case 'refresh': {
        const session = plan.session!;
        const r = await s.refresh!(session.refreshToken!);
        if (r.ok) {
          const fresh = this.#session(r, session.family);
          this.#workload.replaceSession(session, fresh);
          return { redisOps: r.redisOps, fields: { type: 'ok', ...this.#tokenFields(fresh) } };
        }
        if (r.code === 'ERR_REVOKED' || r.code === 'ERR_REFRESH_REUSED') this.#workload.revoked(session);
        return { redisOps: r.redisOps, fields: { type: r.indeterminate ? 'info' : 'fail', code: r.code, ...this.#tokenFields(session) } };
      }
    }
  }

  #scheduleFaults(delayMs: number): NodeJS.Timeout[] {
    const timers: NodeJS.Timeout[] = [];
    for (const spec of this.#scenario.faults) {
      timers.push(
        setTimeout(() => {
          void this.#inject(spec.action, spec.target, spec.for, timers);
        }, delayMs + spec.at),
      );
    }
    return timers;
  }

  async #inject(action: FaultRecord['action'], target: string | undefined, forMs: number | undefined, timers: NodeJS.Timeout[]): Promise<void> {
    const record: FaultRecord = { action, target: target ?? 'default', atMs: this.#now() };
    this.#faults.push(record);
    const generation = ++this.#faultGeneration;
    this.#phase = 'fault';
    try {
      const injected = await this.#topology.inject({ action: action as never, ...(target && { target }) });
      record.node = injected.node;
      record.target = injected.target;
      if (forMs !== undefined && (action === 'pause' || action === 'kill')) {
        timers.push(
          setTimeout(() => {
            const heal = action === 'pause' ? 'resume' : 'restart';
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
        if (generation === this.#faultGeneration && this.#phase === 'fault') this.#phase = 'recovery';
      })
      .catch(() => {});
  }

  async #reconcile(): Promise<number> {
    const now = Date.now();
    const sessions = this.#acked.filter((s) => s.expiresMs > now).slice(-RECONCILE_MAX);
    this.#phase = 'final';
    let next = 0;
    const worker = async () => {
      while (next < sessions.length) {
        const session = sessions[next++]!;
        const at = this.#now();
        await this.#execute({ f: 'verify', subject: session.subject, session, replay: true }, at, 'final');
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    return sessions.length;
  }

  #reportProgress(): void {
    const w = this.#metrics.takeWindow();
    const last = this.#faults.at(-1);
    this.#ctx.onProgress?.({
      label: this.#label,
      elapsedMs: this.#now(),
      durationMs: this.#scenario.load.duration,
      opsPerSec: w.ops,
      p99Ms: w.p99Ms,
      errors: w.errors,
      degraded: w.degraded,
      phase: this.#now() < 0 ? 'warmup' : this.#phase,
      ...(last && { lastFault: `${last.action} ${last.node ?? last.target} @${(last.atMs / 1000).toFixed(1)}s` }),
    });
  }
}

/** Refresh tokens carry their family in the payload; read it without verifying (we issued it). */
function familyOf(refreshToken: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(refreshToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { fam?: string };
    return payload.fam;
  } catch {
    return undefined;
  }
}

/** Folds every checker over the history file, streaming: memory stays bounded however long the run. */
export async function checkHistory(path: string, run: RunInfo): Promise<Record<string, CheckResult>> {
  const checkers = CHECKERS.map((make) => make());
  for await (const op of readHistory(path)) for (const c of checkers) c.observe(op);
  return Object.fromEntries(checkers.map((c) => [c.name, c.result(run)]));
}
