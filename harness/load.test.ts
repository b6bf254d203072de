import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runClosedLoop, runOpenLoop } from './load.ts';

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
