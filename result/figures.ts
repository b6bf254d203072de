import type { StrategyRunResult } from './schema.ts';

/**
 * The headline figures of a run, read from its checker results in one place so that a figure
 * means the same in the terminal table, the Markdown and HTML reports and `compare`.
 * null: that checker's result is not in the file.
 */
export interface HeadlineFigures {
  /** Revoked tokens accepted after an acknowledged revocation: within guarantee + fail-open + violations. */
  revokedAccepted: number | null;
  violations: number | null;
  validRejected: number | null;
  /** Lost at the final reconciliation, plus resurrected after a rejection. */
  lostRevocations: number | null;
  longestUnavailabilityMs: number | null;
}

export function sumOf(counts: Record<string, number> | undefined, keys: readonly string[]): number | null {
  return counts ? keys.reduce((total, key) => total + (counts[key] ?? 0), 0) : null;
}

export function headlineFigures(run: StrategyRunResult): HeadlineFigures {
  const revoked = run.checks['revoked-accepted']?.counts;
  return {
    revokedAccepted: sumOf(revoked, ['withinGuarantee', 'failOpen', 'violations']),
    violations: sumOf(revoked, ['violations']),
    validRejected: sumOf(run.checks['valid-rejected']?.counts, ['storeUnavailable', 'entryLost', 'jwtOrClock', 'other']),
    lostRevocations: sumOf(run.checks['lost-revocations']?.counts, ['lostAtReconciliation', 'resurrected']),
    longestUnavailabilityMs: run.checks.unavailability?.figures?.longestWindowMs ?? null,
  };
}
