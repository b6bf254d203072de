import { closeSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type OsThreadIdSlot, publishEnded, publishOsThreadId } from './helper-threads.ts';
import type { Op } from './history.ts';
import { HistoryDrain, type LineSink, type RingBuffers, type SpillStore } from './history-ring.ts';
import { currentOsThreadId, osThreadTicks } from './proc-stat.ts';

/** What ThreadedHistoryWriter (history-file.ts) starts this thread with. */
export interface HistoryWriterData {
  path: string;
  buffers: RingBuffers;
  /** Ops too long for the ring, in the order their headers come. */
  large: MessagePort;
  /** Where this thread publishes its OS id while it runs, for its CPU time in the footprint. */
  osThreadId: OsThreadIdSlot;
}

/** `started`: the file is open and the thread drains the ring from now on (the engine's load waits for it). */
export type HistoryWriterReply = { type: 'started' } | { type: 'done'; count: number } | { type: 'failed'; error: string };

const CHUNK_BYTES = 65_536;
/** How long the thread sleeps when the ring is empty before it looks again (the engine wakes it sooner when the ring fills). */
const IDLE_MS = 10;

/**
 * The history writer thread: drains the ring the engine fills into the NDJSON history (HistoryDrain,
 * history-ring.ts; lines as the in-thread HistoryWriter writes them) in 64 KiB chunks, with plain
 * blocking writes: this thread has nothing else to do. While it is behind, the records it copies out
 * wait in `<history>.spill`, which is emptied as it catches up and removed at the end. It returns
 * when the engine has closed the ring and every op in it is on disk.
 */
function main(): void {
  const data = workerData as HistoryWriterData;
  const tid = currentOsThreadId();
  publishOsThreadId(data.osThreadId, tid);
  const spillPath = `${data.path}.spill`;
  let out: number | undefined;
  let spillFd: number | undefined;
  const closeFiles = () => {
    if (out !== undefined) closeSync(out);
    if (spillFd !== undefined) {
      closeSync(spillFd);
      rmSync(spillPath, { force: true });
    }
    out = spillFd = undefined;
  };
  const sink: LineSink = {
    buffer: Buffer.allocUnsafeSlow(CHUNK_BYTES),
    used: 0,
    flush() {
      writeAll(out!, this.buffer, 0, this.used);
      this.used = 0;
    },
    writeLine: (line) => writeAll(out!, line, 0, line.length),
  };
  const store: SpillStore = {
    write(bytes, from, to, position) {
      spillFd ??= openSync(spillPath, 'w+');
      writeAll(spillFd, bytes, from, to, position);
    },
    read(into, from, to, position) {
      let at = from;
      while (at < to) {
        const n = readSync(spillFd!, into, at, to - at, position + at - from);
        if (n === 0) throw new Error(`the spill file ${spillPath} ended early`);
        at += n;
      }
    },
    clear: () => {
      if (spillFd !== undefined) ftruncateSync(spillFd, 0);
    },
  };
  // Made first: a file that cannot be opened must still stop the engine waiting for room.
  const drain = new HistoryDrain(data.buffers, () => receiveLarge(data.large), store, sink);
  try {
    out = openSync(data.path, 'w');
    parentPort!.postMessage({ type: 'started' } satisfies HistoryWriterReply);
    for (;;) {
      const written = drain.step(IDLE_MS);
      if (written < 0) break;
      // Idle: what is encoded goes to disk now, so a quiet run's file is current.
      if (written === 0) sink.flush();
    }
    sink.flush();
    if (drain.written !== drain.taken) throw new Error(`${drain.taken} ops taken from the ring, ${drain.written} written`);
    closeFiles();
    parentPort!.postMessage({ type: 'done', count: drain.taken } satisfies HistoryWriterReply);
  } catch (error) {
    drain.fail();
    closeFiles();
    parentPort!.postMessage({ type: 'failed', error: (error as Error).message } satisfies HistoryWriterReply);
  } finally {
    data.large.close();
    publishEnded(data.osThreadId, tid, osThreadTicks(tid));
  }
}

/** bytes[from, to) at the file's position, or at `position` when given. */
function writeAll(fd: number, bytes: Uint8Array, from: number, to: number, position?: number): void {
  let at = from;
  while (at < to) at += writeSync(fd, bytes, at, to - at, position === undefined ? null : position + at - from);
}

/** The producer posts the op before it publishes its header; wait for delivery all the same rather than assume it. */
function receiveLarge(port: MessagePort): Op {
  const wait = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const received = receiveMessageOnPort(port);
    if (received) return received.message as Op;
    Atomics.wait(wait, 0, 0, 1);
  }
}

main();
