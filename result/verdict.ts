import { z } from 'zod';
import type { Checks } from './checks.ts';
import type { StrategyRunResult } from './schema.ts';
import type { ThresholdResult } from './thresholds.ts';

/**
 * A run's verdict from its checkers: invalid when one found a violation, unknown when one could
 * check nothing, valid otherwise; each reason one sentence with its figures. Thresholds and
 * anomalies are reported beside it, not folded in: a verdict says what the history proves.
 */
export const verdictSchema = z.strictObject({
  valid: z.union([z.boolean(), z.literal('unknown')]),
  /** Why it is not valid (or not known to be), one sentence per checker. Empty when valid. */
  reasons: z.array(z.string()),
});

export type Verdict = z.infer<typeof verdictSchema>;

const VERDICT_WORD = { true: 'valid', false: 'invalid', unknown: 'unknown' } as const;

/** `valid`, `invalid` or `unknown`, as every report prints a verdict. */
export function verdictWord(valid: boolean | 'unknown'): string {
  return VERDICT_WORD[String(valid) as keyof typeof VERDICT_WORD];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** One sentence per checker that found a violation, or could check nothing. */
function reasonsOf(checks: Checks): { invalid: string[]; unknown: string[] } {
  const invalid: string[] = [];
  const unknown: string[] = [];
  const revoked = checks['revoked-accepted'];
  if (revoked.valid === false) {
    invalid.push(
      `revoked-accepted: ${plural(revoked.counts.violations, 'revoked token was', 'revoked tokens were')} accepted after the revocation was acknowledged, beyond what the strategy promises.`,
    );
  } else if (revoked.valid === 'unknown')
    unknown.push('revoked-accepted: no revoked token was verified after its revocation was acknowledged, so nothing shows revocation works.');
  const rejected = checks['valid-rejected'];
  if (rejected.valid === false) {
    invalid.push(
      `valid-rejected: ${plural(rejected.counts.entryLost + rejected.counts.jwtOrClock, 'valid, never-revoked token was', 'valid, never-revoked tokens were')} rejected (${rejected.counts.entryLost} because an entry was lost, ${rejected.counts.jwtOrClock} by the JWT or clock checks).`,
    );
  }
  const lost = checks['lost-revocations'];
  if (lost.valid === false) {
    const parts = lost.lost
      ? ` (${lost.lost.byCause.resurrected} resurrected during the run, ${lost.lost.byCause.refreshAfterRevocation} refreshed after revocation, ${lost.lost.byCause.lostAtReconciliation} accepted at reconciliation)`
      : '';
    invalid.push(
      `lost-revocations: ${lost.lost ? plural(lost.lost.total, 'acknowledged revocation', 'acknowledged revocations') : 'acknowledged revocations'} did not hold${parts}.`,
    );
  } else if (lost.valid === 'unknown') unknown.push('lost-revocations: no acknowledged revocation was verified again, so nothing shows revocations survive.');
  const lag = checks['propagation-lag'];
  if (lag.valid === false)
    invalid.push(`propagation-lag: ${plural(lag.counts.neverStable, 'revocation was', 'revocations were')} still accepted by the last verify that saw it.`);
  return { invalid, unknown };
}

export function runVerdict(checks: Checks): Verdict {
  const { invalid, unknown } = reasonsOf(checks);
  if (invalid.length > 0) return { valid: false, reasons: [...invalid, ...unknown] };
  if (unknown.length > 0) return { valid: 'unknown', reasons: unknown };
  return { valid: true, reasons: [] };
}

export const suiteVerdictSchema = z.strictObject({
  valid: z.union([z.boolean(), z.literal('unknown')]),
  runs: z.strictObject({ valid: z.number(), invalid: z.number(), unknown: z.number() }),
  thresholdsBroken: z.number(),
  /** `<run>: <reason>` for every run that is not valid, and every threshold broken. */
  reasons: z.array(z.string()),
});

export type SuiteVerdict = z.infer<typeof suiteVerdictSchema>;

/** The whole result's verdict: invalid if any run is, unknown if any is and none invalid. */
export function suiteVerdict(runs: readonly Pick<StrategyRunResult, 'label' | 'topology' | 'verdict' | 'thresholds'>[]): SuiteVerdict {
  const count = (v: Verdict['valid']) => runs.filter((r) => r.verdict.valid === v).length;
  const counts = { valid: count(true), invalid: count(false), unknown: count('unknown') };
  const broken: ThresholdResult[][] = runs.map((r) => r.thresholds.filter((t) => !t.ok));
  const reasons = runs.flatMap((r, i) => [
    ...r.verdict.reasons.map((reason) => `${r.label} on ${r.topology.kind}: ${reason}`),
    ...broken[i]!.map((t) => `${r.label} on ${r.topology.kind}: threshold ${t.sentence}`),
  ]);
  return {
    valid: counts.invalid > 0 ? false : counts.unknown > 0 || runs.length === 0 ? 'unknown' : true,
    runs: counts,
    thresholdsBroken: broken.reduce((n, b) => n + b.length, 0),
    reasons,
  };
}
