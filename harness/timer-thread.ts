import { once } from 'node:events';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { osThreadTicks } from './proc-stat.ts';

/** A helper thread is up (its OS id), or has ended (undefined, with its id and CPU ticks as it ended). */
export type OnHelperRunning = (osThreadId: number | undefined, ended?: { tid: number | undefined; finalTicks: number | undefined }) => void;

/** The worker's source: plain JavaScript, the same file from sources and from dist (the build copies it). */
const WORKER_URL = new URL('./timer-thread-worker.js', import.meta.url);

// Slots of the shared Int32Array, as in timer-thread-worker.js.
const STOP = 0;
const OS_THREAD_ID = 1;
/** The worker's first message: it is about to wait for the first due time. Ticks are numbers. */
const READY = 'ready';

/** The clock both threads read: CLOCK_MONOTONIC, one for the whole process (performance.now() has an origin per thread). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * A thread that ticks at every due time of an open loop (firstDueMs + i * intervalMs, monotonicMs
 * clock) and so wakes this thread's event loop when an op is due, to within ~0.1 ms, without
 * keeping it busy in between. libuv's timers count whole milliseconds (a setTimeout to a due time
 * leaves ~0.7 ms late on average), and staying awake to be on time costs a core; Atomics.wait in a
 * thread of its own sleeps in the kernel to within its timer slack.
 *
 * The thread knows the schedule, so the loop tells it nothing per op: a wake-up costs two (this
 * thread's and the timer thread's), where a deadline handed over per op cost a third (measured:
 * ~20% more CPU). The tick crosses over on a MessagePort: measured against Atomics.notify +
 * Atomics.waitAsync in this thread, both wake the loop in ~15 us (p50) for the same CPU, but a
 * pending waitAsync does not keep Node's event loop alive and costs a promise per wait, while a port
 * with a listener keeps it alive as long as it is open.
 */
export class TimerThread {
  /** Those of this thread not yet closed. */
  static readonly #open = new Set<TimerThread>();
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #control: Int32Array;
  #ready = false;
  #closed: Promise<void> | undefined;
  readonly #onRunning: OnHelperRunning | undefined;
  /** Ticks received so far. */
  ticks = 0;

  /**
   * `onTick`: a due time has passed (one tick for several when the thread was late for them).
   * `onError`: the thread failed or exited before close().
   * `onRunning`: the thread is up (its OS id; undefined without /proc), then closed (undefined, with
   * its id and CPU ticks as it stopped): for the footprint, as osThreadId.
   */
  constructor(firstDueMs: number, intervalMs: number, onTick: () => void, onError: (error: Error) => void, onRunning?: OnHelperRunning) {
    this.#onRunning = onRunning;
    const shared = new SharedArrayBuffer(8);
    this.#control = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.on('message', (message: number | typeof READY) => {
      if (message === READY) {
        this.#ready = true;
        if (!this.#closed) this.#onRunning?.(this.osThreadId);
      } else if (!this.#closed) {
        this.ticks++;
        onTick();
      }
    });
    // execArgv: [] so that it does not inherit the TypeScript loader (`--import tsx`): it needs none, and loading it took ~100 ms.
    this.#worker = new Worker(WORKER_URL, { workerData: { shared, port: port2, firstDueMs, intervalMs }, transferList: [port2], execArgv: [] });
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

  /** False until the thread ticks: starting one takes some milliseconds. From then on, every due time gets a tick. */
  get ready(): boolean {
    return this.#ready && !this.#closed;
  }

  /** The thread's OS id, for its CPU time in /proc/self/task/<tid>/stat; undefined before ready or without /proc. */
  get osThreadId(): number | undefined {
    return this.ready ? Atomics.load(this.#control, OS_THREAD_ID) || undefined : undefined;
  }

  /** Stops the thread and waits until it is gone. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      TimerThread.#open.delete(this);
      if (this.#ready) {
        // Read before it stops: once gone, its CPU is only in the process total.
        const tid = this.osThreadId;
        this.#onRunning?.(undefined, { tid, finalTicks: osThreadTicks(tid) });
      }
      Atomics.store(this.#control, STOP, 1);
      Atomics.notify(this.#control, STOP);
      // A port closes on a later turn of the event loop: wait for it too, so that nothing of ours is left once this resolves.
      const portClosed = once(this.#port, 'close');
      this.#port.close();
      await Promise.all([portClosed, this.#worker.terminate()]);
    })();
    return this.#closed;
  }
}
