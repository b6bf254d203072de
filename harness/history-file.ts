import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { TokenbenchError } from '../core/errors.ts';
import { HISTORY_WRITER_URL } from './engine-worker-url.ts';
import { type OsThreadIdSlot, ownHelperSlot, readOsThreadId } from './helper-threads.ts';
import type { Op } from './history.ts';
import { encodeOpLine, opLineBound } from './history-line.ts';
import { createRingBuffers, RingProducer } from './history-ring.ts';
import type { HistoryWriterData, HistoryWriterReply } from './history-writer-worker.ts';

const CHUNK_BYTES = 65_536;

/**
 * The history streams to disk as NDJSON, one op per line in completion order, so a long run's
 * memory does not grow with its length and the file can be re-checked later.
 */
export class HistoryWriter {
  readonly path: string;
  readonly #stream: WriteStream;
  count = 0;
  /** Lines are encoded straight into a 64 KiB buffer (see history-line.ts) and written one buffer at a time: one stream write per ~250 ops. */
  #buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  #used = 0;

  constructor(path: string) {
    this.path = path;
    this.#stream = createWriteStream(path, { flags: 'w' });
  }

  append(op: Op): void {
    this.count++;
    const bound = opLineBound(op);
    if (this.#used + bound > CHUNK_BYTES) {
      this.#flush();
      // Only a very long error message gets here.
      if (bound > CHUNK_BYTES) {
        this.#stream.write(`${JSON.stringify(op)}\n`);
        return;
      }
    }
    this.#used = encodeOpLine(op, this.#buffer, this.#used);
  }

  #flush(): void {
    if (this.#used === 0) return;
    // The stream keeps the buffer until the write completes: hand it over and start a new one.
    this.#stream.write(this.#buffer.subarray(0, this.#used));
    this.#buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    this.#used = 0;
  }

  #closed: Promise<void> | undefined;

  /** Idempotent: the runner closes on success and again in its cleanup. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#flush();
      this.#stream.end();
      if (!this.#stream.closed) await once(this.#stream, 'close');
    })();
    return this.#closed;
  }
}

/**
 * The same file as HistoryWriter writes, with the encoding and the writes on a thread of their own
 * (history-writer-worker.ts): `append` puts the op's fields into a shared ring (history-ring.ts) and
 * returns (HistoryDrain, history-ring.ts, says what the thread does while it is behind). For the
 * load engine, where the JSON line was the largest share of its own cost per op.
 * When the writer falls a whole ring behind, `append` blocks until it catches up: no op is dropped
 * and memory stays bounded. `close` returns once every op appended is in the file and the thread has
 * exited; a writer that failed (the file could not be written) rejects it with the reason.
 */
export class ThreadedHistoryWriter {
  readonly path: string;
  count = 0;
  readonly #producer: RingProducer;
  readonly #worker: Worker;
  readonly #large: MessagePort;
  readonly #exited: Promise<unknown>;
  readonly #osThreadId: OsThreadIdSlot;
  #failure: string | undefined;
  /**
   * Settles once the writer thread drains the ring, or has failed or exited (its error surfaces at
   * close). Until then appends only fill the ring: at the no-op ceiling its 16 MiB filled in ~100 ms
   * while the thread was still loading, and the engine waited for it in 50 ms slices.
   */
  readonly started: Promise<void>;

  /** `osThreadId`: where the thread publishes its OS id (an engine's helper ids, helper-threads.ts); a slot of its own by default. */
  constructor(path: string, ringBytes?: number, osThreadId: OsThreadIdSlot = ownHelperSlot()) {
    this.path = path;
    this.#osThreadId = osThreadId;
    const buffers = createRingBuffers(ringBytes);
    const { port1, port2 } = new MessageChannel();
    this.#large = port1;
    const data: HistoryWriterData = { path, buffers, large: port2, osThreadId };
    this.#worker = new Worker(HISTORY_WRITER_URL, { workerData: data, transferList: [port2] });
    let markStarted!: () => void;
    this.started = new Promise<void>((resolve) => (markStarted = resolve)).then(() => {
      // Not what keeps a process alive once it runs: close() does, until the file is complete.
      if (this.#closed === undefined) this.#worker.unref();
    });
    this.#worker.on('message', (reply: HistoryWriterReply) => {
      if (reply.type === 'failed') this.#failure = reply.error;
      markStarted();
    });
    this.#worker.on('error', (error) => {
      this.#failure ??= error.message;
      markStarted();
    });
    this.#exited = once(this.#worker, 'exit');
    void this.#exited.then(markStarted);
    this.#producer = new RingProducer(buffers, (op) => port1.postMessage(op));
  }

  append(op: Op): void {
    this.count++;
    this.#producer.append(op);
  }

  /** The writer thread's OS id, for its CPU time in /proc/self/task/<tid>/stat; undefined until it runs, once it has exited, or without /proc. */
  get osThreadId(): number | undefined {
    return readOsThreadId(this.#osThreadId);
  }

  /** How often `append` had to wait for the writer thread. */
  get waits(): number {
    return this.#producer.waits;
  }

  #closed: Promise<void> | undefined;

  /** Idempotent: the runner closes on success and again in its cleanup. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#worker.ref();
      this.#producer.close();
      await this.#exited;
      this.#large.close();
      if (this.#failure !== undefined) throw new TokenbenchError('ERR_HISTORY_FILE', `history file ${this.path} could not be written: ${this.#failure}`);
    })();
    return this.#closed;
  }
}

export async function* readHistory(path: string): AsyncGenerator<Op> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) if (line) yield JSON.parse(line) as Op;
}

/** The histories of several generators, merged in completion order (each file already is). */
export async function* mergeHistories(paths: string[]): AsyncGenerator<Op> {
  const iterators = paths.map((p) => readHistory(p)[Symbol.asyncIterator]());
  const heads = await Promise.all(iterators.map((it) => it.next()));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (!head.done && (best < 0 || head.value.completeMs < (heads[best]!.value as Op).completeMs)) best = i;
    }
    if (best < 0) return;
    yield heads[best]!.value as Op;
    heads[best] = await iterators[best]!.next();
  }
}
