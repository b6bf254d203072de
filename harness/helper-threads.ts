/**
 * The threads a load engine starts beside its own: the open loop's timer thread (timer-thread.ts,
 * while an open loop with the `thread` scheduler runs) and the history writer (history-file.ts, for
 * the engine's whole life). Each publishes its OS thread id into a slot of a shared Int32Array, 0
 * while none runs (or without /proc), so that the footprint, read in the main thread, finds the
 * helpers of an engine in a worker thread without a message per change.
 *
 * A helper that ends leaves its last CPU reading beside its id: the timer thread closes with the
 * load loop, a moment before the footprint's last reading, and without it its CPU after the
 * footprint's previous reading (up to a second of it) would be lost.
 */
export const HELPER_THREADS = ['timer thread', 'history writer'] as const;
export type HelperThreadKind = (typeof HELPER_THREADS)[number];

export interface HelperThread {
  thread: HelperThreadKind;
  tid: number;
}

/** A helper that has ended: its id and its CPU ticks (utime + stime) as it ended. */
export interface EndedHelperThread extends HelperThread {
  finalTicks: number;
}

/** Per helper: the running id, then the id and CPU ticks of the last one that ended. */
const SLOT_INTS = 3;
const RUNNING = 0;
const ENDED_TID = 1;
const ENDED_TICKS = 2;

/** A helper's slot, as another thread (a writer worker) receives it in its workerData. */
export interface OsThreadIdSlot {
  buffer: SharedArrayBuffer;
  index: number;
}

export function createHelperThreadIds(): SharedArrayBuffer {
  return new SharedArrayBuffer(HELPER_THREADS.length * SLOT_INTS * Int32Array.BYTES_PER_ELEMENT);
}

/** A slot nobody reads: for a helper started outside an engine (tests, tools). */
export function ownHelperSlot(): OsThreadIdSlot {
  return { buffer: new SharedArrayBuffer(SLOT_INTS * Int32Array.BYTES_PER_ELEMENT), index: 0 };
}

export function helperThreadSlot(buffer: SharedArrayBuffer, kind: HelperThreadKind): OsThreadIdSlot {
  return { buffer, index: HELPER_THREADS.indexOf(kind) * SLOT_INTS };
}

/** The helper runs as `tid` (undefined without /proc). */
export function publishOsThreadId(slot: OsThreadIdSlot, tid: number | undefined): void {
  Atomics.store(new Int32Array(slot.buffer), slot.index + RUNNING, tid ?? 0);
}

/**
 * The helper has ended (or is about to, doing nothing more): `finalTicks` is its CPU as it ended,
 * stored before the id is cleared, so a reader that sees it gone finds them.
 */
export function publishEnded(slot: OsThreadIdSlot, tid: number | undefined, finalTicks: number | undefined): void {
  const ints = new Int32Array(slot.buffer);
  if (tid !== undefined && finalTicks !== undefined) {
    Atomics.store(ints, slot.index + ENDED_TICKS, finalTicks);
    Atomics.store(ints, slot.index + ENDED_TID, tid);
  }
  Atomics.store(ints, slot.index + RUNNING, 0);
}

export function readOsThreadId(slot: OsThreadIdSlot): number | undefined {
  return Atomics.load(new Int32Array(slot.buffer), slot.index + RUNNING) || undefined;
}

/** The helpers running now, with their OS ids. */
export function runningHelperThreads(buffer: SharedArrayBuffer): HelperThread[] {
  return HELPER_THREADS.flatMap((thread) => {
    const tid = readOsThreadId(helperThreadSlot(buffer, thread));
    return tid === undefined ? [] : [{ thread, tid }];
  });
}

/** The last helper of each kind that ended, with its CPU as it ended. */
export function endedHelperThreads(buffer: SharedArrayBuffer): EndedHelperThread[] {
  const ints = new Int32Array(buffer);
  return HELPER_THREADS.flatMap((thread) => {
    const { index } = helperThreadSlot(buffer, thread);
    const tid = Atomics.load(ints, index + ENDED_TID);
    return tid === 0 ? [] : [{ thread, tid, finalTicks: Atomics.load(ints, index + ENDED_TICKS) }];
  });
}

/** What the footprint asks of an engine at each reading: its helpers running now and the last of each that ended. */
export interface HelperThreads {
  running: HelperThread[];
  ended: EndedHelperThread[];
}

export function helperThreadsOf(buffer: SharedArrayBuffer): HelperThreads {
  return { running: runningHelperThreads(buffer), ended: endedHelperThreads(buffer) };
}
