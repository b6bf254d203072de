import type { Checks } from '../../result/checks.ts';
import type { Guarantee } from '../../strategies/types.ts';
import type { Checker, Op, RunInfo } from '../history.ts';
import { LogHistogram } from '../log-histogram.ts';
import { isVerdict, MAX_EXAMPLES, RevocationIndex, revocationOf, tokenOf } from './coverage.ts';

/**
 * Accepted verifies of revoked tokens, by how long after the ack they came. Whether an accept is
 * allowed depends on the guarantee, which is only known at result(); keeping every accept would
 * grow with the run, so they are binned 0.1% wide on a log scale from 1 us. A bin that straddles
 * the bound counts as within it: no violation is claimed without proof.
 */
class AcceptsAfterAck {
  readonly #bins = new LogHistogram({ ratio: 1.001, smallest: 0.001 });
  /** The accepts that came longest after their ack, exact: the examples, and the worst case. */
  readonly #latest: { elapsedMs: number; op: Op }[] = [];

  get total(): number {
    return this.#bins.count;
  }

  add(elapsedMs: number, op: Op): void {
    this.#bins.add(elapsedMs);
    if (this.#latest.length < MAX_EXAMPLES || elapsedMs > this.#latest[this.#latest.length - 1]!.elapsedMs) {
      this.#latest.push({ elapsedMs, op });
      this.#latest.sort((a, b) => b.elapsedMs - a.elapsedMs);
      this.#latest.length = Math.min(this.#latest.length, MAX_EXAMPLES);
    }
  }

  /** Accepts more than boundMs after their ack (every accept when boundMs is 0). */
  countBeyond(boundMs: number): number {
    return this.#bins.countFrom(boundMs);
  }

  examplesBeyond(boundMs: number): Op[] {
    return this.#latest.filter((a) => a.elapsedMs > boundMs).map((a) => a.op);
  }

  get longestMs(): number | null {
    return this.#latest[0]?.elapsedMs ?? null;
  }
}

/** How long after the ack an accept is still allowed. */
function allowedAfterAckMs(guarantee: Guarantee): number {
  if (guarantee === 'none') return Infinity;
  if (guarantee === 'immediate') return 0;
  return guarantee.boundedByMs;
}

/**
 * Security: a verify invoked after a covering revocation was acknowledged, that accepted the token.
 * Only acks count: an indeterminate (info) revocation may never have happened, and a revocation
 * still in flight when the verify started is concurrent with it, so either verdict is linearizable.
 */
export function revokedAccepted(): Checker<'revoked-accepted'> {
  const revocations = new RevocationIndex();
  const normalAccepts = new AcceptsAfterAck();
  const degradedAccepts = new AcceptsAfterAck();
  let checked = 0;
  let rejected = 0;
  let replays = 0;
  let afterIndeterminateRevocation = 0;

  return {
    name: 'revoked-accepted',

    observe(op: Op): void {
      const revocation = revocationOf(op);
      if (revocation) {
        if (revocation.type !== 'fail') revocations.add(revocation);
        return;
      }
      if (!isVerdict(op)) return;
      // The earliest ack is the one the verify is most overdue against.
      let earliestAckMs = Infinity;
      let afterIndeterminate = false;
      for (const r of revocations.coveringCompletedBefore(tokenOf(op), op.invokeMs)) {
        // revokeAlls come in invocation order: one invoked after the earliest ack cannot complete before it.
        if (r.kind === 'revokeAll' && r.invokeMs >= earliestAckMs) break;
        if (r.type === 'ok') earliestAckMs = Math.min(earliestAckMs, r.completeMs);
        else afterIndeterminate = true;
      }
      if (earliestAckMs === Infinity) {
        if (afterIndeterminate && op.accepted) afterIndeterminateRevocation++;
        return;
      }
      checked++;
      if (op.replay) replays++;
      if (!op.accepted) {
        rejected++;
        return;
      }
      (op.degraded ? degradedAccepts : normalAccepts).add(op.invokeMs - earliestAckMs, op);
    },

    result(run: RunInfo): Checks['revoked-accepted'] {
      const allowedMs = allowedAfterAckMs(run.guarantee);
      const violations = normalAccepts.countBeyond(allowedMs);
      const failOpen = degradedAccepts.countBeyond(allowedMs);
      const accepted = normalAccepts.total + degradedAccepts.total;
      const longest = [normalAccepts.longestMs, degradedAccepts.longestMs].filter((ms): ms is number => ms !== null);
      return {
        valid: checked === 0 ? 'unknown' : violations === 0,
        counts: {
          checked,
          rejected,
          accepted,
          withinGuarantee: accepted - violations - failOpen,
          failOpen,
          violations,
          replays,
          afterIndeterminateRevocation,
        },
        figures: {
          allowedAfterAckMs: Number.isFinite(allowedMs) ? allowedMs : null,
          longestAcceptAfterAckMs: longest.length > 0 ? Math.max(...longest) : null,
        },
        examples: [...normalAccepts.examplesBeyond(allowedMs), ...degradedAccepts.examplesBeyond(allowedMs)].slice(0, MAX_EXAMPLES),
      };
    },
  };
}
