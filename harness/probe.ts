import type { Guarantee, Strategy } from '../strategies/types.ts';
import type { Origin } from './engine.ts';
import type { Op, Phase } from './history.ts';
import { HistoryWriter } from './history-file.ts';

/** What a load generator hands every verifier instance when one of its revocations is acknowledged (times in run ms). */
export interface ProbeRequest {
  token: string;
  jti: string;
  subject: string;
  tokenIssuedMs: number;
  tokenExpiresMs: number;
  /** The revoke op's completeMs: the ack, on the run clock every thread shares. */
  ackedAtMs: number;
}

/** Verifier instance k writes its ops as worker 1000 + k: load generators are numbered from 0 and never reach it (load.workers <= 64). */
export const PROBE_WORKER_BASE = 1000;

const MIN_DEADLINE_MS = 5000;

/** How long an instance keeps probing a token no probe has rejected: long enough to see a bounded strategy's lag through. */
export function probeDeadlineMs(guarantee: Guarantee): number {
  return Math.max(MIN_DEADLINE_MS, typeof guarantee === 'object' ? guarantee.boundedByMs * 3 : 0);
}

/**
 * The pause before the next probe of a token, by the time since its first. Back to back while the
 * lag of a push-fed cache is expected (~2 ms), then sparser: the figure's resolution drops to the
 * spacing, the CPU cost to a few verifies a second. Past 1 s every 100 ms: a bounded strategy whose
 * tokens live out a long TTL would otherwise keep hundreds of probes at 100/s each.
 */
export function probeSpacingMs(sinceFirstMs: number): number {
  if (sinceFirstMs < 2) return 0;
  if (sinceFirstMs < 50) return 1;
  if (sinceFirstMs < 1000) return 10;
  return 100;
}

export interface ProberOptions {
  strategy: Strategy;
  historyPath: string;
  worker: number;
  deadlineMs: number;
}

/**
 * A verifier instance's probing: each token handed to it is verified until a verify rejects it, the
 * deadline passes or the instance stops. The probes are ordinary verify ops (replay: the token was
 * revoked; probe: made by an instance with no load of its own) in the instance's own history;
 * nothing goes into the run's latency histograms, throughput or timeline.
 */
export class Prober {
  readonly #o: ProberOptions;
  readonly #history: HistoryWriter;
  #originPerfMs = 0;
  #phase: Phase = 'warmup';
  #nextId = 0;
  #stopped = false;
  readonly #running = new Set<Promise<void>>();
  /** Pending pauses, woken at once on stop. */
  readonly #sleepers = new Map<NodeJS.Timeout | NodeJS.Immediate, () => void>();
  probed = 0;

  constructor(options: ProberOptions) {
    this.#o = options;
    this.#history = new HistoryWriter(options.historyPath);
  }

  setOrigin(origin: Origin): void {
    this.#originPerfMs = origin.absoluteMs - performance.timeOrigin;
  }

  setPhase(phase: Phase): void {
    this.#phase = phase;
  }

  now(): number {
    return performance.now() - this.#originPerfMs;
  }

  probe(request: ProbeRequest): void {
    if (this.#stopped) return;
    this.probed++;
    const run = this.#probeUntilRejected(request).finally(() => this.#running.delete(run));
    this.#running.add(run);
  }

  /** Stops probing (every pause ends at once), waits for the verifies in flight, closes the history. Idempotent. */
  async finish(): Promise<void> {
    this.stop();
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    await this.#history.close();
  }

  /** No new probe, no new verify: the run is ending or was aborted. */
  stop(): void {
    this.#stopped = true;
    for (const wake of this.#sleepers.values()) wake();
  }

  async #probeUntilRejected(request: ProbeRequest): Promise<void> {
    let firstMs: number | undefined;
    while (!this.#stopped) {
      const op = await this.#verify(request);
      firstMs ??= op.invokeMs;
      // Any definite rejection ends it: revoked is the answer sought; expired leaves nothing to learn.
      if (op.type === 'ok' && op.accepted === false && !op.degraded) return;
      const now = this.now();
      if (now - request.ackedAtMs >= this.#o.deadlineMs) return;
      await this.#pause(probeSpacingMs(now - firstMs));
    }
  }

  /** 0: the next probe right after what is queued (setImmediate), so the ports' messages are not starved by a strategy that answers in a microtask. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#sleepers.delete(handle);
        if (ms === 0) clearImmediate(handle as NodeJS.Immediate);
        else clearTimeout(handle as NodeJS.Timeout);
        resolve();
      };
      const handle: NodeJS.Timeout | NodeJS.Immediate = ms === 0 ? setImmediate(wake) : setTimeout(wake, ms);
      this.#sleepers.set(handle, wake);
    });
  }

  async #verify(request: ProbeRequest): Promise<Op> {
    const invokeMs = this.now();
    const op: Op = {
      id: this.#nextId++,
      f: 'verify',
      worker: this.#o.worker,
      phase: this.#phase,
      subject: request.subject,
      jti: request.jti,
      tokenIssuedMs: request.tokenIssuedMs,
      tokenExpiresMs: request.tokenExpiresMs,
      intendedMs: invokeMs,
      invokeMs,
      completeMs: 0,
      type: 'ok',
      replay: true,
      probe: true,
    };
    try {
      const v = await this.#o.strategy.verify(request.token);
      op.completeMs = this.now();
      op.accepted = v.ok;
      if (!v.ok) op.code = v.code;
      if (v.degraded) op.degraded = true;
    } catch (error) {
      op.completeMs = this.now();
      op.type = 'info';
      op.error = (error as Error).message;
    }
    this.#history.append(op);
    return op;
  }
}
