import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { monotonicMs, TimerThread } from './timer-thread.ts';

const failOnError = (error: Error) => expect.fail(error.message);

async function untilReady(thread: TimerThread): Promise<void> {
  // Starting a thread takes tens of milliseconds, more on a loaded machine.
  const deadline = performance.now() + 10_000;
  while (!thread.ready && performance.now() < deadline) await sleep(5);
  expect(thread.ready).toBe(true);
}

function ourHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker');
}

describe('timer thread', () => {
  it('ticks at every due time from when it is up, never before one', async () => {
    const first = monotonicMs() + 300;
    const interval = 2;
    const ticks: number[] = [];
    const thread = new TimerThread(first, interval, () => ticks.push(monotonicMs()), failOnError);
    try {
      await untilReady(thread);
      while (ticks.length < 50) await new Promise((resolve) => setImmediate(resolve));
      expect(thread.ticks).toBe(ticks.length);
      // Each tick comes after a due time it had not ticked for: the k-th no earlier than the k-th due time.
      ticks.forEach((at, k) => {
        expect(at).toBeGreaterThanOrEqual(first + k * interval);
      });
      // ...and no more ticks than due times (one tick may stand for several when it was late).
      expect(ticks.length).toBeLessThanOrEqual(Math.floor((monotonicMs() - first) / interval) + 1);
    } finally {
      await thread.close();
    }
  });

  it('does not tick for the due times that passed before it started', async () => {
    const created = monotonicMs();
    const interval = 1;
    const ticks: number[] = [];
    // 100 due times have passed already.
    const thread = new TimerThread(created - 100, interval, () => ticks.push(monotonicMs()), failOnError);
    try {
      await untilReady(thread);
      while (ticks.length < 20) await sleep(1);
      expect(ticks.length).toBeLessThanOrEqual(Math.floor((monotonicMs() - created) / interval) + 1);
    } finally {
      await thread.close();
    }
  });

  it('knows its OS thread (for its CPU time), which is not this one, and tells its owner while it runs and, with its CPU, as it stops', async () => {
    const told: (number | undefined)[] = [];
    const ended: { tid: number | undefined; finalTicks: number | undefined }[] = [];
    const thread = new TimerThread(
      monotonicMs(),
      10,
      () => {},
      failOnError,
      (tid, end) => {
        told.push(tid);
        if (end) ended.push(end);
      },
    );
    try {
      await untilReady(thread);
      if (process.platform === 'linux') {
        expect(thread.osThreadId).toBeGreaterThan(0);
        expect(thread.osThreadId).not.toBe(process.pid);
        expect(TimerThread.runningOsThreadIds()).toEqual([thread.osThreadId]);
      }
      expect(told).toEqual([thread.osThreadId]);
    } finally {
      await thread.close();
    }
    expect(thread.ready).toBe(false);
    expect(TimerThread.runningOsThreadIds()).toEqual([]);
    expect(told.at(-1)).toBeUndefined();
    expect(told).toHaveLength(2);
    expect(ended).toEqual([{ tid: told[0], finalTicks: process.platform === 'linux' ? expect.any(Number) : undefined }]);
  });

  it('close() stops the ticks and leaves nothing behind, whether it is still starting or waiting, and may be called twice', async () => {
    const errors: Error[] = [];
    const starting = new TimerThread(
      monotonicMs(),
      1,
      () => {},
      (e) => errors.push(e),
    );
    await Promise.all([starting.close(), starting.close()]);
    let ticks = 0;
    const waiting = new TimerThread(
      monotonicMs() + 60_000,
      60_000,
      () => ticks++,
      (e) => errors.push(e),
    );
    await untilReady(waiting);
    await waiting.close();
    const ticking = new TimerThread(
      monotonicMs(),
      1,
      () => ticks++,
      (e) => errors.push(e),
    );
    await untilReady(ticking);
    await sleep(20);
    await ticking.close();
    const afterClose = ticks;
    await sleep(20);
    expect(ticks).toBe(afterClose);
    expect(ourHandles()).toEqual([]);
    expect(errors).toEqual([]);
  });
});
