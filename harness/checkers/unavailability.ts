import type { Checks } from '../../result/checks.ts';
import type { Checker, FaultRecord, Op, RunInfo } from '../history.ts';
import { LogHistogram } from '../log-histogram.ts';

const BUCKET_MS = 100;
/** The sliding bucket p99 is read over: 1 s of completions. */
const WINDOW_BUCKETS = 10;
/** Bins 2% wide from 10 us: a window's p99 is never optimistic by more than 2%. */
const WINDOW_SKETCH = { ratio: 1.02, smallest: 0.01 };
/** Latency is back to normal when the window p99 is within this factor of the pre-fault p99. */
const STEADY_FACTOR = 1.5;

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

/**
 * Latency (completeMs - intendedMs) by completion time. Ops come in completion order, so a 100 ms
 * bucket is complete once a later one starts: the p99 of each 1 s window and of everything so far
 * are computed then, and only the last second of histograms is kept.
 */
class LatencyTimeline {
  #open = new LogHistogram(WINDOW_SKETCH);
  #openBucket = 0;
  readonly #recent: LogHistogram[] = [];
  readonly #window = new LogHistogram(WINDOW_SKETCH);
  readonly #sinceStart = new LogHistogram(WINDOW_SKETCH);
  /** p99 of the window of buckets [w, w + WINDOW_BUCKETS), by w; NaN when empty. */
  readonly windowP99: number[] = [];
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
    this.#recent.push(this.#open);
    this.#window.merge(this.#open);
    if (this.#recent.length > WINDOW_BUCKETS) this.#window.merge(this.#recent.shift()!, -1);
    if (this.#recent.length === WINDOW_BUCKETS) this.windowP99[this.#openBucket - WINDOW_BUCKETS + 1] = this.#window.quantile(0.99) ?? NaN;
    this.#open = new LogHistogram(WINDOW_SKETCH);
    this.#openBucket++;
  }
}

function finite(value: number | undefined): number | null {
  return value === undefined || Number.isNaN(value) ? null : value;
}

/**
 * Measures, does not judge: how long verify went without any definite answer, and per fault how
 * fast the outage was seen, answers came back, and verify latency settled.
 */
export function unavailability(): Checker<'unavailability'> {
  const definite = new CompletionTimeline();
  const errors = new CompletionTimeline();
  const latency = new LatencyTimeline();
  /** Each gap longer than every gap before it: the longest ending by any time is the last one ending by then. */
  const recordGaps: { startMs: number; endMs: number }[] = [];
  let longestGapMs = 0;
  let previousDefiniteMs = 0;
  const counts = { ops: 0, definite: 0, errors: 0 };

  function steadyP99Ms(fault: FaultRecord, untilMs: number, baselineP99Ms: number | null): number | null {
    if (baselineP99Ms === null) return null;
    const firstWindow = Math.floor(fault.atMs / BUCKET_MS);
    const lastWindow = Math.floor(untilMs / BUCKET_MS) - WINDOW_BUCKETS;
    if (lastWindow < firstWindow) return null;
    let lastSlow = -1;
    for (let w = firstWindow; w <= lastWindow; w++) {
      const p99 = finite(latency.windowP99[w]);
      if (p99 !== null && p99 > STEADY_FACTOR * baselineP99Ms) lastSlow = w;
    }
    if (lastSlow === -1) return 0;
    if (lastSlow === lastWindow) return null;
    return Math.max(0, (lastSlow + 1) * BUCKET_MS - fault.atMs);
  }

  return {
    name: 'unavailability',

    observe(op: Op): void {
      // Availability of authentication: a login that needs no Redis (blacklist) would otherwise
      // hide a verify outage, answering "definitely" every few ms while every verify fails.
      if (op.f !== 'verify' || op.phase === 'warmup' || op.phase === 'final' || op.completeMs < 0) return;
      counts.ops++;
      latency.add(op.completeMs, op.completeMs - op.intendedMs);
      if (isDefinite(op)) {
        counts.definite++;
        definite.add(op.completeMs);
        const gapMs = op.completeMs - previousDefiniteMs;
        if (gapMs > longestGapMs) {
          longestGapMs = gapMs;
          recordGaps.push({ startMs: previousDefiniteMs, endMs: op.completeMs });
        }
        previousDefiniteMs = Math.max(previousDefiniteMs, op.completeMs);
      } else if (isOutageError(op)) {
        counts.errors++;
        errors.add(op.completeMs);
      }
    },

    result(run: RunInfo): Checks['unavailability'] {
      const endMs = run.durationMs;
      latency.closeBefore(Math.floor(endMs / BUCKET_MS) + 1);

      let window = { startMs: 0, lengthMs: 0 };
      const recordBeforeEnd = recordGaps.findLast((gap) => gap.endMs <= endMs);
      if (recordBeforeEnd) window = { startMs: recordBeforeEnd.startMs, lengthMs: recordBeforeEnd.endMs - recordBeforeEnd.startMs };
      const lastAnswerMs = definite.lastAtOrBefore(endMs) ?? 0;
      if (endMs - lastAnswerMs > window.lengthMs) window = { startMs: lastAnswerMs, lengthMs: endMs - lastAnswerMs };

      const faults = [...run.faults].sort((a, b) => a.atMs - b.atMs);
      const firstFault = faults[0];
      // Buckets wholly before the first fault: the run as it was before anything broke.
      const baselineP99Ms = finite(latency.sinceStartP99[(firstFault ? Math.floor(firstFault.atMs / BUCKET_MS) : Math.floor(endMs / BUCKET_MS) + 1) - 1]);

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
          steadyP99Ms: steadyP99Ms(fault, Math.min(nextFaultMs, endMs), baselineP99Ms),
        };
      });

      return {
        valid: true,
        counts: { ...counts },
        figures: { longestWindowMs: window.lengthMs, windowStartMs: window.startMs, baselineP99Ms },
        examples: [],
        perFault,
      };
    },
  };
}
