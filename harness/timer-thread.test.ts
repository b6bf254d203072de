import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { monotonicMs, TimerThread } from './timer-thread.ts';

async function readyThread(onWake: () => void, onError: (error: Error) => void = (e) => expect.fail(e.message)): Promise<TimerThread> {
  const thread = new TimerThread(onWake, onError);
  // Starting a thread takes tens of milliseconds, more on a loaded machine.
  const deadline = performance.now() + 10_000;
  while (!thread.ready && performance.now() < deadline) await sleep(5);
  expect(thread.ready).toBe(true);
  return thread;
}

describe('timer thread', () => {
  it('wakes this thread once per deadline, never before it', async () => {
    const wakes: number[] = [];
    const thread = await readyThread(() => wakes.push(monotonicMs()));
    try {
      for (const inMs of [0.3, 1, 3]) {
        const deadline = monotonicMs() + inMs;
        const before = wakes.length;
        thread.wakeAt(deadline);
        while (wakes.length === before) await new Promise((resolve) => setImmediate(resolve));
        expect(wakes.at(-1)!).toBeGreaterThanOrEqual(deadline);
      }
      await sleep(20);
      expect(wakes.length).toBe(3);
    } finally {
      await thread.close();
    }
  });

  it('a new deadline replaces the one it was waiting for', async () => {
    let wakes = 0;
    const thread = await readyThread(() => wakes++);
    try {
      thread.wakeAt(monotonicMs() + 200);
      const soon = monotonicMs() + 5;
      thread.wakeAt(soon);
      while (wakes === 0) await sleep(1);
      expect(monotonicMs()).toBeLessThan(soon + 150);
      await sleep(300);
      expect(wakes).toBe(1);
    } finally {
      await thread.close();
    }
  });

  it('a deadline already past wakes at once', async () => {
    let wakes = 0;
    const thread = await readyThread(() => wakes++);
    try {
      thread.wakeAt(monotonicMs() - 10);
      while (wakes === 0) await sleep(1);
      expect(wakes).toBe(1);
    } finally {
      await thread.close();
    }
  });

  it('knows its OS thread (for its CPU time), which is not this one', async () => {
    const thread = await readyThread(() => {});
    try {
      if (process.platform === 'linux') {
        expect(thread.osThreadId).toBeGreaterThan(0);
        expect(thread.osThreadId).not.toBe(process.pid);
        expect(TimerThread.runningOsThreadIds()).toEqual([thread.osThreadId]);
      }
    } finally {
      await thread.close();
    }
    expect(thread.ready).toBe(false);
    expect(TimerThread.runningOsThreadIds()).toEqual([]);
  });

  it('close() leaves nothing behind, even while it waits or is still starting, and may be called twice', async () => {
    const errors: Error[] = [];
    const starting = new TimerThread(
      () => {},
      (e) => errors.push(e),
    );
    await Promise.all([starting.close(), starting.close()]);
    const waiting = await readyThread(() => {});
    waiting.wakeAt(monotonicMs() + 60_000);
    await waiting.close();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker')).toEqual([]);
    expect(errors).toEqual([]);
  });
});
