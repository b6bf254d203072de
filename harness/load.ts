export interface LoadHooks {
  /**
   * Start one operation intended at `intendedMs` (run ms). Must not throw; resolves when it completes.
   * The open loop does not wait for it: the caller counts what is in flight, because a `finally` and a
   * set entry per op were a visible share of the garbage (and so of the GC pauses) at 50k ops/s.
   */
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
export function runOpenLoop(
  rate: number,
  fromMs: number,
  untilMs: number,
  hooks: LoadHooks,
  onSlip: (ms: number, intendedMs: number) => void,
): Promise<number> {
  const interval = 1000 / rate;
  let launched = 0;
  let next = fromMs;
  // Callbacks rather than an async loop: close to the due time the loop turns over every few
  // microseconds (~4 turns per op at 50k ops/s), and a promise and its continuation per turn were a
  // large share of the generator's garbage. Garbage is what costs here: each young-generation GC
  // pauses the thread, and the ops due meanwhile leave late, as one burst of schedule slip.
  return new Promise<number>((resolve, reject) => {
    const turn = () => {
      try {
        if (hooks.signal.aborted || next >= untilMs) return resolve(launched);
        const now = hooks.now();
        // Launch everything due (nothing before the first due time); a late turn launches a batch,
        // each keeping its own due time.
        while (next <= now && next < untilMs) {
          onSlip(now - next, next);
          void hooks.launch(next, now);
          launched++;
          next += interval;
        }
        if (next >= untilMs) return resolve(launched);
        const wait = next - hooks.now();
        // setTimeout wakes a millisecond or more late; close to the due time, yield to I/O instead.
        if (wait > 2) setTimeout(turn, wait - 1);
        else setImmediate(turn);
      } catch (error) {
        reject(error);
      }
    };
    turn();
  });
}

/** Closed loop: `concurrency` clients, each sending its next request when the previous one returns. For maximum throughput; latency is service time. */
export async function runClosedLoop(concurrency: number, untilMs: number, hooks: LoadHooks): Promise<void> {
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
}
