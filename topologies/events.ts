import { WaitTimeoutError } from '../core/errors.ts';
import type { TopologyEvent } from './types.ts';

/**
 * Append-only record of what happened to a topology. Iterating replays the past and then follows
 * live events until close(), so a consumer that subscribes late misses nothing. Events come in the
 * order they were observed; `ns` is when they happened, which for a fault dated at its issue can
 * be earlier than events logged while it was being carried out: sort by `ns` for a timeline.
 */
export class EventLog implements AsyncIterable<TopologyEvent> {
  readonly #events: TopologyEvent[] = [];
  readonly #waiters = new Set<() => void>();
  #closed = false;

  push(event: Omit<TopologyEvent, 'ns'> & { ns?: bigint }): TopologyEvent {
    const full: TopologyEvent = { ns: event.ns ?? process.hrtime.bigint(), ...event } as TopologyEvent;
    if (this.#closed) return full;
    this.#events.push(full);
    this.#wake();
    return full;
  }

  snapshot(): readonly TopologyEvent[] {
    return [...this.#events];
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /** The first event (past or future) matching `predicate`; fails after `timeoutMs` naming `what`. */
  async waitFor(what: string, predicate: (e: TopologyEvent) => boolean, timeoutMs: number, sinceNs = 0n): Promise<TopologyEvent> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const iterator = this.#iterate(timeout);
    for await (const event of iterator) {
      if (event.ns >= sinceNs && predicate(event)) return event;
    }
    const last = this.#events.at(-1);
    throw new WaitTimeoutError(what, timeoutMs, last ? `${last.source} ${last.type} ${last.node ?? ''} ${last.detail ?? ''}`.trim() : 'no events');
  }

  [Symbol.asyncIterator](): AsyncIterator<TopologyEvent> {
    return this.#iterate()[Symbol.asyncIterator]();
  }

  async *#iterate(signal?: AbortSignal): AsyncGenerator<TopologyEvent> {
    let index = 0;
    for (;;) {
      while (index < this.#events.length) yield this.#events[index++]!;
      if (this.#closed || signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.#waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
