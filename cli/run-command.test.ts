import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioFromFlags } from './run-command.ts';

describe('--strategy with a strategy module', () => {
  it('takes a path as a module against the cwd, module:<name> as a package, and a bare name as ours', () => {
    const scenario = scenarioFromFlags({ strategy: './team/denylist.mjs,module:@team/auth-bench,blacklist,team.js' });
    expect(scenario.strategies).toEqual([
      { module: join(process.cwd(), 'team', 'denylist.mjs') },
      { module: '@team/auth-bench' },
      'blacklist',
      { module: join(process.cwd(), 'team.js') },
    ]);
  });
});

describe('--server', () => {
  it('is a servers matrix of the names given, and replaces the file’s', () => {
    expect(scenarioFromFlags({ server: 'redis-server, valkey-server' }).servers).toEqual(['redis-server', 'valkey-server']);
    expect(scenarioFromFlags({}).servers).toBeUndefined();
    expect(() => scenarioFromFlags({ server: ',' })).toThrow(/^--server \(servers\): expected/);
  });
});

describe('--redis-conf', () => {
  it('adds its lines to every data node of every topology entry, after the file’s', () => {
    expect(scenarioFromFlags({ 'redis-conf': ['io-threads 2'] }).topology.extraConfig).toEqual(['io-threads 2']);
    const suite = scenarioFromFlags({ scenario: 'scenarios/default-suite.yaml', 'redis-conf': ['io-threads 2', 'maxmemory 64mb'] });
    expect(suite.topologies!.map((entry) => entry.topology.extraConfig)).toEqual(Array(3).fill(['io-threads 2', 'maxmemory 64mb']));
  });
});

describe('--shard and --start-at', () => {
  const redis = { redis: '127.0.0.1:6379' };
  const startAt = new Date(Date.now() + 60_000).toISOString();

  it('set load.shard and load.startAt', () => {
    const scenario = scenarioFromFlags({ ...redis, shard: '1/4', 'start-at': startAt });
    expect(scenario.load.shard).toEqual({ index: 1, count: 4 });
    expect(scenario.load.startAt).toBe(startAt);
  });

  it('a value that is not i/N, or out of range, is one line naming the flag', () => {
    expect(() => scenarioFromFlags({ ...redis, shard: 'two', 'start-at': startAt })).toThrow(
      "--shard: expected <index>/<count> with the index from 0, e.g. 0/4, got 'two'",
    );
    expect(() => scenarioFromFlags({ ...redis, shard: '4/4', 'start-at': startAt })).toThrow(
      '--shard (load.shard.index): expected an index from 0 to 3, got 4',
    );
    expect(() => scenarioFromFlags({ ...redis, shard: '0/2' })).toThrow(/^--start-at \(load\.startAt\): expected the shared start time/);
    expect(() => scenarioFromFlags({ shard: '0/2', 'start-at': startAt })).toThrow(/^--shard \(load\.shard\): expected the external backend/);
    expect(() => scenarioFromFlags({ ...redis, shard: '0/2', 'start-at': 'soon' })).toThrow(/^--start-at \(load\.startAt\): expected an ISO 8601 time/);
  });
});
