import { monotonicMs, TimerThread } from './timer-thread.ts';

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
 * How the open loop waits for the next due time. `thread` (the default): a timer thread wakes it
 * (timer-thread.ts), to within ~0.1 ms, without keeping the event loop busy. `spin`: it yields to I/O
 * with setImmediate whenever the next op is due within 2 ms: on time, but a core busy from a few
 * hundred ops/s up. `timer`: a setTimeout to each due time, ~1 ms late. An engine option, for
 * measurement (`npm run bench -- engine`), not a scenario field.
 */
export type OpenLoopScheduler = 'spin' | 'timer' | 'thread';

export const DEFAULT_OPEN_LOOP_SCHEDULER: OpenLoopScheduler = 'thread';

/**
 * Waits this short are spun out with setImmediate, even with a timer thread: a thread's wake-up
 * takes longer (its timer slack, ~50 us, then the hop to this thread), so above ~20,000 ops/s the
 * thread would make every op late and cost more than the spin it saves.
 */
export const FINAL_SPIN_MS = 0.05;
/** Waits longer than this start with a libuv timer, to end COARSE_MARGIN_MS before the due time; the timer thread does the rest. */
export const COARSE_WAIT_MS = 10;
/** libuv timers fire a millisecond or more late, several on a loaded machine. */
export const COARSE_MARGIN_MS = 5;

/** How one turn of the open loop waits for the next: a setImmediate, a setTimeout of `delayMs`, or the timer thread. */
export type WaitPlan = { via: 'immediate' } | { via: 'timeout'; delayMs: number } | { via: 'thread' };

// Shared, not allocated per turn: close to the due time the loop turns over several times per op.
const IMMEDIATE: WaitPlan = { via: 'immediate' };
const THREAD: WaitPlan = { via: 'thread' };

/** `waitMs`: until the next op is due (<= 0: due already). `threadReady`: the timer thread is up (it takes some milliseconds to start). */
export function planWait(waitMs: number, scheduler: OpenLoopScheduler, threadReady: boolean): WaitPlan {
  switch (scheduler) {
    case 'spin':
      // setTimeout wakes a millisecond or more late; close to the due time, yield to I/O instead.
      return waitMs > 2 ? { via: 'timeout', delayMs: waitMs - 1 } : IMMEDIATE;
    case 'timer':
      return { via: 'timeout', delayMs: Math.max(0, waitMs) };
    case 'thread':
      if (waitMs > COARSE_WAIT_MS) return { via: 'timeout', delayMs: waitMs - COARSE_MARGIN_MS };
      if (waitMs <= FINAL_SPIN_MS) return IMMEDIATE;
      // Until the thread is up, wait as the spin does.
      return threadReady ? THREAD : planWait(waitMs, 'spin', false);
  }
}

/**
 * Open loop: operation i is due at start + i / rate, whatever happened to earlier ones. A stalled
 * server therefore shows as latency (measured from the due time, not from when we got round to
 * sending) instead of silently lowering the rate, as wrk2 and autocannon -R do. How late we launched
 * is the schedule slip, recorded so a saturated generator is visible.
 *
 * With the `thread` scheduler, `hooks.now()` must run at real-time speed (it is mapped once onto the
 * timer thread's clock). The timer thread is stopped and gone before the returned promise settles,
 * however the loop ends (the end, an abort, an error).
 */
export function runOpenLoop(
  rate: number,
  fromMs: number,
  untilMs: number,
  hooks: LoadHooks,
  onSlip: (ms: number, intendedMs: number) => void,
  scheduler: OpenLoopScheduler = DEFAULT_OPEN_LOOP_SCHEDULER,
): Promise<number> {
  const interval = 1000 / rate;
  let launched = 0;
  let next = fromMs;
  // Callbacks rather than an async loop: close to the due time the loop turns over every few
  // microseconds (~4 turns per op at 50k ops/s), and a promise and its continuation per turn were a
  // large share of the generator's garbage. Garbage is what costs here: each young-generation GC
  // pauses the thread, and the ops due meanwhile leave late, as one burst of schedule slip.
  return new Promise<number>((resolve, reject) => {
    let timeout: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    let thread: TimerThread | undefined;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      clearImmediate(immediate);
      hooks.signal.removeEventListener('abort', onAbort);
      const gone = thread ? thread.close() : Promise.resolve();
      gone.then(
        () => (error === undefined ? resolve(launched) : reject(error)),
        (closeError: unknown) => reject(error ?? closeError),
      );
    };
    const onAbort = () => settle();
    const turn = () => {
      timeout = undefined;
      immediate = undefined;
      if (settled) return;
      try {
        if (hooks.signal.aborted || next >= untilMs) return settle();
        const now = hooks.now();
        // Launch everything due (nothing before the first due time); a late turn launches a batch,
        // each keeping its own due time.
        while (next <= now && next < untilMs) {
          onSlip(now - next, next);
          void hooks.launch(next, now);
          launched++;
          next += interval;
        }
        if (next >= untilMs) return settle();
        const plan = planWait(next - hooks.now(), scheduler, thread?.ready ?? false);
        if (plan.via === 'immediate') immediate = setImmediate(turn);
        else if (plan.via === 'timeout') timeout = setTimeout(turn, plan.delayMs);
        else thread!.wakeAt(next + toMonotonicMs);
      } catch (error) {
        settle(error);
      }
    };
    let toMonotonicMs = 0;
    try {
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      if (scheduler === 'thread') {
        toMonotonicMs = monotonicMs() - hooks.now();
        thread = new TimerThread(turn, settle);
      }
    } catch (error) {
      return settle(error);
    }
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
