import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isAbortError, WaitTimeoutError } from './errors.ts';

describe('isAbortError', () => {
  it('knows what an aborted signal throws, directly or as a cause', async () => {
    const abort = new AbortController();
    abort.abort();
    const thrown = (() => {
      try {
        abort.signal.throwIfAborted();
      } catch (error) {
        return error;
      }
    })();
    expect(isAbortError(thrown)).toBe(true);
    expect(isAbortError(await sleep(10, undefined, { signal: abort.signal }).catch((error: unknown) => error))).toBe(true);
    expect(isAbortError(new Error('stopping the topology failed', { cause: thrown }))).toBe(true);
  });

  it('is not fooled by a failure of its own', () => {
    expect(isAbortError(new Error('The operation was aborted'))).toBe(false);
    expect(isAbortError(new WaitTimeoutError('redis-0 answering PING', 1000, 'ECONNREFUSED'))).toBe(false);
    expect(isAbortError('AbortError')).toBe(false);
    expect(isAbortError(undefined)).toBe(false);
  });
});
