import { monotonicMs, type OnHelperRunning, TimerThread } from './timer-thread.ts';

export interface LoadHooks {
  /**
   * Start one operation intended at `intendedMs` (run ms). Must not throw; resolves when it completes.
   * The open loop does not wait for it: the caller counts what is in flight, because a `finally` and a
   * set entry per op were a visible share of the garbage (and so of the GC pauses) at 50k ops/s.
   * `launchedMs`: `now()` read just before this launch, nothing else run since; the op's send time.
   */
  launch(intendedMs: number, launchedMs: number): Promise<void>;
  /** The current run clock in ms. */
  now(): number;
  signal: AbortSignal;
  /** The open loop's timer thread is up (its OS id; undefined without /proc), then gone (undefined): for the footprint. */
  onTimerThread?: OnHelperRunning;
}

/**
 * How the open loop waits for the next due time. `spin` (the default): it yields to I/O with
 * setImmediate whenever the next op is due within 2 ms: on time, but a core busy from a few hundred
 * ops/s up. `thread`: a timer thread ticks at each due time (timer-thread.ts) and wakes it, ~0.1 ms
 * late at the median, without keeping the event loop busy. `timer`: a setTimeout to each due time,
 * ~0.7 ms late. An engine option, for measurement (`npm run bench -- engine`), not a scenario field.
 */
export type OpenLoopScheduler = 'spin' | 'timer' | 'thread';

/**
 * `thread` uses a quarter of spin's CPU at 1,000 ops/s (0.23-0.29 of a core against 1.02-1.06
 * here), leaving the core to the Redis processes of the topology under test, and kept verify p99 at
 * 2.8-4.8 ms where spin's ranged 2.9-79 ms on the same shared machine. It misses issue 21's p99 slip
 * target (<= 0.5 ms) on this 2-core VM, 1.6-2.9 ms when shared (a sleeping CPU can take
 * milliseconds to wake), as spin did in some runs (0.50-7.3 ms); the slip stays in every result.
 */
export const DEFAULT_OPEN_LOOP_SCHEDULER: OpenLoopScheduler = 'thread';

/** What a generator at `rate` ops/s actually does: `thread` spins past THREAD_MIN_INTERVAL_MS, as runOpenLoop does. */
export function effectiveScheduler(rate: number, scheduler: OpenLoopScheduler = DEFAULT_OPEN_LOOP_SCHEDULER): OpenLoopScheduler {
  return scheduler === 'thread' && 1000 / rate < THREAD_MIN_INTERVAL_MS ? 'spin' : scheduler;
}

/**
 * Waits this short are spun out with setImmediate, even with a timer thread: its tick comes later
 * than that (its timer slack, ~50 us, then the hop to this thread).
 */
export const FINAL_SPIN_MS = 0.05;
/**
 * Above 10,000 ops/s the `thread` scheduler spins as `spin` does: every tick would come after the
 * next op was due, and the generator is busy with the ops themselves by then.
 */
export const THREAD_MIN_INTERVAL_MS = 0.1;

/**
 * How one turn of the open loop waits for the next: a setImmediate, a setTimeout of `delayMs`, or
 * nothing (the timer thread's tick at the next due time).
 */
export type WaitPlan = { via: 'immediate' } | { via: 'timeout'; delayMs: number } | { via: 'tick' };

// Shared, not allocated per turn: close to the due time the loop turns over several times per op.
const IMMEDIATE: WaitPlan = { via: 'immediate' };
const TICK: WaitPlan = { via: 'tick' };

/** `waitMs`: until the next op is due (<= 0: due already). `ticking`: a timer thread is up and ticks at every due time. */
export function planWait(waitMs: number, scheduler: OpenLoopScheduler, ticking: boolean): WaitPlan {
  switch (scheduler) {
    case 'spin':
      // setTimeout wakes a millisecond or more late; close to the due time, yield to I/O instead.
      return waitMs > 2 ? { via: 'timeout', delayMs: waitMs - 1 } : IMMEDIATE;
    case 'timer':
      return { via: 'timeout', delayMs: Math.max(0, waitMs) };
    case 'thread':
      // Until the thread is up (or without one, above 10,000 ops/s), wait as the spin does.
      if (!ticking) return planWait(waitMs, 'spin', false);
      return waitMs <= FINAL_SPIN_MS ? IMMEDIATE : TICK;
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
      if (settled) return;
      try {
        if (hooks.signal.aborted || next >= untilMs) return settle();
        const now = hooks.now();
        // Launch everything due (nothing before the first due time); a late turn launches a batch,
        // each keeping its own due time. The turn's reading is the first op's send time; each later
        // one in the batch leaves after the ones before it ran, and reads the clock again: its slip
        // and its send time are when it left.
        let launchedMs = now;
        while (next <= now && next < untilMs) {
          onSlip(launchedMs - next, next);
          void hooks.launch(next, launchedMs);
          launched++;
          next += interval;
          if (next <= now) launchedMs = hooks.now();
        }
        if (next >= untilMs) return settle();
        const plan = planWait(next - hooks.now(), scheduler, thread?.ready ?? false);
        // A tick can start a turn while a setImmediate or setTimeout is pending (as the thread comes
        // up, or a tick for a due time a spin already served): that one turns soon enough, and a
        // second would make two chains of turns.
        if (plan.via === 'immediate') immediate ??= setImmediate(afterImmediate);
        else if (plan.via === 'timeout') timeout ??= setTimeout(afterTimeout, plan.delayMs);
      } catch (error) {
        settle(error);
      }
    };
    const afterImmediate = () => {
      immediate = undefined;
      turn();
    };
    const afterTimeout = () => {
      timeout = undefined;
      turn();
    };
    try {
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      if (scheduler === 'thread' && interval >= THREAD_MIN_INTERVAL_MS && fromMs < untilMs && !hooks.signal.aborted) {
        thread = new TimerThread(fromMs + (monotonicMs() - hooks.now()), interval, turn, settle, hooks.onTimerThread);
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
    // One clock reading per op: the loop's end test and the op's due and send time.
    for (let start = hooks.now(); start < untilMs && !hooks.signal.aborted; start = hooks.now()) {
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
