import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Op } from './history.ts';

/**
 * The history streams to disk as NDJSON, one op per line in completion order, so a long run's
 * memory does not grow with its length and the file can be re-checked later.
 */
export class HistoryWriter {
  readonly path: string;
  readonly #stream: WriteStream;
  count = 0;

  constructor(path: string) {
    this.path = path;
    this.#stream = createWriteStream(path, { flags: 'w' });
  }

  #buffer = '';

  /** Lines are batched: one stream write per 64 KiB instead of one per op (a visible cost at 50k ops/s). */
  append(op: Op): void {
    this.#buffer += `${JSON.stringify(op)}\n`;
    this.count++;
    if (this.#buffer.length >= 65_536) this.#flush();
  }

  #flush(): void {
    if (this.#buffer.length === 0) return;
    this.#stream.write(this.#buffer);
    this.#buffer = '';
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
