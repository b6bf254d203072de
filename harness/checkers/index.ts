import type { Checks } from '../../result/checks.ts';
import type { Checker, Op, RunInfo } from '../history.ts';
import { mergeHistories } from '../history-file.ts';
import { lostRevocations } from './lost-revocations.ts';
import { propagationLag } from './propagation-lag.ts';
import { revokedAccepted } from './revoked-accepted.ts';
import { unavailability } from './unavailability.ts';
import { validRejected } from './valid-rejected.ts';

export { lostRevocations, propagationLag, revokedAccepted, unavailability, validRejected };

/** Given the run up front (the RunInfo result() gets), so a checker can split by client group as it streams. */
export type CheckerFactory = (run?: RunInfo) => Checker;

/** Every checker, in the order reports list them: security, availability, durability, timing. */
export const CHECKERS: readonly CheckerFactory[] = [revokedAccepted, validRejected, lostRevocations, propagationLag, unavailability];

/**
 * Every checker folded together. The ops must come in completion order (as the history file stores
 * them): checkers rely on it, so an op out of order is an error rather than a silently wrong verdict.
 */
function checkerFold(factories: readonly CheckerFactory[], run: RunInfo) {
  const checkers = factories.map((make) => make(run));
  let previous: Op | undefined;
  return {
    observe(op: Op): void {
      if (previous && op.completeMs < previous.completeMs) {
        throw new Error(`history out of completion order: op ${op.id} completed at ${op.completeMs} ms, after op ${previous.id} at ${previous.completeMs} ms`);
      }
      previous = op;
      for (const checker of checkers) checker.observe(op);
    },
    results(run: RunInfo): Partial<Checks> {
      return Object.fromEntries(checkers.map((checker) => [checker.name, checker.result(run)]));
    },
  };
}

/** Folds every checker (or the ones given) over the history in one pass. */
export function runCheckers(ops: Iterable<Op>, run: RunInfo): Checks;
export function runCheckers(ops: Iterable<Op>, run: RunInfo, factories: readonly CheckerFactory[]): Partial<Checks>;
export function runCheckers(ops: Iterable<Op>, run: RunInfo, factories: readonly CheckerFactory[] = CHECKERS): Partial<Checks> {
  const fold = checkerFold(factories, run);
  for (const op of ops) fold.observe(op);
  return fold.results(run);
}

/** The same over a stream (a history read from disk): memory stays bounded however long the run. */
export async function runCheckersOverStream(ops: AsyncIterable<Op>, run: RunInfo): Promise<Checks> {
  const fold = checkerFold(CHECKERS, run);
  for await (const op of ops) fold.observe(op);
  return fold.results(run) as Checks;
}

/** Checks the history files of a run (one per load generator), merged in completion order, streaming from disk. */
export function checkHistory(paths: string[], run: RunInfo): Promise<Checks> {
  return runCheckersOverStream(mergeHistories(paths), run);
}
