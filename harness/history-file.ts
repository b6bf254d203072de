import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Op } from './history.ts';
import { encodeOpLine, opLineBound } from './history-line.ts';

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
