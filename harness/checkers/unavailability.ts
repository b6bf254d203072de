import type { Checks, FaultFigures } from '../../result/checks.ts';
import { clientGroupOf, type NetworkFaultWindow, networkFaultWindows } from '../../result/network-faults.ts';
import type { Checker, FaultRecord, Op, RunInfo } from '../history.ts';
import { LogHistogram } from '../log-histogram.ts';

const BUCKET_MS = 100;
/**
 * A window's p99 is read over at least 1 s and at least 200 verifies: fewer samples make the p99
 * the window's maximum, and one outlier then looks like a slow second (seen: a pause healed at
 * +2 s reported as steady at +5.1 s, reset by single 4-8 ms outliers in 100-op windows).
 */
const WINDOW_MIN_BUCKETS = 10;
const WINDOW_MIN_SAMPLES = 200;
/** Bins 2% wide from 10 us: a window's p99 is never optimistic by more than 2%. */
const WINDOW_SKETCH = { ratio: 1.02, smallest: 0.01 };
/** Fewer steady windows than this give no spread to compare with. */
const MIN_STEADY_WINDOWS = 3;

/** Redis (or the strategy on its behalf) gave an answer that does not depend on an outage. */
function isDefinite(op: Op): boolean {
  if (op.f === 'verify') return op.type === 'ok' && !op.degraded;
  return op.type === 'ok';
}

/**
 * The client saw the outage. A write refused for a reason of its own (a reused refresh token, an
 * expired token) is an answer, not an outage, so it is neither this nor definite.
 */
function isOutageError(op: Op): boolean {
  if (op.f === 'verify') return op.type !== 'ok' || op.degraded === true;
  return op.type === 'info' || (op.type === 'fail' && (op.code === undefined || op.code === 'ERR_STORE_UNAVAILABLE'));
}

/**
 * When ops of one kind completed, in memory proportional to the run's length, not its op count:
 * the exact first and last completion per 100 ms bucket, and one bit per millisecond for what lies
 * between (so a query landing inside a bucket is answered to the millisecond).
 */
class CompletionTimeline {
  readonly #first: number[] = [];
  readonly #last: number[] = [];
  #millis = new Uint32Array(1024);

  add(ms: number): void {
    const bucket = Math.floor(ms / BUCKET_MS);
    while (this.#first.length <= bucket) {
      this.#first.push(NaN);
      this.#last.push(NaN);
    }
    if (!(this.#first[bucket]! <= ms)) this.#first[bucket] = ms;
    if (!(this.#last[bucket]! >= ms)) this.#last[bucket] = ms;
    const milli = Math.floor(ms);
    if (milli >> 5 >= this.#millis.length) {
      const grown = new Uint32Array(Math.max(this.#millis.length * 2, (milli >> 5) + 1));
      grown.set(this.#millis);
      this.#millis = grown;
    }
    this.#millis[milli >> 5]! |= 1 << (milli & 31);
  }

  #sawMilli(milli: number): boolean {
    return milli >= 0 && ((this.#millis[milli >> 5] ?? 0) & (1 << (milli & 31))) !== 0;
  }

  /** The first completion strictly after ms. */
  firstAfter(ms: number): number | null {
    for (let bucket = Math.max(0, Math.floor(ms / BUCKET_MS)); bucket < this.#first.length; bucket++) {
      const first = this.#first[bucket]!;
      const last = this.#last[bucket]!;
      if (Number.isNaN(first) || last <= ms) continue;
      if (first > ms) return first;
      for (let milli = Math.floor(ms) + 1; milli <= Math.floor(last); milli++) if (this.#sawMilli(milli)) return milli;
      return last;
    }
    return null;
  }

  /** The last completion at or before ms. */
  lastAtOrBefore(ms: number): number | null {
    for (let bucket = Math.min(Math.floor(ms / BUCKET_MS), this.#first.length - 1); bucket >= 0; bucket--) {
      const first = this.#first[bucket]!;
      const last = this.#last[bucket]!;
      if (Number.isNaN(first) || first > ms) continue;
      if (last <= ms) return last;
      for (let milli = Math.floor(ms) - 1; milli >= Math.floor(first); milli--) if (this.#sawMilli(milli)) return Math.max(milli, first);
      return Math.max(first, Math.floor(ms));
    }
    return null;
  }
}

/** The longest stretch without a definite answer, and whether it was still open when the measured phase ended. */
interface UnansweredWindow {
  startMs: number;
  lengthMs: number;
  openAtEnd: boolean;
}

/**
 * The definite verify answers of one stream of clients (the whole run, or one client group), and
 * the longest time without one: the one definition of the headline window, so a client group's
 * figure means what the run's does. Each gap longer than every gap before it is kept: the longest
 * ending by any time is the last one ending by then.
 */
class DefiniteAnswers {
  readonly completions = new CompletionTimeline();
  readonly #recordGaps: { startMs: number; endMs: number }[] = [];
  #longestGapMs = 0;
  #previousMs = 0;
  verifies = 0;
  definite = 0;

  /** A verify of the measured phase; returns whether it was a definite answer. */
  add(op: Op): boolean {
    this.verifies++;
    if (!isDefinite(op)) return false;
    this.definite++;
    this.completions.add(op.completeMs);
    const gapMs = op.completeMs - this.#previousMs;
    if (gapMs > this.#longestGapMs) {
      this.#longestGapMs = gapMs;
      this.#recordGaps.push({ startMs: this.#previousMs, endMs: op.completeMs });
    }
    this.#previousMs = Math.max(this.#previousMs, op.completeMs);
    return true;
  }

  longestWindow(endMs: number): UnansweredWindow {
    let window = { startMs: 0, lengthMs: 0, openAtEnd: false };
    const recordBeforeEnd = this.#recordGaps.findLast((gap) => gap.endMs <= endMs);
    if (recordBeforeEnd) window = { startMs: recordBeforeEnd.startMs, lengthMs: recordBeforeEnd.endMs - recordBeforeEnd.startMs, openAtEnd: false };
    const lastAnswerMs = this.completions.lastAtOrBefore(endMs) ?? 0;
    // Still open when the measured phase ended: its true length is unknown, at least this.
    if (endMs - lastAnswerMs > window.lengthMs) window = { startMs: lastAnswerMs, lengthMs: endMs - lastAnswerMs, openAtEnd: true };
    return window;
  }
}

/** The p99 of the window starting at a bucket, and the bucket it ends before. */
interface LatencyWindow {
  startBucket: number;
  endBucket: number;
  p99Ms: number;
}

/**
 * Latency (completeMs - intendedMs) by completion time. Ops come in completion order, so a 100 ms
 * bucket is complete once a later one starts. Each window starts at a bucket and runs forward until
 * it holds WINDOW_MIN_BUCKETS buckets and WINDOW_MIN_SAMPLES samples; it is computed once its last
 * bucket closes, so only the buckets of the windows still open are kept.
 */
class LatencyTimeline {
  #open = new LogHistogram(WINDOW_SKETCH);
  #openBucket = 0;
  /** Closed buckets from #windowStart on, not yet behind every computed window. */
  readonly #pending: LogHistogram[] = [];
  #windowStart = 0;
  readonly #window = new LogHistogram(WINDOW_SKETCH);
  readonly #sinceStart = new LogHistogram(WINDOW_SKETCH);
  readonly windows: LatencyWindow[] = [];
  /** p99 of buckets [0, k], by k; NaN when empty. */
  readonly sinceStartP99: number[] = [];

  add(completeMs: number, latencyMs: number): void {
    this.closeBefore(Math.floor(completeMs / BUCKET_MS));
    this.#open.add(Math.max(0, latencyMs));
  }

  closeBefore(bucket: number): void {
    while (this.#openBucket < bucket) this.#closeOpen();
  }

  #closeOpen(): void {
    this.#sinceStart.merge(this.#open);
    this.sinceStartP99[this.#openBucket] = this.#sinceStart.quantile(0.99) ?? NaN;
    this.#pending.push(this.#open);
    this.#window.merge(this.#open);
    this.#open = new LogHistogram(WINDOW_SKETCH);
    this.#openBucket++;
    // Every window that is now full is computed, and its first bucket leaves.
    while (this.#pending.length >= WINDOW_MIN_BUCKETS && this.#window.count >= WINDOW_MIN_SAMPLES) {
      this.windows.push({ startBucket: this.#windowStart, endBucket: this.#openBucket, p99Ms: this.#window.quantile(0.99)! });
      this.#window.merge(this.#pending.shift()!, -1);
      this.#windowStart++;
    }
  }
}

/** The range of window p99s before the first fault: what "normal" looks like, windows as big as the later ones. */
interface SteadySpread {
  lowMs: number;
  highMs: number;
  windows: number;
}

function steadySpread(windows: readonly LatencyWindow[], firstFaultBucket: number): SteadySpread | null {
  const steady = windows.filter((w) => w.endBucket <= firstFaultBucket).map((w) => w.p99Ms);
  if (steady.length < MIN_STEADY_WINDOWS) return null;
  return { lowMs: Math.min(...steady), highMs: Math.max(...steady), windows: steady.length };
}

function finite(value: number | undefined): number | null {
  return value === undefined || Number.isNaN(value) ? null : value;
}

/** Acknowledged revocations: when, and by which port (-1: unknown), for the network-fault windows. */
class Acks {
  #atMs = new Float64Array(1024);
  #port = new Int32Array(1024);
  length = 0;

  add(ms: number, port: number | undefined): void {
    if (this.length === this.#atMs.length) {
      const atMs = new Float64Array(this.length * 2);
      const ports = new Int32Array(this.length * 2);
      atMs.set(this.#atMs);
      ports.set(this.#port);
      this.#atMs = atMs;
      this.#port = ports;
    }
    this.#atMs[this.length] = ms;
    this.#port[this.length] = port ?? -1;
    this.length++;
  }

  count(fromMs: number, untilMs: number, port?: number): number {
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      const at = this.#atMs[i]!;
      if (at >= fromMs && at < untilMs && (port === undefined || this.#port[i] === port)) n++;
    }
    return n;
  }
}

/** What a network fault did to writes: the demotion after the heal, and the acks in each window. */
function networkFigures(window: NetworkFaultWindow, acks: Acks, run: RunInfo): Partial<FaultFigures> {
  const { atMs, healedAtMs, demotedAtMs, afterHealUntilMs } = window;
  const healed = healedAtMs ?? Infinity;
  const port = run.nodes.find((n) => n.id === window.fault.node)?.port;
  return {
    demotedAfterHealMs: demotedAtMs === null || healedAtMs === null ? null : demotedAtMs - healedAtMs,
    acksDuringFault: acks.count(atMs, healed),
    acksAfterHealBeforeDemotion: acks.count(healed, afterHealUntilMs),
    acksByNode:
      port === undefined ? null : { duringFault: acks.count(atMs, healed, port), afterHealBeforeDemotion: acks.count(healed, afterHealUntilMs, port) },
  };
}

/**
 * Measures, does not judge: how long verify went without any definite answer, and per fault how
 * fast the outage was seen, answers came back, and verify latency settled.
 */
export function unavailability(run?: Pick<RunInfo, 'clientGroups'>): Checker<'unavailability'> {
  const answers = new DefiniteAnswers();
  const definite = answers.completions;
  const errors = new CompletionTimeline();
  const latency = new LatencyTimeline();
  let errorCount = 0;
  const acks = new Acks();
  // A run-wide figure hides the side that was cut off while the other clients kept answering.
  const groupOf = run?.clientGroups?.length ? clientGroupOf(run.clientGroups) : undefined;
  const bySide = new Map<string, DefiniteAnswers>((run?.clientGroups ?? []).map((g) => [g.name, new DefiniteAnswers()]));

  /**
   * From the fault to the start of the first window after which every window (up to the next fault
   * or the end) stays within the steady spread: at most its high end plus its width, so that the
   * jitter the steady phase showed is not taken for slowness. 0: never slower; null: not settled
   * by then, or no spread to compare with.
   */
  function steadyP99Ms(fault: FaultRecord, untilMs: number, spread: SteadySpread | null): number | null {
    if (spread === null) return null;
    const limitMs = spread.highMs + (spread.highMs - spread.lowMs);
    const firstBucket = Math.floor(fault.atMs / BUCKET_MS);
    const after = latency.windows.filter((w) => w.startBucket >= firstBucket && w.endBucket * BUCKET_MS <= untilMs);
    if (after.length === 0) return null;
    const lastSlow = after.findLastIndex((w) => w.p99Ms > limitMs);
    if (lastSlow === -1) return 0;
    if (lastSlow === after.length - 1) return null;
    return Math.max(0, after[lastSlow + 1]!.startBucket * BUCKET_MS - fault.atMs);
  }

  /** A group's answers; the default group's from its first op, so it is listed only when it had any. */
  function sideAnswers(name: string): DefiniteAnswers {
    let side = bySide.get(name);
    if (!side) {
      side = new DefiniteAnswers();
      bySide.set(name, side);
    }
    return side;
  }

  return {
    name: 'unavailability',

    observe(op: Op): void {
      const side = groupOf && sideAnswers(groupOf(op.worker));
      if ((op.f === 'revoke' || op.f === 'revokeAll') && op.type === 'ok') acks.add(op.completeMs, op.ackedByPort);
      // Availability of authentication: a login that needs no Redis (blacklist) would otherwise
      // hide a verify outage, answering "definitely" every few ms while every verify fails.
      // Probes (verifier instances) are not load: a few tokens asked about back to back would fill the load's gaps.
      if (op.f !== 'verify' || op.probe || op.phase === 'warmup' || op.phase === 'final' || op.completeMs < 0) return;
      latency.add(op.completeMs, op.completeMs - op.intendedMs);
      side?.add(op);
      if (!answers.add(op) && isOutageError(op)) {
        errorCount++;
        errors.add(op.completeMs);
      }
    },

    result(run: RunInfo): Checks['unavailability'] {
      const endMs = run.durationMs;
      latency.closeBefore(Math.floor(endMs / BUCKET_MS) + 1);

      const window = answers.longestWindow(endMs);

      const faults = [...run.faults].sort((a, b) => a.atMs - b.atMs);
      const firstFault = faults[0];
      // Buckets wholly before the first fault: the run as it was before anything broke.
      const firstFaultBucket = firstFault ? Math.floor(firstFault.atMs / BUCKET_MS) : Math.floor(endMs / BUCKET_MS) + 1;
      const baselineP99Ms = finite(latency.sinceStartP99[firstFaultBucket - 1]);
      const spread = steadySpread(latency.windows, firstFaultBucket);

      const networkWindows = new Map(networkFaultWindows(faults, run.events).map((w) => [w.fault, w]));
      const perFault = faults.map((fault, i) => {
        const nextFaultMs = faults[i + 1]?.atMs ?? Infinity;
        // An error after the next fault is that fault's doing.
        const firstError = errors.firstAfter(fault.atMs);
        const detectedMs = firstError !== null && firstError < nextFaultMs ? firstError : null;
        const recoveredMs = detectedMs === null ? null : definite.firstAfter(detectedMs);
        return {
          action: fault.action,
          target: fault.target,
          node: fault.node ?? null,
          atMs: fault.atMs,
          detectMs: detectedMs === null ? null : detectedMs - fault.atMs,
          recoverMs: detectedMs === null ? 0 : recoveredMs === null ? null : recoveredMs - fault.atMs,
          steadyP99Ms: steadyP99Ms(fault, Math.min(nextFaultMs, endMs), spread),
          ...(networkWindows.has(fault) && networkFigures(networkWindows.get(fault)!, acks, run)),
        };
      });

      return {
        valid: true,
        counts: { ops: answers.verifies, definite: answers.definite, errors: errorCount },
        figures: {
          longestWindowMs: window.lengthMs,
          windowStartMs: window.startMs,
          longestWindowOpenAtEnd: window.openAtEnd,
          baselineP99Ms,
          steadySpread: spread && { lowMs: spread.lowMs, highMs: spread.highMs, windows: spread.windows },
        },
        examples: [],
        perFault,
        ...(groupOf && {
          bySide: Object.fromEntries(
            [...bySide].map(([name, side]) => {
              const longest = side.longestWindow(endMs);
              return [
                name,
                {
                  longestWindowMs: longest.lengthMs,
                  windowStartMs: longest.startMs,
                  longestWindowOpenAtEnd: longest.openAtEnd,
                  verifies: side.verifies,
                  definite: side.definite,
                },
              ];
            }),
          ),
        }),
      };
    },
  };
}
