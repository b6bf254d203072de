import type { CheckerFactory, CheckResult, Op, RunInfo } from '../history.ts';
import { lostRevocations } from './lost-revocations.ts';
import { propagationLag } from './propagation-lag.ts';
import { revokedAccepted } from './revoked-accepted.ts';
import { unavailability } from './unavailability.ts';
import { validRejected } from './valid-rejected.ts';

export { lostRevocations, propagationLag, revokedAccepted, unavailability, validRejected };

/** Every checker, in the order reports list them: security, availability, durability, timing. */
export const CHECKERS: readonly CheckerFactory[] = [revokedAccepted, validRejected, lostRevocations, propagationLag, unavailability];

/**
 * Folds every checker over the history in one pass. The ops must come in completion order (as the
 * history file stores them): checkers rely on it, so an op out of order is an error rather than a
 * silently wrong verdict.
 */
export function runCheckers(ops: Iterable<Op>, run: RunInfo, factories: readonly CheckerFactory[] = CHECKERS): Record<string, CheckResult> {
  const checkers = factories.map((make) => make());
  let previous: Op | undefined;
  for (const op of ops) {
    if (previous && op.completeMs < previous.completeMs) {
      throw new Error(`history out of completion order: op ${op.id} completed at ${op.completeMs} ms, after op ${previous.id} at ${previous.completeMs} ms`);
    }
    previous = op;
    for (const checker of checkers) checker.observe(op);
  }
  return Object.fromEntries(checkers.map((checker) => [checker.name, checker.result(run)]));
}
