// The module's binding, not the global: `globalThis.performance` is an accessor, a getter call on
// every read (~25 ns here, on each of an op's clock reads).
import { performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import type { Cluster, Redis } from 'ioredis';
import type { LocalState, Strategy } from '../strategies/types.ts';
import { createHelperThreadIds, type HelperThreads, helperThreadSlot, helperThreadsOf, publishEnded, publishOsThreadId } from './helper-threads.ts';
import type { Op, OpType, Phase } from './history.ts';
import { ThreadedHistoryWriter } from './history-file.ts';
import { type OpenLoopScheduler, runClosedLoop, runOpenLoop } from './load.ts';
import { Metrics, type MetricsSnapshot, type SerializedMetrics } from './metrics.ts';
import type { ProbeRequest } from './probe.ts';
import type { Scenario } from './scenario.ts';
import type { OnHelperRunning } from './timer-thread.ts';
import { type PlannedOp, type Session, Workload } from './workload.ts';

/** Kept for the final reconciliation: the most recent acknowledged revocations, and all of those made near faults. */
const RECONCILE_RECENT = 50_000;
const RECONCILE_NEAR_FAULT = 100_000;
const NEAR_FAULT_LOOKBACK_MS = 2_000;
const LOGIN_CONCURRENCY = 64;

/** Shared time zero: an absolute monotonic instant (performance.timeOrigin-based, so it holds across worker threads) and its wall-clock twin. */
export interface Origin {
  absoluteMs: number;
  wallMs: number;
}

/** What the orchestrator asks of one load generator. LoadEngine implements it; a worker thread serves it. */
export interface EngineApi {
  login(): Promise<void>;
  setOrigin(origin: Origin): void;
  setPhase(phase: Phase): void;
  /** Drives load from `fromMs` to `untilMs` (run ms); returns how many ops were still in flight at the end. */
  drive(fromMs: number, untilMs: number): Promise<number>;
  window(): MetricsSnapshot;
  reconcile(): Promise<number>;
  finish(): Promise<SerializedMetrics>;
  /** The strategy's own state in this generator's memory (replicated / cached denylists); null: it keeps none. */
  localState(): LocalState | null;
  close(): Promise<void>;
}

export interface EngineOptions {
  scenario: Scenario;
  strategy: Strategy;
  redis: Redis | Cluster;
  historyPath: string;
  worker: number;
  /** This engine's share of the load: open-loop rate, closed-loop concurrency. */
  rate: number;
  concurrency: number;
  /** Users are partitioned between engines: `w<worker>-user-<n>`. */
  userPrefix: string;
  /** Aborted: login and the load stop at once (Ctrl-C). */
  signal: AbortSignal;
  /** One per verifier instance (load.verifiers): each acknowledged revoke is handed to all of them, thread to thread. */
  probePorts?: readonly MessagePort[];
  /** How the open loop waits for due times; the default unless set (for measurement: bench/load-engine.ts). */
  scheduler?: OpenLoopScheduler;
  /** Where its helper threads publish their OS ids (helper-threads.ts): given by a worker's handle, which reads them; one of its own by default. */
  helperThreadIds?: SharedArrayBuffer;
}

function opTypeOfAck(ack: { ok: boolean; indeterminate?: boolean }): OpType {
  return ack.ok ? 'ok' : ack.indeterminate ? 'info' : 'fail';
}

/**
 * The client side of a run for one thread: chooses operations, sends them at the scheduled time,
 * records each in the history and the histograms, and keeps what the final reconciliation needs.
 * Faults, phases and checks belong to the orchestrator (runner.ts), which may drive several engines.
 */
export class LoadEngine implements EngineApi {
  readonly #o: EngineOptions;
  readonly #workload: Workload;
  readonly metrics: Metrics;
  readonly #history: ThreadedHistoryWriter;
  readonly #helperThreadIds: SharedArrayBuffer;
  #origin: Origin = { absoluteMs: performance.timeOrigin + performance.now(), wallMs: Date.now() };
  /** The origin on this thread's performance.now() clock: reading timeOrigin per op allocated. */
  #originPerfMs = this.#origin.absoluteMs - performance.timeOrigin;
  phase: Phase = 'steady';
  #nextId = 0;
  readonly #recent: Session[] = [];
  #recentNext = 0;
  readonly #nearFault: Session[] = [];
  /** Acked revocations of the last few seconds, promoted to #nearFault when a fault starts. */
  #lookback: { at: number; session: Session }[] = [];
  /** Entries before this index have aged out. Array.shift is O(n) past ~16k elements (40 us a call at 20k). */
  #lookbackStart = 0;
  /** Ops started and not yet recorded; counted here rather than by the load loop (see LoadHooks.launch). */
  #inFlight = 0;
  #drained: (() => void) | undefined;

  constructor(options: EngineOptions) {
    this.#o = options;
    this.#workload = new Workload(options.scenario.workload, { hasRefresh: typeof options.strategy.refresh === 'function', userPrefix: options.userPrefix });
    this.metrics = new Metrics(options.scenario.load.bucket);
    this.#helperThreadIds = options.helperThreadIds ?? createHelperThreadIds();
    this.#history = new ThreadedHistoryWriter(options.historyPath, undefined, helperThreadSlot(this.#helperThreadIds, 'history writer'));
  }

  /** Its helper threads running now (the open loop's timer thread, the history writer), for the footprint. */
  helperThreads(): HelperThreads {
    return helperThreadsOf(this.#helperThreadIds);
  }

  /** How often appending to the history waited for its writer thread: the writer, not this thread, was the bound then. */
  get historyWaits(): number {
    return this.#history.waits;
  }

  setOrigin(origin: Origin): void {
    this.#origin = origin;
    this.#originPerfMs = origin.absoluteMs - performance.timeOrigin;
  }

  setPhase(phase: Phase): void {
    if (phase === 'fault' && this.phase !== 'fault') {
      const since = this.now() - NEAR_FAULT_LOOKBACK_MS;
      for (let i = this.#lookbackStart; i < this.#lookback.length; i++) {
        const { at, session } = this.#lookback[i]!;
        if (at >= since) this.#keepNearFault(session);
      }
    }
    this.phase = phase;
  }

  now(): number {
    return performance.now() - this.#originPerfMs;
  }

  #runMs(unixMs: number): number {
    return unixMs - this.#origin.wallMs;
  }

  get userCount(): number {
    return this.#workload.users.length;
  }

  /** Also waits for the history writer thread: the load starts with its history being written. */
  async login(): Promise<void> {
    await this.#history.started;
    const signal = this.#o.signal;
    const logins = this.#workload.initialLogins();
    let next = 0;
    const worker = async () => {
      while (next < logins.length && !signal.aborted) {
        const issued = await this.#o.strategy.issue(logins[next++]!);
        if (issued.ok) this.#workload.addSession(this.#session(issued));
      }
    };
    await Promise.all(Array.from({ length: LOGIN_CONCURRENCY }, worker));
  }

  /** Ops due before 0 are warm-up. */
  async drive(fromMs: number, untilMs: number): Promise<number> {
    const load = this.#o.scenario.load;
    const hooks = {
      now: () => this.now(),
      signal: this.#o.signal,
      launch: (intendedMs: number, launchedMs: number) => this.#execute(this.#workload.next(), intendedMs, launchedMs, intendedMs < 0 ? 'warmup' : this.phase),
      onTimerThread: ((tid, ended) => {
        const slot = helperThreadSlot(this.#helperThreadIds, 'timer thread');
        if (ended) publishEnded(slot, ended.tid, ended.finalTicks);
        else publishOsThreadId(slot, tid);
      }) satisfies OnHelperRunning,
    };
    if (load.mode === 'open')
      await runOpenLoop(this.#o.rate, fromMs, untilMs, hooks, (slip, intendedMs) => intendedMs >= 0 && this.metrics.recordSlip(slip), this.#o.scheduler);
    else await runClosedLoop(this.#o.concurrency, untilMs, hooks);
    const pending = this.#inFlight;
    if (pending > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    return pending;
  }

  window(): MetricsSnapshot {
    return this.metrics.takeWindow();
  }

  /** After the faults healed: every kept acknowledged revocation, verified once more. */
  async reconcile(): Promise<number> {
    const now = Date.now();
    const unique = new Set([...this.#nearFault, ...this.#recent]);
    const sessions = [...unique].filter((s) => s.expiresMs > now);
    this.phase = 'final';
    let next = 0;
    const worker = async () => {
      while (next < sessions.length) {
        const session = sessions[next++]!;
        const now = this.now();
        await this.#execute({ f: 'verify', subject: session.subject, session, replay: true }, now, now, 'final');
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    return sessions.length;
  }

  async finish(): Promise<SerializedMetrics> {
    await this.#history.close();
    this.#closeProbePorts();
    return this.metrics.serialize();
  }

  localState(): LocalState | null {
    return this.#o.strategy.localState?.() ?? null;
  }

  async close(): Promise<void> {
    await this.#history.close();
    this.#closeProbePorts();
  }

  #closeProbePorts(): void {
    for (const port of this.#o.probePorts ?? []) port.close();
  }

  #session(
    issued: { subject: string; accessToken: string; refreshToken?: string; jti: string; issuedAtMs: number; accessExpiresAtMs: number },
    family?: string,
  ): Session {
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

  #keepAcked(session: Session): void {
    if (this.#recent.length < RECONCILE_RECENT) this.#recent.push(session);
    else {
      this.#recent[this.#recentNext] = session;
      this.#recentNext = (this.#recentNext + 1) % RECONCILE_RECENT;
    }
    if (this.phase === 'fault' || this.phase === 'recovery') this.#keepNearFault(session);
    const now = this.now();
    this.#lookback.push({ at: now, session });
    while (this.#lookbackStart < this.#lookback.length && this.#lookback[this.#lookbackStart]!.at < now - NEAR_FAULT_LOOKBACK_MS) this.#lookbackStart++;
    // Drop the aged-out half in one copy: amortised O(1) per revocation.
    if (this.#lookbackStart > 1024 && this.#lookbackStart * 2 > this.#lookback.length) {
      this.#lookback = this.#lookback.slice(this.#lookbackStart);
      this.#lookbackStart = 0;
    }
  }

  #keepNearFault(session: Session): void {
    if (this.#nearFault.length < RECONCILE_NEAR_FAULT) this.#nearFault.push(session);
  }

  #opEnded(): void {
    if (--this.#inFlight === 0 && this.#drained) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  }

  /**
   * Not async itself: an extra promise per op is garbage the GC has to collect at 50k ops/s.
   * `invokeMs`: the load loop's clock reading just before the launch, one read per op fewer.
   */
  #execute(plan: PlannedOp, intendedMs: number, invokeMs: number, phase: Phase): Promise<void> {
    this.#inFlight++;
    return plan.f === 'verify' ? this.#executeVerify(plan, intendedMs, invokeMs, phase) : this.#executeWrite(plan, intendedMs, invokeMs, phase);
  }

  /** Writes are filled into one op object, as verifies are: object spreads here left garbage that outlived young-generation GCs. */
  async #executeWrite(plan: PlannedOp, intendedMs: number, invokeMs: number, phase: Phase): Promise<void> {
    const op: Op = { id: this.#nextId++, f: plan.f, worker: this.#o.worker, phase, subject: plan.subject, intendedMs, invokeMs, completeMs: 0, type: 'ok' };
    let redisOps: number | undefined;
    try {
      redisOps = await this.#perform(plan, invokeMs, op);
      op.completeMs = this.now();
      if (plan.f === 'revoke' && op.type === 'ok' && this.#o.probePorts) this.#handToVerifiers(plan.session!, op);
    } catch (error) {
      this.#threw(op, error);
    }
    this.#record(op, redisOps);
  }

  /** Straight to each verifier's thread, not through the main one: the relay should cost a message, not a round trip. */
  #handToVerifiers(session: Session, op: Op): void {
    const request: ProbeRequest = {
      token: session.accessToken,
      jti: session.jti,
      subject: session.subject,
      tokenIssuedMs: op.tokenIssuedMs!,
      tokenExpiresMs: op.tokenExpiresMs!,
      ackedAtMs: op.completeMs,
    };
    for (const port of this.#o.probePorts!) port.postMessage(request);
  }

  /** Verify is most of the load: its op is one object literal with the token's fields in it. */
  async #executeVerify(plan: PlannedOp, intendedMs: number, invokeMs: number, phase: Phase): Promise<void> {
    const session = plan.session!;
    const op: Op = {
      id: this.#nextId++,
      f: 'verify',
      worker: this.#o.worker,
      phase,
      subject: plan.subject,
      jti: session.jti,
      tokenIssuedMs: this.#runMs(session.issuedMs),
      tokenExpiresMs: this.#runMs(session.expiresMs),
      intendedMs,
      invokeMs,
      completeMs: 0,
      type: 'ok',
    };
    if (session.family !== undefined) op.family = session.family;
    if (plan.replay) op.replay = true;
    let redisOps: number | undefined;
    try {
      const v = await this.#o.strategy.verify(session.accessToken);
      op.completeMs = this.now();
      op.accepted = v.ok;
      if (!v.ok) op.code = v.code;
      if (v.degraded) op.degraded = true;
      redisOps = v.redisOps;
    } catch (error) {
      this.#threw(op, error);
    }
    this.#record(op, redisOps);
  }

  /** An op whose call threw: the outcome is unknown (Jepsen's info). */
  #threw(op: Op, error: unknown): void {
    op.completeMs = this.now();
    op.type = 'info';
    op.error = (error as Error).message;
  }

  /** Every op ends here: into the histograms (measured phases only) and the history, and out of the in-flight count. */
  #record(op: Op, redisOps: number | undefined): void {
    try {
      // Unknown, not 0, when the strategy's Redis traffic is not ours to count.
      if (op.phase !== 'warmup' && op.phase !== 'final') this.metrics.record(op, this.#o.strategy.redisVisible === false ? undefined : redisOps);
      this.#history.append(op);
    } finally {
      this.#opEnded();
    }
  }

  #setToken(op: Op, session: Session): void {
    op.jti = session.jti;
    if (session.family !== undefined) op.family = session.family;
    op.tokenIssuedMs = this.#runMs(session.issuedMs);
    op.tokenExpiresMs = this.#runMs(session.expiresMs);
  }

  #setAck(op: Op, ack: { ok: boolean; indeterminate?: boolean; code?: string; error?: string; replicasAcked?: number; replicasRequested?: number }): void {
    op.type = opTypeOfAck(ack);
    if (!ack.ok) {
      op.code = ack.code;
      op.error = ack.error;
    }
    if (ack.replicasRequested !== undefined) {
      op.replicasAcked = ack.replicasAcked ?? 0;
      op.replicasRequested = ack.replicasRequested;
    }
    // A service's own Redis client acknowledged it, not ours: the port would name the wrong node.
    if (op.type === 'ok' && this.#o.strategy.redisVisible !== false) {
      const port = this.#ackedByPort();
      if (port !== undefined) op.ackedByPort = port;
    }
  }

  /** Which node acknowledged a write: the port the client is connected to (not known for Cluster). */
  #ackedByPort(): number | undefined {
    if ((this.#o.redis as Cluster).isCluster) return undefined;
    return (this.#o.redis as unknown as { stream?: { remotePort?: number } }).stream?.remotePort;
  }

  /** Performs a write and records its outcome in `op`; returns the Redis round trips it reported. */
  async #perform(plan: PlannedOp, invokeMs: number, op: Op): Promise<number | undefined> {
    const s = this.#o.strategy;
    switch (plan.f) {
      case 'verify':
        throw new Error('verify ops take #executeVerify');
      case 'issue': {
        const r = await s.issue(plan.subject);
        if (!r.ok) {
          op.type = opTypeOfAck(r);
          op.code = r.code;
          op.error = r.error;
          return r.redisOps;
        }
        const session = this.#session(r);
        this.#workload.addSession(session);
        this.#setToken(op, session);
        return r.redisOps;
      }
      case 'revoke': {
        const session = plan.session!;
        const ack = await s.revoke(session.refreshToken ?? session.accessToken);
        this.#setToken(op, session);
        this.#setAck(op, ack);
        // The user logged out either way; an indeterminate logout may still be replayed by an attacker.
        if (op.type !== 'fail') this.#workload.revoked(session);
        if (op.type === 'ok') this.#keepAcked(session);
        return ack.redisOps;
      }
      case 'revokeAll': {
        const invokeUnix = this.#origin.wallMs + invokeMs;
        const ack = await s.revokeAll(plan.subject);
        this.#setAck(op, ack);
        if (op.type !== 'fail') {
          const gone = this.#workload.revokedAll(plan.subject, invokeUnix);
          if (op.type === 'ok') for (const session of gone) this.#keepAcked(session);
        }
        return ack.redisOps;
      }
      case 'refresh': {
        const session = plan.session!;
        const r = await s.refresh!(session.refreshToken!);
        if (r.ok) {
          const fresh = this.#session(r, session.family);
          this.#workload.replaceSession(session, fresh);
          this.#setToken(op, fresh);
          return r.redisOps;
        }
        if (r.code === 'ERR_REVOKED' || r.code === 'ERR_REFRESH_REUSED') this.#workload.revoked(session);
        op.type = r.indeterminate ? 'info' : 'fail';
        op.code = r.code;
        this.#setToken(op, session);
        return r.redisOps;
      }
    }
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
