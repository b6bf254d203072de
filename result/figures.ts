import type { StrategyRunResult } from './schema.ts';

/**
 * The headline figures of a run, computed once from its typed checker results, so that a figure
 * means the same in the terminal table, the Markdown and HTML reports, `compare` and `decide`.
 */
export interface HeadlineFigures {
  /** Revoked tokens accepted after an acknowledged revocation: within guarantee + fail-open + violations. */
  revokedAccepted: number;
  violations: number;
  /** Never-revoked, unexpired tokens rejected: store unavailable + entry lost + JWT or clock + other. */
  validRejected: number;
  /** Distinct tokens whose acknowledged revocation did not hold (each once); null: not known (a version 2 result with losses). */
  lostRevocations: number | null;
  longestUnavailabilityMs: number;
}

export function headlineFigures(run: Pick<StrategyRunResult, 'checks'>): HeadlineFigures {
  const { 'revoked-accepted': revoked, 'valid-rejected': rejected, 'lost-revocations': lost, unavailability } = run.checks;
  return {
    revokedAccepted: revoked.counts.withinGuarantee + revoked.counts.failOpen + revoked.counts.violations,
    violations: revoked.counts.violations,
    validRejected: rejected.counts.storeUnavailable + rejected.counts.entryLost + rejected.counts.jwtOrClock + rejected.counts.other,
    lostRevocations: lost.lost?.total ?? null,
    longestUnavailabilityMs: unavailability.figures.longestWindowMs,
  };
}

/** A client group's longest window without a definite verify answer. */
export interface SideUnavailability {
  group: string;
  longestWindowMs: number;
  longestWindowOpenAtEnd: boolean;
}

/**
 * The client group that went longest without a definite verify answer, when that is longer than
 * the run as a whole did: a side cut off by a network fault, hidden in the run-wide figure by the
 * groups that kept answering. undefined: no client groups, or none waited longer than the run.
 */
export function worstSideUnavailability(run: Pick<StrategyRunResult, 'checks'>): SideUnavailability | undefined {
  const { figures, bySide } = run.checks.unavailability;
  let worst: SideUnavailability | undefined;
  for (const [group, side] of Object.entries(bySide ?? {})) {
    if (side.longestWindowMs > (worst?.longestWindowMs ?? figures.longestWindowMs))
      worst = { group, longestWindowMs: side.longestWindowMs, longestWindowOpenAtEnd: side.longestWindowOpenAtEnd };
  }
  return worst;
}
