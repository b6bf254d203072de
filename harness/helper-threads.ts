/**
 * The threads a load engine starts beside its own: the open loop's timer thread (timer-thread.ts,
 * while an open loop with the `thread` scheduler runs) and the history writer (history-file.ts, for
 * the engine's whole life). Each publishes its OS thread id into a slot of a shared Int32Array, 0
 * while none runs (or without /proc), so that the footprint, read in the main thread, finds the
 * helpers of an engine in a worker thread without a message per change.
 */
export const HELPER_THREADS = ['timer thread', 'history writer'] as const;
export type HelperThreadKind = (typeof HELPER_THREADS)[number];

export interface HelperThread {
  thread: HelperThreadKind;
  tid: number;
}

/** A slot of an engine's helper ids, as another thread (a writer worker) receives it in its workerData. */
export interface OsThreadIdSlot {
  buffer: SharedArrayBuffer;
  index: number;
}

export function createHelperThreadIds(): SharedArrayBuffer {
  return new SharedArrayBuffer(HELPER_THREADS.length * Int32Array.BYTES_PER_ELEMENT);
}

export function helperThreadSlot(buffer: SharedArrayBuffer, kind: HelperThreadKind): OsThreadIdSlot {
  return { buffer, index: HELPER_THREADS.indexOf(kind) };
}

export function publishOsThreadId(slot: OsThreadIdSlot, tid: number | undefined): void {
  Atomics.store(new Int32Array(slot.buffer), slot.index, tid ?? 0);
}

export function readOsThreadId(slot: OsThreadIdSlot): number | undefined {
  return Atomics.load(new Int32Array(slot.buffer), slot.index) || undefined;
}

/** The helpers running now, with their OS ids. */
export function runningHelperThreads(buffer: SharedArrayBuffer): HelperThread[] {
  return HELPER_THREADS.flatMap((thread) => {
    const tid = readOsThreadId(helperThreadSlot(buffer, thread));
    return tid === undefined ? [] : [{ thread, tid }];
  });
}
