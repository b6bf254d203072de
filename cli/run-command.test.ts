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
