import { closeSync, openSync, writeSync } from 'node:fs';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type OsThreadIdSlot, publishEnded, publishOsThreadId } from './helper-threads.ts';
import type { Op } from './history.ts';
import { type LineSink, type RingBuffers, RingConsumer } from './history-ring.ts';
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

export type HistoryWriterReply = { type: 'done'; count: number } | { type: 'failed'; error: string };

const CHUNK_BYTES = 65_536;
/** How long the thread sleeps when the ring is empty before it looks again (the engine wakes it sooner when the ring fills). */
const IDLE_MS = 10;

/**
 * The history writer thread: drains the ring the engine fills, encodes each op as its NDJSON line
 * (history-line.ts, as the in-thread HistoryWriter does) into 64 KiB chunks and writes them with
 * plain blocking writes: this thread has nothing else to do. It returns when the engine has closed
 * the ring and every op in it is on disk.
 */
function main(): void {
  const data = workerData as HistoryWriterData;
  const tid = currentOsThreadId();
  publishOsThreadId(data.osThreadId, tid);
  const consumer = new RingConsumer(data.buffers, () => receiveLarge(data.large));
  let fd: number | undefined;
  let count = 0;
  try {
    fd = openSync(data.path, 'w');
    const out = fd;
    const writeAll = (bytes: Buffer, end: number) => {
      let at = 0;
      while (at < end) at += writeSync(out, bytes, at, end - at);
    };
    const sink: LineSink = {
      buffer: Buffer.allocUnsafeSlow(CHUNK_BYTES),
      used: 0,
      flush() {
        writeAll(this.buffer, this.used);
        this.used = 0;
      },
      writeLine: (line) => writeAll(line, line.length),
    };
    for (;;) {
      const drained = consumer.drain(sink, IDLE_MS);
      count += drained;
      if (drained > 0) continue;
      if (consumer.finished) break;
      // Idle: what is encoded goes to disk now, so a quiet run's file is current.
      sink.flush();
    }
    sink.flush();
    closeSync(fd);
    fd = undefined;
    parentPort!.postMessage({ type: 'done', count } satisfies HistoryWriterReply);
  } catch (error) {
    consumer.fail();
    if (fd !== undefined) closeSync(fd);
    parentPort!.postMessage({ type: 'failed', error: (error as Error).message } satisfies HistoryWriterReply);
  } finally {
    data.large.close();
    publishEnded(data.osThreadId, tid, osThreadTicks(tid));
  }
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
