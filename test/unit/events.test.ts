import { describe, expect, it } from 'vitest';
import { WaitTimeoutError } from '../../core/errors.ts';
import { EventLog } from '../../topologies/events.ts';

describe('EventLog', () => {
  it('replays the past to a late subscriber, then follows live events until closed', async () => {
    const log = new EventLog();
    log.push({ source: 'fault', type: 'kill', node: 'redis-0' });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of log) seen.push(e.type);
    })();
    log.push({ source: 'role', type: 'role-change', node: 'redis-1' });
    await new Promise((r) => setImmediate(r));
    log.close();
    await reading;
    expect(seen).toEqual(['kill', 'role-change']);
  });

  it('timestamps with the monotonic clock, in order', () => {
    const log = new EventLog();
    const a = log.push({ source: 'fault', type: 'kill' });
    const b = log.push({ source: 'fault', type: 'restart' });
    expect(b.ns >= a.ns).toBe(true);
  });

  it('waitFor finds a future event and only those after sinceNs', async () => {
    const log = new EventLog();
    const old = log.push({ source: 'role', type: 'role-change', node: 'redis-1' });
    const waiting = log.waitFor('redis-1 promoted', (e) => e.type === 'role-change', 1000, old.ns + 1n);
    const fresh = log.push({ source: 'role', type: 'role-change', node: 'redis-2' });
    await expect(waiting).resolves.toBe(fresh);
  });

  it('waitFor says what it waited for, the limit and the last event seen', async () => {
    const log = new EventLog();
    log.push({ source: 'sentinel', type: '+sdown', node: 'redis-0' });
    const error = await log.waitFor('+switch-master', (e) => e.type === '+switch-master', 50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toBe('+switch-master not reached after 50 ms; last seen: sentinel +sdown redis-0');
  });
});
