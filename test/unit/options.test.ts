import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../core/duration.ts';
import { InvalidOptionError } from '../../core/errors.ts';
import { DEFAULT_CLIENT_OPTIONS, resolveClientOptions } from '../../topologies/client.ts';
import { checkFaultSpec } from '../../topologies/faults.ts';
import { normalizeTopologyOptions } from '../../topologies/options.ts';

function errorOf(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidOptionError) return error;
    throw error;
  }
  throw new Error('expected an InvalidOptionError');
}

describe('topology options', () => {
  it('fills the documented defaults', () => {
    const sentinel = normalizeTopologyOptions({ kind: 'sentinel' });
    expect(sentinel).toMatchObject({
      kind: 'sentinel',
      replicas: 2,
      sentinels: 3,
      quorum: 2,
      downAfterMs: 1000,
      failoverTimeoutMs: 2000,
      persistence: 'none',
      backend: 'process',
    });
    const cluster = normalizeTopologyOptions({ kind: 'cluster' });
    expect(cluster).toMatchObject({ shards: 3, replicasPerShard: 1, nodeTimeoutMs: 1000 });
  });

  it('derives a majority quorum from the sentinel count', () => {
    expect(normalizeTopologyOptions({ kind: 'sentinel', sentinels: 5 })).toMatchObject({ quorum: 3 });
  });

  it.each([
    [{ kind: 'sentinel', sentinels: 0 }, 'sentinels', 0],
    [{ kind: 'sentinel', quorum: 4 }, 'quorum', 4],
    [{ kind: 'cluster', shards: 2 }, 'shards', 2],
    [{ kind: 'cluster', replicasPerShard: -1 }, 'replicasPerShard', -1],
    [{ kind: 'single', persistence: 'disk' }, 'persistence', 'disk'],
    [{ kind: 'single', bogus: 1 }, 'bogus', 1],
    [{ kind: 'sentinel', replicas: 1.5 }, 'replicas', 1.5],
  ])('rejects %j naming the field and the value', (input, field, received) => {
    const error = errorOf(() => normalizeTopologyOptions(input));
    expect(error.field).toBe(field);
    expect(error.received).toEqual(received);
    expect(error.message).toMatch(new RegExp(`^${field}: expected .+, got `));
  });

  it('rejects an unknown kind', () => {
    const error = errorOf(() => normalizeTopologyOptions({ kind: 'ring' }));
    expect(error.field).toBe('kind');
    expect(error.message).toContain("'ring'");
  });

  it("speaks the caller's names through the label", () => {
    const error = errorOf(() => normalizeTopologyOptions({ kind: 'cluster', shards: 1 }, (p) => `--${String(p[0])}`));
    expect(error.message).toMatch(/^--shards: expected an integer >= 3/);
  });
});

describe('durations', () => {
  it.each([
    ['1500', 1500],
    ['1500ms', 1500],
    ['1.5s', 1500],
    ['2m', 120_000],
    [250, 250],
  ])('%s is %d ms', (text, ms) => expect(parseDurationMs(text, 'x')).toBe(ms));

  it('names the field on garbage', () => {
    expect(() => parseDurationMs('soon', '--down-after')).toThrow("--down-after: expected a duration such as 500ms, 10s, 2m or 7d, got 'soon'");
  });
});

describe('fault specs', () => {
  it('defaults targets by action', () => {
    expect(checkFaultSpec({ action: 'restart' })).toEqual({ action: 'restart', target: 'killed' });
    expect(checkFaultSpec({ action: 'resume' })).toEqual({ action: 'resume', target: 'paused' });
    expect(checkFaultSpec({ action: 'kill' })).toEqual({ action: 'kill', target: 'primary' });
  });

  it('accepts shard and node targets', () => {
    expect(checkFaultSpec({ action: 'kill', target: 'shard-primary:2' }).target).toBe('shard-primary:2');
    expect(checkFaultSpec({ action: 'pause', target: 'sentinel-1' }).target).toBe('sentinel-1');
  });

  it('rejects unknown actions and targets', () => {
    expect(() => checkFaultSpec({ action: 'explode' as never })).toThrow(
      /fault.action: expected one of kill, pause, resume, restart, failover, partition, loss, delay, got 'explode'/,
    );
    expect(() => checkFaultSpec({ action: 'kill', target: 'the-big-one' })).toThrow(/fault.target: expected primary, replica/);
  });
});

describe('client options', () => {
  it('starts from the documented defaults and lets the caller override', () => {
    expect(resolveClientOptions()).toEqual(DEFAULT_CLIENT_OPTIONS);
    expect(resolveClientOptions({ failoverDetector: false, commandTimeout: 250 })).toMatchObject({
      failoverDetector: false,
      commandTimeout: 250,
      maxRetriesPerRequest: 1,
    });
  });

  it('rejects unknown and wrong options', () => {
    expect(() => resolveClientOptions({ commandTimeout: -1 })).toThrow(/client.commandTimeout: expected a number >= 0, got -1/);
    expect(() => resolveClientOptions({ retryForever: true } as never)).toThrow(/client.retryForever: expected no such field/);
  });
});
