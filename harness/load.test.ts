import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { FINAL_SPIN_MS, type LoadHooks, type OpenLoopScheduler, planWait, runClosedLoop, runOpenLoop, THREAD_MIN_INTERVAL_MS } from './load.ts';
import { TimerThread } from './timer-thread.ts';

const SCHEDULERS: readonly OpenLoopScheduler[] = ['spin', 'timer', 'thread'];

/** What this file's tests leave running: a timer thread shows as its MessagePort (the Worker itself is unref'd). */
function ourHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker');
}

function realClock(): () => number {
  const origin = performance.now();
  return () => performance.now() - origin;
}

describe('open loop', () => {
  it('keeps the arrival rate during a stall and measures latency from the due time', async () => {
    const origin = performance.now();
    const now = () => performance.now() - origin;
    const latencies: { intended: number; latency: number }[] = [];
    let stalled = false;
    // The "server" stalls every request that arrives in 100..300 ms until 300 ms: a closed loop would
    // stop sending and hide it; an open loop keeps sending and sees the queue.
    const launch = async (intended: number) => {
      if (intended >= 100 && intended < 300) {
        stalled = true;
        await sleep(Math.max(0, 300 - now()));
      }
      latencies.push({ intended, latency: now() - intended });
    };
    const started: Promise<void>[] = [];
    const launched = await runOpenLoop(
      200,
      0,
      500,
      {
        launch: (intended) => {
          const op = launch(intended);
          started.push(op);
          return op;
        },
        now,
        signal: new AbortController().signal,
      },
      () => {},
    );
    await Promise.all(started);
    expect(launched).toBe(100);
    expect(stalled).toBe(true);
    expect(latencies.length).toBe(100); // 200/s for 0.5 s, none skipped
    const during = latencies.filter((l) => l.intended >= 100 && l.intended < 150);
    // A request due at 100 ms waited until 300 ms: ~200 ms of latency, counted in full.
    expect(Math.max(...during.map((l) => l.latency))).toBeGreaterThan(150);
  });

  it('reports how late it launched (schedule slip)', async () => {
    const origin = performance.now();
    const slips: number[] = [];
    const launched = await runOpenLoop(
      1000,
      0,
      100,
      { launch: async () => {}, now: () => performance.now() - origin, signal: new AbortController().signal },
      (s) => slips.push(s),
    );
    expect(launched).toBe(100);
    expect(slips.length).toBe(100);
    expect(slips.every((s) => s >= 0)).toBe(true);
  });

  it('stops early when aborted', async () => {
    const abort = new AbortController();
    const origin = performance.now();
    setTimeout(() => abort.abort(), 50);
    let launched = 0;
    await runOpenLoop(1000, 0, 10_000, { launch: async () => void launched++, now: () => performance.now() - origin, signal: abort.signal }, () => {});
    expect(launched).toBeLessThan(1000);
  });
});

describe('open loop wait plan', () => {
  it('spin: a timer to 1 ms before the due time when it is more than 2 ms away, else setImmediate', () => {
    expect(planWait(10, 'spin', false)).toEqual({ via: 'timeout', delayMs: 9 });
    expect(planWait(2, 'spin', false)).toEqual({ via: 'immediate' });
    expect(planWait(0.3, 'spin', true)).toEqual({ via: 'immediate' });
    expect(planWait(-1, 'spin', true)).toEqual({ via: 'immediate' });
  });

  it('timer: a setTimeout to the due time, whatever the wait', () => {
    expect(planWait(10, 'timer', false)).toEqual({ via: 'timeout', delayMs: 10 });
    expect(planWait(0.3, 'timer', false)).toEqual({ via: 'timeout', delayMs: 0.3 });
    expect(planWait(-1, 'timer', false)).toEqual({ via: 'timeout', delayMs: 0 });
  });

  it('thread: nothing to schedule (the tick at the due time comes), but a bounded spin for the last microseconds', () => {
    expect(planWait(1000, 'thread', true)).toEqual({ via: 'tick' });
    expect(planWait(0.5, 'thread', true)).toEqual({ via: 'tick' });
    expect(planWait(FINAL_SPIN_MS + 0.001, 'thread', true)).toEqual({ via: 'tick' });
    expect(planWait(FINAL_SPIN_MS, 'thread', true)).toEqual({ via: 'immediate' });
    expect(planWait(-1, 'thread', true)).toEqual({ via: 'immediate' });
    expect(FINAL_SPIN_MS).toBeLessThanOrEqual(0.05);
  });

  it('thread, while the thread is starting or without one: waits as the spin does', () => {
    expect(planWait(0.5, 'thread', false)).toEqual({ via: 'immediate' });
    expect(planWait(5, 'thread', false)).toEqual({ via: 'timeout', delayMs: 4 });
  });
});

describe.each(SCHEDULERS)('open loop, %s scheduler', (scheduler) => {
  it('launches op i at its due time fromMs + i / rate, never before, with the slip it reports', async () => {
    const now = realClock();
    const launches: { intended: number; launched: number; seenAt: number }[] = [];
    const slips: { slip: number; intended: number }[] = [];
    const launched = await runOpenLoop(
      500,
      20,
      220,
      {
        launch: async (intended, launchedMs) => void launches.push({ intended, launched: launchedMs, seenAt: now() }),
        now,
        signal: new AbortController().signal,
      },
      (slip, intended) => slips.push({ slip, intended }),
      scheduler,
    );
    expect(launched).toBe(100);
    expect(launches.map((l) => l.intended)).toEqual(Array.from({ length: 100 }, (_, i) => 20 + i * 2));
    for (const l of launches) expect(l.seenAt).toBeGreaterThanOrEqual(l.intended);
    // The slip is how late each op left: the launch time minus its own due time.
    expect(slips.map((s) => s.intended)).toEqual(launches.map((l) => l.intended));
    for (const [i, s] of slips.entries()) expect(s.slip).toBeCloseTo(launches[i]!.launched - launches[i]!.intended, 9);
    expect(ourHandles()).toEqual([]);
  });

  it('launches everything due at once when late, each op keeping its own due time', async () => {
    const now = realClock();
    const launches: { intended: number; launched: number; turn: number }[] = [];
    let blocked = false;
    // Launches made in one synchronous run share a turn number: the microtask ends the turn.
    let turn = 0;
    let turnEnding = false;
    const launch = async (intended: number, launchedMs: number) => {
      if (!turnEnding) {
        turnEnding = true;
        queueMicrotask(() => {
          turnEnding = false;
          turn++;
        });
      }
      launches.push({ intended, launched: launchedMs, turn });
      // The thread is busy for 30 ms: 15 ops fall due meanwhile.
      if (!blocked && intended >= 50) {
        blocked = true;
        const until = performance.now() + 30;
        while (performance.now() < until) {}
      }
    };
    await runOpenLoop(500, 0, 200, { launch, now, signal: new AbortController().signal }, () => {}, scheduler);
    expect(launches.length).toBe(100);
    expect(launches.map((l) => l.intended)).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
    const stall = launches.find((l) => l.intended >= 50)!;
    // The first turn after the stall (ops already due in the stalled turn leave with it).
    const after = launches.find((l) => l.launched >= stall.launched + 30)!;
    const batch = launches.filter((l) => l.turn === after.turn);
    expect(batch.length).toBeGreaterThanOrEqual(14);
    expect(new Set(batch.map((l) => l.intended)).size).toBe(batch.length);
    // Each leaves after the one before it, and none before it was due.
    for (const [i, l] of batch.entries()) {
      expect(l.launched - l.intended).toBeGreaterThanOrEqual(0);
      if (i > 0) expect(l.launched).toBeGreaterThanOrEqual(batch[i - 1]!.launched);
    }
  });

  it('stops at the abort, not at the next due time, and leaves nothing running', async () => {
    const abort = new AbortController();
    const now = realClock();
    let launched = 0;
    // One op per second: the first is due at once, the next one a second later.
    const loop = runOpenLoop(1, 0, 10_000, { launch: async () => void launched++, now, signal: abort.signal }, () => {}, scheduler);
    await sleep(50);
    const abortedAt = now();
    abort.abort();
    expect(await loop).toBe(1);
    expect(now() - abortedAt).toBeLessThan(500);
    expect(launched).toBe(1);
    expect(ourHandles()).toEqual([]);
  });

  it('stops when aborted at 1,000 ops/s', async () => {
    const abort = new AbortController();
    const now = realClock();
    setTimeout(() => abort.abort(), 50);
    let launched = 0;
    await runOpenLoop(1000, 0, 10_000, { launch: async () => void launched++, now, signal: abort.signal }, () => {}, scheduler);
    expect(launched).toBeGreaterThan(0);
    expect(launched).toBeLessThan(1000);
    expect(ourHandles()).toEqual([]);
  });

  it('rejects with the error of a turn that threw, and leaves nothing running', async () => {
    const now = realClock();
    let slips = 0;
    const loop = runOpenLoop(
      1000,
      0,
      10_000,
      { launch: async () => {}, now, signal: new AbortController().signal },
      () => {
        if (++slips === 100) throw new Error('recording failed');
      },
      scheduler,
    );
    await expect(loop).rejects.toThrow('recording failed');
    expect(ourHandles()).toEqual([]);
  });

  it('returns at once for an empty or already aborted range', async () => {
    const hooks: LoadHooks = { launch: async () => {}, now: realClock(), signal: AbortSignal.abort() };
    expect(await runOpenLoop(1000, 0, 10_000, hooks, () => {}, scheduler)).toBe(0);
    expect(await runOpenLoop(1000, 100, 100, { ...hooks, signal: new AbortController().signal }, () => {}, scheduler)).toBe(0);
    expect(ourHandles()).toEqual([]);
  });
});

describe('open loop, thread scheduler', () => {
  it('is woken by the timer thread once it is up, at most one tick per op', async () => {
    const close = vi.spyOn(TimerThread.prototype, 'close');
    try {
      const now = realClock();
      let launched = 0;
      // 300 ops over 1.5 s: the thread is up within ~0.1 s (0.3 s on a loaded machine); from then on each op has its tick.
      await runOpenLoop(200, 0, 1500, { launch: async () => void launched++, now, signal: new AbortController().signal }, () => {}, 'thread');
      expect(launched).toBe(300);
      expect(close).toHaveBeenCalledTimes(1);
      const thread = close.mock.contexts[0] as TimerThread;
      expect(thread.ticks).toBeGreaterThan(75);
      expect(thread.ticks).toBeLessThanOrEqual(300);
    } finally {
      close.mockRestore();
    }
  });

  it('starts no thread above 10,000 ops/s: it spins there', async () => {
    const close = vi.spyOn(TimerThread.prototype, 'close');
    try {
      const now = realClock();
      const rate = 1000 / THREAD_MIN_INTERVAL_MS + 1;
      await runOpenLoop(rate, 0, 50, { launch: async () => {}, now, signal: new AbortController().signal }, () => {}, 'thread');
      expect(close).not.toHaveBeenCalled();
    } finally {
      close.mockRestore();
    }
  });

  it('lets the process exit by itself after the loop ends or is aborted: no thread left to keep it alive', async () => {
    const load = new URL('./load.ts', import.meta.url).href;
    const script = `
      import { runOpenLoop } from ${JSON.stringify(load)};
      const origin = performance.now();
      const now = () => performance.now() - origin;
      const abort = new AbortController();
      await runOpenLoop(1000, 0, 300, { launch: async () => {}, now, signal: new AbortController().signal }, () => {}, 'thread');
      setTimeout(() => abort.abort(), 300);
      await runOpenLoop(1000, 0, 60_000, { launch: async () => {}, now, signal: abort.signal }, () => {}, 'thread');
      console.log('done', performance.now() - origin);
    `;
    const started = performance.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 });
    expect(stdout).toMatch(/^done /);
    // The process ended soon after its last line, not when a timer or the 60 s run would have.
    const doneAt = Number(stdout.split(' ')[1]);
    expect(performance.now() - started).toBeLessThan(doneAt + 10_000);
  });
});

describe('closed loop', () => {
  it('keeps `concurrency` ops in flight and yields to timers even when ops never wait', async () => {
    const origin = performance.now();
    let inFlight = 0;
    let maxInFlight = 0;
    let timerFired = false;
    setTimeout(() => (timerFired = true), 10);
    await runClosedLoop(8, 60, {
      now: () => performance.now() - origin,
      signal: new AbortController().signal,
      launch: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await Promise.resolve();
        inFlight--;
      },
    });
    expect(maxInFlight).toBe(8);
    expect(timerFired).toBe(true);
  });
});
