import type { AcrossInstances, Checks } from '../../result/checks.ts';
import type { Checker, Op, RunInfo } from '../history.ts';
import { isRevokedRejection, isVerdict, MAX_EXAMPLES, percentile, type Revocation, RevocationIndex, revocationOf, tokenOf } from './coverage.ts';

interface AckedRevocation extends Revocation {
  verifiedAfterAck: boolean;
  lastAccept?: Op;
  lastVerdictAccepted: boolean;
  /** Verifier instances' probes of it, by the instance's worker. */
  probedBy?: Map<number, ProbedPair>;
}

/** One revocation as one verifier instance saw it; times in run ms. */
interface ProbedPair {
  firstInvokeMs: number;
  firstRejectCompleteMs?: number;
  /** The last accepting probe invoked before the first rejection completed. */
  lastAcceptInvokeMs?: number;
}

/**
 * How long after its ack a revocation was still being ignored somewhere: per acknowledged
 * revocation, the last accepting verify of a covered token invoked after the ack. For an
 * immediate strategy that is replication or failover at work; for a bounded one it is the bound
 * in practice. Degraded verdicts say nothing about propagation (Redis did not answer), so they
 * are left out. With verifier instances (load.verifiers), their probes also give the lag across
 * instances, per revocation and instance, as in a fleet of gateways (acrossInstances).
 */
export function propagationLag(): Checker<'propagation-lag'> {
  const index = new RevocationIndex<AckedRevocation>();
  const acked: AckedRevocation[] = [];
  const probed: { revocation: AckedRevocation; pair: ProbedPair }[] = [];
  const probingWorkers = new Set<number>();
  let staleAccepts = 0;

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
      if (op.probe && op.f === 'verify') observeProbe(op);
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
        ...((run.verifiers ?? 0) > 0 || probingWorkers.size > 0 ? { acrossInstances: acrossInstances(run) } : {}),
      };
    },
  };

  /** A probe belongs to the single-token revocation of its jti acknowledged before it began (the earliest, if several). */
  function observeProbe(op: Op): void {
    let revocation: AckedRevocation | undefined;
    for (const r of index.coveringCompletedBefore(tokenOf(op), op.invokeMs)) {
      if (r.kind === 'revoke' && r.jti === op.jti && (!revocation || r.completeMs < revocation.completeMs)) revocation = r;
    }
    if (!revocation) return;
    probingWorkers.add(op.worker);
    revocation.probedBy ??= new Map();
    let pair = revocation.probedBy.get(op.worker);
    if (!pair) {
      pair = { firstInvokeMs: op.invokeMs };
      revocation.probedBy.set(op.worker, pair);
      probed.push({ revocation, pair });
    }
    pair.firstInvokeMs = Math.min(pair.firstInvokeMs, op.invokeMs);
    if (!isVerdict(op) || op.degraded) return;
    if (op.accepted) {
      staleAccepts++;
      if (pair.firstRejectCompleteMs === undefined || op.invokeMs < pair.firstRejectCompleteMs)
        pair.lastAcceptInvokeMs = Math.max(pair.lastAcceptInvokeMs ?? -Infinity, op.invokeMs);
    } else if (isRevokedRejection(op) && pair.firstRejectCompleteMs === undefined) {
      // Completion order: the first rejection observed is the first to complete.
      pair.firstRejectCompleteMs = op.completeMs;
    }
  }

  function acrossInstances(run: RunInfo): AcrossInstances {
    const upper: number[] = [];
    const lower: number[] = [];
    const relay: number[] = [];
    let neverRejected = 0;
    for (const { revocation, pair } of probed) {
      relay.push(pair.firstInvokeMs - revocation.completeMs);
      if (pair.firstRejectCompleteMs === undefined) {
        neverRejected++;
        continue;
      }
      upper.push(pair.firstRejectCompleteMs - revocation.completeMs);
      lower.push(pair.lastAcceptInvokeMs === undefined ? 0 : Math.max(0, pair.lastAcceptInvokeMs - revocation.completeMs));
    }
    for (const list of [upper, lower, relay]) list.sort((a, b) => a - b);
    return {
      instances: run.verifiers ?? probingWorkers.size,
      probes: probed.length,
      neverRejected,
      staleAccepts,
      p50Ms: percentile(upper, 0.5),
      p99Ms: percentile(upper, 0.99),
      maxMs: upper.at(-1) ?? null,
      lowerBound: { p50Ms: percentile(lower, 0.5), p99Ms: percentile(lower, 0.99), maxMs: lower.at(-1) ?? null },
      relayP50Ms: percentile(relay, 0.5),
      relayMaxMs: relay.at(-1) ?? null,
    };
  }
}
