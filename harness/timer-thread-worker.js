// The open loop's timer thread (see timer-thread.ts). Plain JavaScript with no imports of ours, so
// that it starts in a few milliseconds from sources and from dist alike: no TypeScript loader.
import { readlinkSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const { shared, port, firstDueMs, intervalMs } = workerData;
const control = new Int32Array(shared, 0, 2);
// Slots of `control`, shared with timer-thread.ts.
const STOP = 0;
const OS_THREAD_ID = 1;

const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

// For its CPU time in /proc/self/task/<tid>/stat; 0 where there is no /proc.
let osThreadId = 0;
try {
  osThreadId = Number(readlinkSync('/proc/thread-self').split('/').pop()) || 0;
} catch {}
Atomics.store(control, OS_THREAD_ID, osThreadId);

// The first due time from now on, counted before saying ready: an op the loop waits for once it
// knows the thread is up is due after this, so it gets its tick.
let tick = Math.max(0, Math.ceil((monotonicMs() - firstDueMs) / intervalMs));
port.postMessage('ready');

// Atomics.wait blocks this thread only: it sleeps in the kernel until the due time, to within the
// timer slack (~50 us on Linux), where libuv's timers count whole milliseconds. Only a stop wakes it
// earlier.
while (Atomics.load(control, STOP) === 0) {
  const now = monotonicMs();
  const remainingMs = firstDueMs + tick * intervalMs - now;
  if (remainingMs > 0) {
    Atomics.wait(control, STOP, 0, remainingMs);
    continue;
  }
  port.postMessage(tick);
  // Woken after later due times too (descheduled): this one tick, sent after all of them, stands for
  // them all (the load loop launches whatever is due). Counted from `now`, not from after the post,
  // or a due time passing during the post would get no tick.
  tick = Math.max(tick + 1, Math.floor((now - firstDueMs) / intervalMs) + 1);
}
port.close();
