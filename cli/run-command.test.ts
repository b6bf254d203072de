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
