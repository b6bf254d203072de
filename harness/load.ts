import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadHooks {
  /** Start one operation intended at `intendedMs` (run ms). Must not throw; resolves when it completes. */
  launch(intendedMs: number, launchedMs: number): Promise<void>;
  /** The current run clock in ms. */
  now(): number;
  signal: AbortSignal;
}

/**
 * Open loop: operation i is due at start + i / rate, whatever happened to earlier ones. A stalled
 * server therefore shows as latency (measured from the due time, not from when we got round to
 * sending) instead of silently lowering the rate, as wrk2 and autocannon -R do. How late we launched
 * is the schedule slip, recorded so a saturated generator is visible.
 */
export async function runOpenLoop(rate: number, fromMs: number, untilMs: number, hooks: LoadHooks, onSlip: (ms: number, intendedMs: number) => void): Promise<Set<Promise<void>>> {
  const interval = 1000 / rate;
  const inFlight = new Set<Promise<void>>();
  let next = fromMs;
  while (next < untilMs && !hooks.signal.aborted) {
    const now = hooks.now();
    // Launch everything due (nothing before the first due time); a late tick launches a batch,
    // each keeping its own due time.
    while (next <= now && next < untilMs) {
      onSlip(now - next, next);
      const p = hooks.launch(next, now);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      next += interval;
    }
    const wait = next - hooks.now();
    // setTimeout wakes a millisecond or more late; close to the due time, yield to I/O instead.
    if (wait > 2) await sleep(wait - 1);
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return inFlight;
}

/** Closed loop: `concurrency` clients, each sending its next request when the previous one returns. For maximum throughput; latency is service time. */
export async function runClosedLoop(concurrency: number, untilMs: number, hooks: LoadHooks): Promise<Set<Promise<void>>> {
  const client = async () => {
    let sinceYield = 0;
    while (hooks.now() < untilMs && !hooks.signal.aborted) {
      const start = hooks.now();
      await hooks.launch(start, start);
      // An op that never waits on I/O resolves in a microtask: yield now and then, or timers
      // (faults, progress, the end of the run) would starve.
      if (++sinceYield >= 64) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return new Set();
}
