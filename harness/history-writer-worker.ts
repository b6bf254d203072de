import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type OsThreadIdSlot, publishEnded, publishOsThreadId } from './helper-threads.ts';
import type { Op } from './history.ts';
import { encodeOpLine, opLineBound } from './history-line.ts';
import { createRingBuffers, type LineSink, type RingBuffers, RingConsumer, type SpillSink } from './history-ring.ts';
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
 * The history writer thread. While the engine runs, it copies the ring's records to a spill file
 * beside the history (`<history>.spill`; ops too long for the ring, as their lines, to
 * `<history>.spill-large`): a walk over headers and a plain blocking write per 64 KiB, a few percent
 * of what encoding the lines cost, which left the engine waiting for this thread at high rates. When
 * the engine has closed the ring, it encodes the copy as the NDJSON history (history-line.ts, as the
 * in-thread HistoryWriter does), removes the spill files and returns. The history file is created
 * at the start, so a path that cannot be written fails at once, and is complete when `close` returns.
 */
function main(): void {
  const data = workerData as HistoryWriterData;
  const tid = currentOsThreadId();
  publishOsThreadId(data.osThreadId, tid);
  let published = false;
  const publishCpu = () => {
    if (published) return;
    published = true;
    publishEnded(data.osThreadId, tid, osThreadTicks(tid));
  };
  const consumer = new RingConsumer(data.buffers, () => receiveLarge(data.large));
  const spillPath = `${data.path}.spill`;
  const largePath = `${data.path}.spill-large`;
  const open: number[] = [];
  const openFile = (path: string, flags: string) => {
    const fd = openSync(path, flags);
    open.push(fd);
    return fd;
  };
  const closeAll = () => {
    for (const fd of open.splice(0)) closeSync(fd);
  };
  try {
    const out = openFile(data.path, 'w');
    const spillFd = openFile(spillPath, 'w+');
    let largeFd: number | undefined;
    const spill: SpillSink = {
      write: (bytes, from, to) => writeAll(spillFd, bytes, from, to),
      large(op) {
        largeFd ??= openFile(largePath, 'w+');
        const line = Buffer.allocUnsafe(4 + opLineBound(op));
        const end = encodeOpLine(op, line, 4);
        line.writeUInt32LE(end - 4, 0);
        writeAll(largeFd, line, 0, end);
      },
    };
    let count = 0;
    while (!consumer.finished) count += consumer.spill(spill, IDLE_MS);
    // The run's share of this thread ends here: what follows comes after the load, as the checks do.
    publishCpu();
    const sink: LineSink = {
      buffer: Buffer.allocUnsafeSlow(CHUNK_BYTES),
      used: 0,
      flush() {
        writeAll(out, this.buffer, 0, this.used);
        this.used = 0;
      },
      writeLine: (line) => writeAll(out, line, 0, line.length),
    };
    const replayer = new RingConsumer(createRingBuffers(data.buffers.data.byteLength), () => {
      throw new Error('a spilled op too long for the ring is read from its own file');
    });
    let spillAt = 0;
    let largeAt = 0;
    const replayed = replayer.replay(
      (into) => {
        const n = readAll(spillFd, into, spillAt);
        spillAt += n;
        return n;
      },
      () => {
        const length = Buffer.alloc(4);
        readAll(largeFd!, length, largeAt);
        const line = Buffer.allocUnsafe(length.readUInt32LE(0));
        readAll(largeFd!, line, largeAt + 4);
        largeAt += 4 + line.length;
        return line;
      },
      sink,
    );
    sink.flush();
    if (replayed !== count) throw new Error(`the spill file gave back ${replayed} ops of ${count}`);
    closeAll();
    rmSync(spillPath, { force: true });
    rmSync(largePath, { force: true });
    parentPort!.postMessage({ type: 'done', count } satisfies HistoryWriterReply);
  } catch (error) {
    consumer.fail();
    closeAll();
    rmSync(spillPath, { force: true });
    rmSync(largePath, { force: true });
    parentPort!.postMessage({ type: 'failed', error: (error as Error).message } satisfies HistoryWriterReply);
  } finally {
    data.large.close();
    publishCpu();
  }
}

function writeAll(fd: number, bytes: Uint8Array, from: number, to: number): void {
  let at = from;
  while (at < to) at += writeSync(fd, bytes, at, to - at);
}

/** Fills `into` from `position` on; fewer bytes only at the end of the file. */
function readAll(fd: number, into: Uint8Array, position: number): number {
  let got = 0;
  while (got < into.length) {
    const n = readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
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
