import { once } from 'node:events';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';

/** The worker's source: plain JavaScript, the same file from sources and from dist (the build copies it). */
const WORKER_URL = new URL('./timer-thread-worker.js', import.meta.url);

// Slots of the shared Int32Array, as in timer-thread-worker.js.
const SEQUENCE = 0;
const STOP = 1;
const OS_THREAD_ID = 2;
/** The worker's first message: it is about to wait on the shared memory. Wake-ups are numbers. */
const READY = 'ready';

/** The clock both threads read: CLOCK_MONOTONIC, one for the whole process (performance.now() has an origin per thread). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * A thread that sleeps until a deadline with sub-millisecond precision and then wakes this thread's
 * event loop. libuv's timers count whole milliseconds (a setTimeout to a due time leaves ~0.7 ms
 * late on average), and staying awake to be on time costs a core; Atomics.wait in a thread of its
 * own sleeps in the kernel to within its timer slack (~50 us on Linux). The wake-up crosses over on a
 * MessagePort: measured against Atomics.notify + Atomics.waitAsync in this thread, both wake the
 * loop in ~15 us (p50) for the same CPU, but a pending waitAsync does not keep Node's event loop
 * alive and costs a promise per wait, while a port with a listener keeps it alive as long as it is open.
 */
export class TimerThread {
  /** Those of this thread not yet closed. */
  static readonly #open = new Set<TimerThread>();
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #control: Int32Array;
  readonly #deadline: Float64Array;
  #ready = false;
  /** The sequence number of the deadline this thread waits for; -1: none. */
  #awaited = -1;
  #closed: Promise<void> | undefined;

  /** `onWake`: the deadline set by the last wakeAt has passed. `onError`: the thread failed or exited before close(). */
  constructor(onWake: () => void, onError: (error: Error) => void) {
    const shared = new SharedArrayBuffer(24);
    this.#control = new Int32Array(shared, 0, 3);
    this.#deadline = new Float64Array(shared, 16, 1);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.on('message', (sequence: number | typeof READY) => {
      if (sequence === READY) this.#ready = true;
      else if (sequence === this.#awaited) {
        this.#awaited = -1;
        onWake();
      }
    });
    // execArgv: [] so that it does not inherit the TypeScript loader (`--import tsx`): it needs none, and loading it took ~100 ms.
    this.#worker = new Worker(WORKER_URL, { workerData: { shared, port: port2 }, transferList: [port2], execArgv: [] });
    // The open port keeps the event loop alive while the load loop waits; the thread itself never
    // should, even if a caller forgot close().
    this.#worker.unref();
    TimerThread.#open.add(this);
    this.#worker.on('error', (error) => {
      if (!this.#closed) onError(error);
    });
    this.#worker.on('exit', (code) => {
      if (!this.#closed) onError(new Error(`the open loop's timer thread exited (code ${code})`));
    });
  }

  /** The OS ids of the timer threads this thread has running (ready, not closed): for their CPU time, as the footprint reads the generators'. */
  static runningOsThreadIds(): number[] {
    return [...TimerThread.#open].flatMap((t) => t.osThreadId ?? []);
  }

  /** False until the thread is waiting: starting one takes some milliseconds. */
  get ready(): boolean {
    return this.#ready && !this.#closed;
  }

  /** The thread's OS id, for its CPU time in /proc/self/task/<tid>/stat; undefined before ready or without /proc. */
  get osThreadId(): number | undefined {
    return this.ready ? Atomics.load(this.#control, OS_THREAD_ID) || undefined : undefined;
  }

  /** Wake at `deadlineMs` (monotonicMs clock), replacing any earlier deadline. */
  wakeAt(deadlineMs: number): void {
    this.#deadline[0] = deadlineMs;
    // The deadline is written before the sequence number moves: a thread that reads the new number reads the new deadline.
    this.#awaited = Atomics.add(this.#control, SEQUENCE, 1) + 1;
    Atomics.notify(this.#control, SEQUENCE);
  }

  /** Stops the thread and waits until it is gone. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      TimerThread.#open.delete(this);
      this.#awaited = -1;
      Atomics.store(this.#control, STOP, 1);
      Atomics.notify(this.#control, SEQUENCE);
      // A port closes on a later turn of the event loop: wait for it too, so that nothing of ours is left once this resolves.
      const portClosed = once(this.#port, 'close');
      this.#port.close();
      await Promise.all([portClosed, this.#worker.terminate()]);
    })();
    return this.#closed;
  }
}
