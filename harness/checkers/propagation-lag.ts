import type { Checks } from '../../result/checks.ts';
import type { Checker, Op, RunInfo } from '../history.ts';
import { isVerdict, MAX_EXAMPLES, percentile, type Revocation, RevocationIndex, revocationOf, tokenOf } from './coverage.ts';

interface AckedRevocation extends Revocation {
  verifiedAfterAck: boolean;
  lastAccept?: Op;
  lastVerdictAccepted: boolean;
}

/**
 * How long after its ack a revocation was still being ignored somewhere: per acknowledged
 * revocation, the last accepting verify of a covered token invoked after the ack. For an
 * immediate strategy that is replication or failover at work; for a bounded one it is the bound
 * in practice. Degraded verdicts say nothing about propagation (Redis did not answer), so they
 * are left out.
 */
export function propagationLag(): Checker<'propagation-lag'> {
  const index = new RevocationIndex<AckedRevocation>();
  const acked: AckedRevocation[] = [];

  return {
    name: 'propagation-lag',

    observe(op: Op): void {
      const revocation = revocationOf(op);
      if (revocation) {
        if (revocation.type !== 'ok') return;
        const tracked: AckedRevocation = { ...revocation, verifiedAfterAck: false, lastVerdictAccepted: false };
        index.add(tracked);
        acked.push(tracked);
        return;
      }
      if (!isVerdict(op) || op.degraded) return;
      for (const r of index.coveringCompletedBefore(tokenOf(op), op.invokeMs)) {
        r.verifiedAfterAck = true;
        // Completion order: the verdict observed last is the latest one.
        r.lastVerdictAccepted = op.accepted;
        if (op.accepted) r.lastAccept = op;
      }
    },

    result(run: RunInfo): Checks['propagation-lag'] {
      const lags: number[] = [];
      let unobserved = 0;
      let neverStable = 0;
      const examples: Op[] = [];
      for (const r of acked) {
        if (!r.verifiedAfterAck) {
          unobserved++;
          continue;
        }
        lags.push(r.lastAccept ? r.lastAccept.completeMs - r.completeMs : 0);
        if (r.lastVerdictAccepted) {
          neverStable++;
          if (examples.length < MAX_EXAMPLES && r.lastAccept) examples.push(r.lastAccept);
        }
      }
      lags.sort((a, b) => a - b);
      return {
        valid: !(run.guarantee === 'immediate' && neverStable > 0),
        counts: { count: lags.length, unobserved, neverStable, withLag: lags.filter((lag) => lag > 0).length },
        figures: { p50Ms: percentile(lags, 0.5), p99Ms: percentile(lags, 0.99), maxMs: lags.at(-1) ?? null, count: lags.length },
        examples,
      };
    },
  };
}
