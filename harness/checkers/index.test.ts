import { describe, expect, it } from 'vitest';
import { accept, reject, revoke, runInfo, token } from '../../test/support/history.ts';
import { CHECKERS, revokedAccepted, runCheckers, unavailability } from './index.ts';

describe('runCheckers', () => {
  const a = token('a');
  const history = [revoke(100, 110, a, { ackedByPort: 6379 }), reject(200, 201, a, 'ERR_REVOKED'), accept(300, 301, token('b'))];

  it('folds every checker over the history once and names each result', () => {
    const results = runCheckers(history, runInfo());
    expect(Object.keys(results)).toEqual(['revoked-accepted', 'valid-rejected', 'lost-revocations', 'propagation-lag', 'unavailability']);
    expect(results['revoked-accepted']).toMatchObject({ valid: true, counts: { checked: 1, rejected: 1 } });
    expect(results['valid-rejected']).toMatchObject({ valid: true, counts: { verdicts: 2 } });
    expect(results['propagation-lag']?.figures).toMatchObject({ maxMs: 0, count: 1 });
  });

  it('runs a chosen subset, from any iterable', () => {
    function* stream() {
      yield* history;
    }
    expect(Object.keys(runCheckers(stream(), runInfo(), [unavailability, revokedAccepted]))).toEqual(['unavailability', 'revoked-accepted']);
  });

  it('refuses a history out of completion order rather than judge it wrongly', () => {
    expect(() => runCheckers([...history].reverse(), runInfo())).toThrow(/out of completion order: op \d+ completed at 201 ms, after op \d+ at 301 ms/);
  });

  it('gives fresh state to every run', () => {
    runCheckers(history, runInfo());
    expect(runCheckers([], runInfo())['revoked-accepted']?.counts.checked).toBe(0);
  });

  it('every checker has its own name', () => {
    const names = CHECKERS.map((make) => make().name);
    expect(new Set(names).size).toBe(names.length);
  });
});
