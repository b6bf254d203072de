// The open loop's timer thread (see timer-thread.ts). Plain JavaScript with no imports of ours, so
// that it starts in a few milliseconds from sources and from dist alike: no TypeScript loader.
import { readlinkSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const { shared, port } = workerData;
const control = new Int32Array(shared, 0, 3);
const deadline = new Float64Array(shared, 16, 1);
// Slots of `control`, shared with timer-thread.ts.
const SEQUENCE = 0;
const STOP = 1;
const OS_THREAD_ID = 2;

const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

// For its CPU time in /proc/self/task/<tid>/stat; 0 where there is no /proc.
let osThreadId = 0;
try {
  osThreadId = Number(readlinkSync('/proc/thread-self').split('/').pop()) || 0;
} catch {}
Atomics.store(control, OS_THREAD_ID, osThreadId);
port.postMessage('ready');

// Atomics.wait blocks this thread only: it sleeps in the kernel until the deadline (sub-millisecond
// timeouts, unlike libuv's millisecond timers) or until the load loop moves the deadline (a new
// sequence number), and fires each sequence number at most once.
let firedSequence = -1;
while (Atomics.load(control, STOP) === 0) {
  const sequence = Atomics.load(control, SEQUENCE);
  if (sequence === firedSequence) {
    Atomics.wait(control, SEQUENCE, sequence);
    continue;
  }
  const remainingMs = deadline[0] - monotonicMs();
  if (remainingMs > 0) {
    Atomics.wait(control, SEQUENCE, sequence, remainingMs);
    continue;
  }
  firedSequence = sequence;
  port.postMessage(sequence);
}
port.close();
