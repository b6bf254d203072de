import { setTimeout as sleep } from 'node:timers/promises';
import { WaitTimeoutError } from '../core/errors.ts';

export interface WaitOptions {
  timeoutMs: number;
  /** How often to look again. Polling observes state; it never stands in for a fixed sleep. */
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Polls `check` until it returns `{ done: true }`. `check` reports what it saw each time, so a
 * timeout says what was awaited, the limit, and the last observation.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<{ done: boolean; seen: string }>,
  { timeoutMs, intervalMs = 25, signal }: WaitOptions,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let seen = 'nothing yet';
  for (;;) {
    signal?.throwIfAborted();
    try {
      const result = await check();
      if (result.done) return;
      seen = result.seen;
    } catch (error) {
      seen = error instanceof Error ? error.message : String(error);
    }
    if (performance.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs, seen);
    await sleep(intervalMs, undefined, signal ? { signal } : undefined);
  }
}
