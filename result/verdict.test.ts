import { describe, expect, it } from 'vitest';
import { loadResult } from './schema.ts';
import { runVerdict, suiteVerdict } from './verdict.ts';

const single = loadResult(new URL('../reports/fixtures/single-quick.json', import.meta.url).pathname);

describe('verdicts', () => {
  it('valid when every checker is, with no reason given', () => {
    const [run] = single.runs;
    expect(runVerdict(run!.checks)).toEqual({ valid: true, reasons: [] });
  });

  it('invalid when a checker found a violation: one sentence per checker, with its figures', () => {
    const checks = structuredClone(single.runs[1]!.checks);
    checks['revoked-accepted'].valid = false;
    checks['revoked-accepted'].counts.violations = 3;
    checks['lost-revocations'].valid = false;
    checks['lost-revocations'].lost = {
      total: 2,
      byCause: { resurrected: 1, refreshAfterRevocation: 0, lostAtReconciliation: 1 },
      byAck: { ackedByFormerPrimary: 2, ackedByCurrentPrimary: 0, ackPortUnknown: 0 },
    };
    const verdict = runVerdict(checks);
    expect(verdict.valid).toBe(false);
    expect(verdict.reasons).toEqual([
      'revoked-accepted: 3 revoked tokens were accepted after the revocation was acknowledged, beyond what the strategy promises.',
      'lost-revocations: 2 acknowledged revocations did not hold (1 resurrected during the run, 0 refreshed after revocation, 1 accepted at reconciliation).',
    ]);
  });

  it('unknown when nothing could be checked; invalid wins over unknown', () => {
    const checks = structuredClone(single.runs[1]!.checks);
    checks['revoked-accepted'].valid = 'unknown';
    expect(runVerdict(checks)).toMatchObject({ valid: 'unknown', reasons: [expect.stringMatching(/^revoked-accepted: no revoked token was verified/)] });
    checks['propagation-lag'].valid = false;
    expect(runVerdict(checks).valid).toBe(false);
  });

  it("the suite's verdict counts runs and broken thresholds, each reason naming its run", () => {
    const runs = structuredClone(single.runs);
    runs[1]!.verdict = { valid: false, reasons: ['lost-revocations: 1 acknowledged revocation did not hold.'] };
    runs[2]!.thresholds = [{ metric: 'violations', limit: 0, unit: 'count', bound: 'max', measured: 1, ok: false, sentence: 'violations <= 0: 1 (broken)' }];
    const suite = suiteVerdict(runs);
    expect(suite).toMatchObject({ valid: false, runs: { valid: 3, invalid: 1, unknown: 0 }, thresholdsBroken: 1 });
    expect(suite.reasons).toEqual([
      'blacklist on single: lost-revocations: 1 acknowledged revocation did not hold.',
      'whitelist on single: threshold violations <= 0: 1 (broken)',
    ]);
  });
});
