import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadResult } from '../result/schema.ts';
import { ANSWER_COLUMNS, answerCells, strategyAnswers } from './strategy-answers.ts';

const suite = loadResult(fileURLToPath(new URL('./fixtures/default-suite.json', import.meta.url)));

describe('each strategy’s answer over the suite', () => {
  const answers = strategyAnswers(suite);

  it('has one row per strategy, each over all of its runs', () => {
    expect(answers.map((a) => [a.strategy, a.runs.length])).toEqual([
      ['pure', 3],
      ['blacklist', 3],
      ['whitelist', 3],
      ['double-token', 3],
    ]);
  });

  it('adds up the checkers’ counts of every run, by hand from the result', () => {
    for (const answer of answers) {
      let rejected = 0;
      let lost = 0;
      for (const run of suite.runs.filter((r) => r.label === answer.strategy)) {
        const c = run.checks['valid-rejected'].counts;
        rejected += c.storeUnavailable + c.entryLost + c.jwtOrClock + c.other;
        lost += run.checks['lost-revocations'].lost!.total;
      }
      expect(answer.validRejected).toBe(rejected);
      expect(answer.lost).toBe(lost);
    }
    const blacklist = answers.find((a) => a.strategy === 'blacklist')!;
    // The fixture: 0 on single, 621 on sentinel, 185 on cluster.
    expect(blacklist.validRejected).toBe(806);
    expect(blacklist.mostRejectedOn).toEqual({ where: 'sentinel', count: 621 });
  });

  it('names where the longest time without an answer was, and spans the steady latency over topologies', () => {
    const blacklist = answers.find((a) => a.strategy === 'blacklist')!;
    const runs = suite.runs.filter((r) => r.label === 'blacklist');
    const longest = Math.max(...runs.map((r) => r.checks.unavailability.figures.longestWindowMs));
    expect(blacklist.longestUnavailable.ms).toBe(longest);
    expect(blacklist.longestUnavailable.where).toBe('sentinel');
    const p99s = runs.map((r) => (r.latency.verify!.byPhase.steady ?? r.latency.verify!.all).p99);
    expect(blacklist.steadyP99).toEqual([Math.min(...p99s), Math.max(...p99s)]);
    const cells = answerCells(blacklist);
    expect(cells).toHaveLength(ANSWER_COLUMNS.length);
    expect(cells.slice(0, 5)).toEqual(['blacklist', 'valid (all 3 runs)', '0', '806 (most: sentinel 621)', '2.38 s (sentinel)']);
  });

  it('says where a strategy was not valid, and that an old result does not know its losses', () => {
    const copy = structuredClone(suite);
    copy.runs[9]!.verdict = { ...copy.runs[9]!.verdict, valid: false };
    copy.runs[5]!.checks['lost-revocations'].lost = null as never;
    const blacklist = strategyAnswers(copy).find((a) => a.strategy === 'blacklist')!;
    expect(blacklist.valid).toBe(false);
    expect(answerCells(blacklist).slice(1, 3)).toEqual(['invalid on cluster (invalid)', 'not known (old result)']);
  });
});
